"""Small numpy references shared by the tests."""

import keras
import numpy as np


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def set_weights(layer, **arrays):
    """Assign named weights of a built layer (by the variable's name)."""
    by_name = {w.name: w for w in layer.weights}
    for name, value in arrays.items():
        by_name[name].assign(np.asarray(value, dtype="float32"))


def run_until_line(command, marker):
    """Starts `command`, returns the running process once it has printed a line starting with
    `marker` (reading its output as it comes: an event, not a deadline). Raises if it ends
    first. The caller kills the process."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.lstrip().startswith(marker):
            return process
    process.wait()
    raise AssertionError(f"{command} ended before printing {marker!r}:\n{''.join(seen)[-3000:]}")
