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
