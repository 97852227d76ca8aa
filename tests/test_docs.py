"""The docs' Python examples run: every ```python block of a page, in order, in one fresh
interpreter per page (```py blocks are shown, not run: they need a trained run or a server)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


RUNNABLE = [page for page in PAGES if python_blocks(page)]


def test_the_docs_have_runnable_examples():
    names = {page.relative_to(ROOT / "docs").as_posix() for page in RUNNABLE}
    assert {"getting-started.md", "layers.md", "registry.md"} <= names


def test_the_block_finder_reads_only_python_fences():
    text = "```python\nx = 1\n```\n\n```py\nnot run\n```\n\n```bash\nls\n```\n"
    assert BLOCK.findall(text) == ["x = 1\n"]


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_pages_python_examples_run(page, tmp_path):
    code = "\n".join(python_blocks(page))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
