"""Beam search compiled for the JAX and PyTorch backends (TensorFlow callers use
`tf.function`, as the export does)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from zoo.decoding.beam import Decoded, beam_search


def compiled_search(
    model, return_attention: bool = True, **search: Any
) -> Callable[[Any], Decoded]:
    """`beam_search(model, ...)` compiled for the JAX or PyTorch backend: a function from
    `int[batch, Ts]` source ids (numpy) to a `Decoded` of numpy arrays.

    TensorFlow callers wrap `beam_search` in `tf.function` themselves (a SavedModel traces it
    with the text ops around it). Under JAX the search is `jax.jit`-compiled; sources are
    padded to a multiple of 8 columns and batches to a power of two first, so a few shapes
    compile rather than one per batch (padding changes no answer: padded columns are masked
    and padded rows dropped). Under PyTorch it runs eagerly, without gradients.

    Args:
        model: An encoder-decoder following the protocol of this module.
        return_attention: Whether to record the attention weights of every output token.
        **search: `beam_search`'s settings (`beam_size`, `length_penalty`...).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        raise ValueError("On TensorFlow, wrap `beam_search` in `tf.function` instead.")

    def run(ids):
        out = beam_search(model, ids, return_attention=return_attention, **search)
        attention = out.attention if return_attention else ops.zeros_like(out.log_prob)
        return out.tokens, out.log_prob, out.length, attention, out.score

    run = backend_compiled(run)

    def decode(source_ids) -> Decoded:
        source_ids = np.asarray(source_ids, "int32")
        batch, columns = source_ids.shape
        if backend == "jax":
            source_ids = padded_for_compilation(source_ids)
        tokens, log_prob, length, attention, score = (
            ops.convert_to_numpy(x)[:batch] for x in run(source_ids)
        )
        return Decoded(
            tokens=tokens,
            log_prob=log_prob,
            attention=attention[..., :columns] if return_attention else None,
            length=length,
            score=score,
        )

    return decode


def padded_for_compilation(ids: np.ndarray) -> np.ndarray:
    """`int32[batch, columns]` ids padded with zeros to a power of two of rows and a multiple
    of 8 columns: the few shapes a `jax.jit`-compiled function compiles for."""
    batch, columns = ids.shape
    rows = 1 << max(batch - 1, 0).bit_length()  # the next power of two
    padded = np.zeros((rows, max(8, columns + -columns % 8)), "int32")
    padded[:batch, :columns] = ids
    return padded


def backend_compiled(function: Callable) -> Callable:
    """`function` as the backend runs it fast: `jax.jit`-compiled on JAX, eager without
    gradients on PyTorch (TensorFlow callers use `tf.function`)."""
    if keras.backend.backend() == "jax":
        import jax  # only on the JAX backend

        return jax.jit(function)
    return without_gradients(function)


def without_gradients(function: Callable) -> Callable:
    """`function` run under `torch.no_grad()` (the PyTorch backend)."""
    import torch  # only on the PyTorch backend

    def run(*args):
        with torch.no_grad():
            return function(*args)

    return run
