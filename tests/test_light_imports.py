"""`import zoo`, the layers, the models and decoding work with keras and JAX alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

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

INPUTS = {
    "translation": {"source": np.array([[5, 6, 7, 8], [9, 10, 0, 0]]),
                    "target_in": np.array([[2, 4, 5], [2, 6, 0]])},
    "classification": np.array([[5, 6, 7, 8], [9, 10, 0, 0]]),
    # the forecasters' default sizes: 96 steps of 7 features, 6 known ahead
    "forecasting": (np.ones((2, 96, 7), "float32"), np.ones((2, 5, 6), "float32")),
    "speech": {"audio": np.sin(np.arange(2 * 4000) / 5.0).reshape(2, 4000).astype("float32"),
               "audio_length": np.array([4000, 3000], "int32"),
               "target_in": np.array([[2, 4, 5], [2, 6, 0]])},
}
report = {"backend": keras.backend.backend(), "models": {}}
for name in zoo.list_models():
    model = zoo.get(name)
    output = model(INPUTS[zoo.spec(name).task])
    entry = {"output": list(output.shape)}
    if hasattr(model, "decode_step"):
        task = zoo.spec(name).task
        source = (INPUTS["translation"]["source"] if task == "translation" else
                  {k: v for k, v in INPUTS[task].items() if k != "target_in"})
        decoded = greedy_search(model, source, max_length_offset=3)
        entry["decoded"] = list(decoded.tokens.shape)
    report["models"][name] = entry
report["blocked_loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(report))
"""


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
    for name, entry in report["models"].items():
        if zoo.spec(name).task == "translation":
            assert entry["output"][:2] == [2, 3] and entry["decoded"][0] == 2
        elif zoo.spec(name).task == "forecasting":
            assert entry["output"] == [2, 5, 3]
        elif name == "lstm_las_asr":
            assert entry["output"][:2] == [2, 3] and entry["decoded"][0] == 2
        else:
            assert entry["output"][0] == 2
