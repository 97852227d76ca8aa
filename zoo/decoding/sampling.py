"""Sampling from a decoder: temperature, top-k and nucleus (top-p), reproducible by seed.

One `keras.ops.while_loop`, like beam search, so it compiles on every backend. Each step draws
its token by inverting the filtered distribution's cumulative sum at one uniform number per
sentence; the numbers are drawn before the loop from `seed`, so the same seed gives the same
samples on a backend, however the loop is compiled.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID
from zoo.decoding.beam import DEAD, Decoded, max_output_length
from zoo.decoding.constraints import (
    NEG_INF,
    blocked_at,
    check_options,
    check_prefix,
    forced_at,
    never_emitted,
    repeated_ngrams,
    with_prefix,
)


def sample(
    model,
    source_ids,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    max_length_ratio: float = 1.5,
    max_length_offset: int = 10,
    return_attention: bool = True,
    *,
    min_length: int = 0,
    blocked_tokens: Sequence[int] = (),
    no_repeat_ngram_size: int = 0,
    prefix=None,
) -> Decoded:
    """One sampled output per source sentence.

    Args:
        model: An encoder-decoder following the protocol of `zoo.decoding`.
        source_ids: `int[batch, Ts]` source token ids, 0-padded (or what `encode` takes).
        temperature: Logits are divided by it before sampling (> 0; below 1 sharpens).
        top_k: Sample among the `top_k` most likely tokens only (0: all).
        top_p: Nucleus sampling: among the most likely tokens whose probabilities sum to
            `top_p` (the first always counts; 1.0: all).
        seed: The random seed; the same seed gives the same samples.
        max_length_ratio: Output length limit relative to the source length...
        max_length_offset: ...plus this many tokens (`</s>` included).
        return_attention: Whether to record the attention weights of every output token.
        min_length: Output tokens before `</s>` may come.
        blocked_tokens: Token ids never to emit (`</s>` cannot be blocked).
        no_repeat_ngram_size: N: no n-gram of N tokens appears twice in a sample. 0: off.
        prefix: `int[batch, P]` tokens every sample starts with (rows 0-padded), as in
            `beam_search`.

    Returns:
        A `Decoded` whose `log_prob` is the model's own log-probability of each sample (at
        temperature 1, unfiltered); `score` is the same.
    """
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0, received {temperature!r}.")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"`top_k` must be an integer >= 0 (0: all), received {top_k!r}.")
    if not 0 < top_p <= 1:
        raise ValueError(f"`top_p` must be in (0, 1], received {top_p!r}.")
    vocab_size = model.target_vocab_size
    blocked_tokens = check_options(vocab_size, min_length, blocked_tokens, no_repeat_ngram_size)
    if not isinstance(source_ids, dict):
        source_ids = ops.convert_to_tensor(source_ids, "int32")
    memory, memory_mask, state = model.encode(source_ids)
    batch = ops.shape(memory_mask)[0]
    source_steps = ops.shape(memory_mask)[1]
    limit = max_output_length(
        ops.sum(ops.cast(memory_mask, "int32"), axis=1), max_length_ratio, max_length_offset
    )
    steps = max_output_length(source_steps, max_length_ratio, max_length_offset)
    prefix = check_prefix(prefix, batch, vocab_size)
    limit, steps = with_prefix(prefix, limit, steps)
    draws = keras.random.uniform([steps, batch], seed=seed)
    never = never_emitted(vocab_size, blocked_tokens)
    rank = ops.arange(vocab_size)[None, :]

    def choose(logits, blocked, u):
        """The token at which the filtered distribution's cumulative sum passes `u`."""
        filtered = ops.where(blocked, NEG_INF, ops.cast(logits, "float32") / temperature)
        ordered, order = ops.top_k(filtered, vocab_size)  # most likely first
        probs = ops.softmax(ordered, axis=-1)
        keep = ordered > DEAD
        if top_k:
            keep = ops.logical_and(keep, rank < top_k)
        if top_p < 1:
            before = ops.cumsum(probs, axis=-1) - probs  # mass of the more likely tokens
            keep = ops.logical_and(keep, before < top_p)
        cdf = ops.cumsum(ops.where(keep, probs, 0.0), axis=-1)
        position = ops.sum(ops.cast(cdf <= (u * cdf[:, -1])[:, None], "int32"), axis=1)
        position = ops.minimum(position, ops.sum(ops.cast(keep, "int32"), axis=1) - 1)
        return ops.take_along_axis(order, position[:, None], axis=1)[:, 0]

    def cond(t, tokens, state, outputs, weights, log_prob, length, finished):
        return ops.logical_and(t < steps, ops.logical_not(ops.all(finished)))

    def body(t, tokens, state, outputs, weight_history, log_prob, length, finished):
        logits, state, weights = model.decode_step(tokens, state, memory, memory_mask)
        blocked = blocked_at(t, limit, never, vocab_size, min_length)
        if no_repeat_ngram_size:
            repeats = repeated_ngrams(outputs, t, no_repeat_ngram_size, vocab_size)
            blocked = ops.logical_or(blocked, repeats)
        if prefix is not None:
            blocked = forced_at(prefix, t, vocab_size, blocked)
        token = ops.cast(choose(logits, blocked, ops.take(draws, t, axis=0)), "int32")
        token = ops.where(finished, PAD_ID, token)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        chosen = ops.take_along_axis(log_probs, token[:, None], axis=1)[:, 0]
        log_prob = log_prob + ops.where(finished, 0.0, chosen)
        length = ops.where(finished, length, t + 1)
        at_t = ops.equal(ops.arange(steps), t)[None, :]
        outputs = ops.where(at_t, token[:, None], outputs)
        if return_attention:
            step = ops.where(finished[:, None], 0.0, ops.cast(weights, "float32"))
            weight_history = ops.scatter_update(weight_history, ops.reshape(t, [1, 1]), step[None])
        finished = ops.logical_or(finished, ops.equal(token, EOS_ID))
        return t + 1, token, state, outputs, weight_history, log_prob, length, finished

    loop_vars = (
        0,
        ops.full([batch], BOS_ID, "int32"),
        state,
        ops.zeros([batch, steps], "int32"),
        ops.zeros([steps if return_attention else 0, batch, source_steps], "float32"),
        ops.zeros([batch], "float32"),
        ops.zeros([batch], "int32"),
        ops.zeros([batch], "bool"),
    )
    _, _, _, outputs, weight_history, log_prob, length, _ = ops.while_loop(cond, body, loop_vars)
    return Decoded(
        tokens=outputs,
        log_prob=log_prob,
        attention=ops.transpose(weight_history, (1, 0, 2)) if return_attention else None,
        length=length,
        score=log_prob,
    )
