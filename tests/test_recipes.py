"""The recipes learn: each translation model reaches its target on held-out `dates`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_luong_nmt", "lstm_bahdanau_nmt"])
def test_attention_recipe_reaches_99_percent_exact_match(name, tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--runs-root", str(tmp_path)],
        check=True,
        timeout=1500,
        cwd=ROOT,
    )
    (run,) = (tmp_path / name).iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["exact_match"] >= 0.99, metrics


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_attention_classifier", "lstm_selfattn_classifier"])
def test_attention_classifier_recipe_reaches_77_percent_on_rt_polarity(name, tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--runs-root", str(tmp_path)],
        check=True,
        timeout=1800,
        cwd=ROOT,
    )
    (run,) = (tmp_path / name).iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.77, metrics
