"""A scan over time that stacks per-step outputs, fast on every backend.

`keras.ops.scan` on TensorFlow keeps the carry in `TensorArray`s (a read and a write of every
carry tensor at every step) and stacks only outputs shaped like the carry, so a decoder had to
carry its outputs too; that bookkeeping cost about as much as the step itself. On TensorFlow
this runs a plain `tf.while_loop` with the carry as loop variables, one `TensorArray` per
output and `maximum_iterations` set (which XLA needs to differentiate the loop). Other backends
use `keras.ops.scan` (`jax.lax.scan` on JAX), which stacks outputs of any structure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import ops


def scan_outputs(
    step: Callable[[Any, Any], tuple[Any, tuple]], carry: Any, xs: Any, dtypes: Sequence[str]
) -> tuple:
    """Runs `carry, ys = step(carry, x)` over the leading axis of `xs`; returns stacked `ys`.

    Args:
        step: `(carry, x_t) -> (new carry, ys_t)`, `ys_t` a tuple of tensors.
        carry: The initial carry (any structure of tensors).
        xs: Tensor `[T, ...]` scanned over its first axis.
        dtypes: The dtype of each output of `step`.

    Returns:
        The tuple of stacked outputs, each `[T, ...]`.
    """
    if keras.backend.backend() != "tensorflow":
        return ops.scan(step, carry, xs)[1]
    import tensorflow as tf  # only on the TensorFlow backend

    steps = tf.shape(xs)[0]
    arrays = tuple(tf.TensorArray(dtype, size=steps, infer_shape=True) for dtype in dtypes)

    def body(t, carry, arrays):
        carry, ys = step(carry, xs[t])
        return t + 1, carry, tuple(a.write(t, y) for a, y in zip(arrays, ys, strict=True))

    _, _, arrays = tf.while_loop(
        lambda t, *_: t < steps, body, (0, carry, arrays), maximum_iterations=steps
    )
    return tuple(a.stack() for a in arrays)
