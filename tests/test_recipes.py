"""The recipes learn: each attention model reaches its target on its default data."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


TARGETS = {  # model: (metric in metrics.json, the value the recipe must reach)
    "lstm_luong_nmt": ("exact_match", 0.99),
    "lstm_bahdanau_nmt": ("exact_match", 0.99),
    "lstm_attention_classifier": ("accuracy", 0.77),
    "lstm_selfattn_classifier": ("accuracy", 0.77),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_attention_recipe_reaches_its_target(name, tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--runs-root", str(tmp_path)],
        check=True,
        timeout=1800,
        cwd=ROOT,
    )
    (run,) = (tmp_path / name).iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    metric, target = TARGETS[name]
    assert metrics[metric] >= target, metrics
