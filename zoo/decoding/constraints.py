"""What a search may not emit at a step: specials, tokens the user blocks, `</s>` before a
minimum length, anything but `</s>` at the length limit, tokens that would repeat an n-gram,
and anything but the next token of a prefix the user forces.

Each rule is a boolean mask over the vocabulary, built in `keras.ops` so that beam search and
sampling share them on every backend, inside their compiled loops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, UNK_ID

NEG_INF = -1e9  # the log-probability of what may not be chosen
# Never an output: padding and <s> are not words, and <unk> says nothing to a reader (the
# search takes the best real token instead; log-probabilities stay the model's own).
NEVER_EMITTED = (PAD_ID, BOS_ID, UNK_ID)


def check_options(
    vocab_size: int, min_length: int, blocked_tokens: Sequence[int], no_repeat_ngram_size: int
) -> tuple[int, ...]:
    """Refuses options no search can follow; returns the blocked ids as a tuple."""
    for name, value in (("min_length", min_length), ("no_repeat_ngram_size", no_repeat_ngram_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` must be an integer >= 0, received {name}={value!r}.")
    if no_repeat_ngram_size == 1:
        raise ValueError(
            "`no_repeat_ngram_size=1` would forbid every token to appear twice; use 2 or more "
            "(0: off)."
        )
    blocked = tuple(blocked_tokens)
    for token in blocked:
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < vocab_size:
            raise ValueError(
                f"A blocked token must be an id in [0, {vocab_size}), received {token!r}."
            )
        if token == EOS_ID:
            raise ValueError(
                "`</s>` cannot be blocked (every hypothesis must end); to make outputs longer, "
                "set `min_length`."
            )
    return blocked


def never_emitted(vocab_size: int, blocked_tokens: Sequence[int] = ()):
    """`bool[1, vocab_size]`: the specials and the user's blocked tokens."""
    vocab = ops.arange(vocab_size)
    ids = (*NEVER_EMITTED, *blocked_tokens)
    return ops.any(ops.stack([ops.equal(vocab, i) for i in ids]), axis=0)[None, :]


def blocked_at(t, limit, never, vocab_size: int, min_length: int = 0):
    """`bool[rows, vocab_size]`: what may not follow at step `t` (0-based; the token written
    there is the hypothesis' `t + 1`-th). At the row's length `limit` only `</s>` remains;
    before `min_length` tokens, `</s>` may not come (the limit wins over the minimum)."""
    is_eos = ops.equal(ops.arange(vocab_size), EOS_ID)[None, :]
    at_limit = (t + 1 >= limit)[:, None]
    blocked = ops.logical_or(never, ops.logical_and(at_limit, ops.logical_not(is_eos)))
    if min_length:
        too_short = ops.logical_and(t < min_length, ops.logical_not(at_limit))
        blocked = ops.logical_or(blocked, ops.logical_and(too_short, is_eos))
    return blocked


def repeated_ngrams(sequences, t, n: int, vocab_size: int):
    """`bool[rows, vocab_size]`: the tokens that would end an n-gram the row already holds.

    Args:
        sequences: `int[rows, steps]`, each row's tokens so far (positions `< t` are real).
        t: The step about to be written.
        n: The n-gram size (>= 2).
    """
    rows, steps = ops.shape(sequences)[0], ops.shape(sequences)[1]
    windows = steps - n + 1  # n-gram start positions; static
    if windows <= 0:
        return ops.zeros([rows, vocab_size], "bool")
    # The last n - 1 tokens, which the next token would extend into an n-gram.
    suffix_at = ops.clip(t - n + 1 + ops.arange(n - 1), 0, steps - 1)
    suffix = ops.take(sequences, suffix_at, axis=1)
    match = ops.ones([rows, windows], "bool")
    for j in range(n - 1):
        match = ops.logical_and(
            match, ops.equal(sequences[:, j : j + windows], suffix[:, j : j + 1])
        )
    # An n-gram starting at p is complete (all n tokens written) if p + n - 1 < t.
    match = ops.logical_and(match, (ops.arange(windows) <= t - n)[None, :])
    follows = sequences[:, n - 1 : n - 1 + windows]
    # Scatter the banned tokens; unmatched windows write to a spare column, dropped after.
    column = ops.where(match, follows, vocab_size)
    row = ops.repeat(ops.arange(rows)[:, None], windows, axis=1)
    index = ops.reshape(ops.stack([row, column], axis=-1), [-1, 2])
    hits = ops.scatter(index, ops.ones([rows * windows], "float32"), [rows, vocab_size + 1])
    return hits[:, :vocab_size] > 0


def check_prefix(prefix, batch, vocab_size: int):
    """`prefix` as `int32[batch, P]` (0-padded rows), or `None`; arrays and lists are checked
    (a tensor is taken as it is: it may be a traced one)."""
    if prefix is None:
        return None
    if isinstance(prefix, (list, tuple, np.ndarray)):
        values = np.asarray(prefix)
        if values.ndim != 2 or not (values.size == 0 or np.issubdtype(values.dtype, np.integer)):
            raise ValueError(
                "`prefix` must be integer token ids [batch, P] (0-padded rows), received an "
                f"array of shape {values.shape} and dtype {values.dtype}."
            )
        bad = values[(values < 0) | (values >= vocab_size) | (values == BOS_ID)]
        if bad.size:
            raise ValueError(
                f"A prefix token must be an output id in [0, {vocab_size}) other than `<s>` "
                f"(the search starts with it), received {int(bad[0])}."
            )
        if isinstance(batch, int) and values.shape[0] != batch:
            raise ValueError(
                f"`prefix` has {values.shape[0]} rows for a batch of {batch} sources: give one "
                "row per source (0-padded)."
            )
        if values.shape[1] == 0:
            return None
        prefix = values.astype("int32")
    return ops.cast(prefix, "int32")


def with_prefix(prefix, limit, steps):
    """The length limit per row and the loop's step count, raised where needed so that a
    prefix and a `</s>` after it fit."""
    if prefix is None:
        return limit, steps
    needed = ops.shape(prefix)[1] + 1
    if isinstance(steps, int) and isinstance(needed, int):
        steps = max(steps, needed)
    else:
        steps = ops.maximum(steps, needed)
    return ops.maximum(limit, prefix_length(prefix) + 1), steps


def prefix_length(prefix):
    """`int32[rows]`: the real (non-padding) tokens of each row's prefix."""
    return ops.sum(ops.cast(ops.not_equal(prefix, PAD_ID), "int32"), axis=1)


def forced_at(prefix, t, vocab_size: int, blocked):
    """`blocked` where a row's prefix has no token at step `t`; elsewhere everything but that
    token (the user's prefix wins over every other rule)."""
    steps = ops.shape(prefix)[1]
    token = ops.take(prefix, ops.minimum(t, steps - 1), axis=1)  # [rows]
    forcing = ops.logical_and(t < steps, ops.not_equal(token, PAD_ID))
    others = ops.not_equal(ops.arange(vocab_size)[None, :], token[:, None])
    return ops.where(forcing[:, None], others, blocked)
