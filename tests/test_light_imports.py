"""`import zoo`, the layers, the models and decoding work with keras and JAX alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

# Runs in a fresh interpreter where the TensorFlow stack and the other training-time
# dependencies cannot be imported at all, as on a machine with only keras and jax.
SCRIPT = """
import sys

BLOCKED = {"tensorflow", "tensorflow_text", "keras_tuner", "sacrebleu", "babel", "matplotlib"}


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None


sys.meta_path.insert(0, Blocker())

import json
import numpy as np
import keras
import zoo
from zoo.decoding import greedy_search
from zoo.layers import BahdanauAttention, LuongAttention, SelfAttention, StructuredSelfAttention
from zoo.tasks import task_examples

report = {"backend": keras.backend.backend(), "models": {}}
for name in zoo.list_models():
    examples = task_examples(zoo.spec(name).task)
    model = zoo.get(name, **examples.TINY_MODEL)
    batch = examples.example_batch()
    output = model(batch)
    expected = examples.output_shape(model.get_config())
    entry = {"output": list(output.shape), "expected": list(expected)}
    if hasattr(model, "decode_step"):
        decoded = greedy_search(model, examples.search_inputs(batch), max_length_offset=3)
        entry["decoded"] = list(decoded.tokens.shape)
    report["models"][name] = entry
report["blocked_loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(report))
"""


@pytest.mark.slow(seconds=55)  # the default run stays short
def test_zoo_builds_runs_and_decodes_without_tensorflow():
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == "jax"
    assert report["blocked_loaded"] == []
    import zoo

    assert sorted(report["models"]) == zoo.list_models()
    for entry in report["models"].values():
        assert entry["output"] == entry["expected"]
        assert entry.get("decoded", [2])[0] == 2
