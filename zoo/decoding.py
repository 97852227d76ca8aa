"""Greedy and beam-search decoding, in-graph, for any model with `encode` / `decode_step`.

The loop is a `keras.ops.while_loop`, so under `tf.function` (and in the exported SavedModel)
the whole search is one graph: no Python runs per step. Greedy search is beam search with a
beam of one, which picks the arg-max token at each step.

The model protocol (what `zoo.models.Seq2Seq` provides):
    `encode(source_ids) -> (memory [B, Ts, D], memory_mask [B, Ts], state: list of [B, ...])`
    `decode_step(tokens [B], state, memory, memory_mask) -> (logits [B, V], state, weights [B, Ts])`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID

NEG_INF = -1e9


@dataclass
class Decoded:
    """Result of a search, one best hypothesis per source sentence.

    Attributes:
        tokens: `int32[batch, max_length]`, ending with `</s>` then `<pad>` zeros.
        log_prob: `float32[batch]`, the hypothesis' summed token log-probabilities.
        attention: `float32[batch, max_length, Ts]`, the weights each output token used.
        length: `int32[batch]`, output tokens including `</s>`.
    """

    tokens: Any
    log_prob: Any
    attention: Any
    length: Any


def max_output_length(source_length, ratio: float, offset: int):
    """Longest output allowed for sources of `source_length` tokens: `ceil(ratio * n) + offset`."""
    return ops.cast(ops.ceil(ops.cast(source_length, "float32") * ratio), "int32") + offset


def beam_search(
    model,
    source_ids,
    beam_size: int = 4,
    length_penalty: float = 0.6,
    max_length_ratio: float = 1.5,
    max_length_offset: int = 10,
) -> Decoded:
    """Beam search with GNMT's length penalty `((5 + length) / 6) ** length_penalty`.

    Each step extends every live hypothesis by every token and keeps the `beam_size` best by
    summed log-probability; finished hypotheses (after `</s>`) carry on unchanged at no cost.
    Hypotheses are forced to end once they reach `ceil(max_length_ratio * source_length) +
    max_length_offset` tokens. The search stops when every hypothesis has ended; the best
    one by length-normalized score is returned.

    Args:
        model: An encoder-decoder following the protocol of this module.
        source_ids: `int[batch, Ts]` source token ids, 0-padded.
        beam_size: Hypotheses kept per sentence; 1 is greedy search.
        length_penalty: GNMT's alpha; 0 ranks by raw log-probability.
        max_length_ratio: Output length limit relative to the source length...
        max_length_offset: ...plus this many tokens.
    """
    if beam_size < 1:
        raise ValueError(f"`beam_size` must be >= 1, received beam_size={beam_size}.")
    source_ids = ops.convert_to_tensor(source_ids, "int32")
    batch = ops.shape(source_ids)[0]
    memory, memory_mask, state = model.encode(source_ids)
    vocab_size = model.target_vocab_size

    def tile(x):  # [B, ...] -> [B * K, ...], each sentence's K copies adjacent
        return ops.repeat(x, beam_size, axis=0)

    memory, memory_mask = tile(memory), tile(memory_mask)
    state = [tile(s) for s in state]
    source_length = ops.sum(ops.cast(memory_mask, "int32"), axis=1)
    limit = max_output_length(source_length, max_length_ratio, max_length_offset)
    steps = max_output_length(ops.shape(source_ids)[1], max_length_ratio, max_length_offset)
    rows = batch * beam_size

    # Only the first copy of each sentence is live at the start.
    first = ops.cast(ops.equal(ops.arange(beam_size), 0), "float32")
    scores = ops.reshape(ops.tile((1.0 - first)[None, :] * NEG_INF, [batch, 1]), [-1])
    tokens = ops.full([rows], BOS_ID, "int32")
    finished = ops.zeros([rows], "bool")
    length = ops.zeros([rows], "int32")
    history = ops.zeros([rows, steps], "int32")
    attention = ops.zeros([rows, steps, ops.shape(memory_mask)[1]], "float32")
    vocab = ops.arange(vocab_size)
    never = ops.logical_or(ops.equal(vocab, PAD_ID), ops.equal(vocab, BOS_ID))[None, :]
    only_pad = ops.where(ops.equal(vocab, PAD_ID), 0.0, NEG_INF)[None, :]
    only_eos = ops.where(ops.equal(vocab, EOS_ID), 0.0, NEG_INF)[None, :]
    offsets = ops.repeat(ops.arange(batch) * beam_size, beam_size)  # row of each beam's 1st

    def cond(t, tokens, scores, finished, length, history, attention, state):
        return ops.logical_and(t < steps, ops.logical_not(ops.all(finished)))

    def body(t, tokens, scores, finished, length, history, attention, state):
        logits, state, weights = model.decode_step(tokens, state, memory, memory_mask)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        log_probs = ops.where(never, NEG_INF, log_probs)  # padding and <s> are not outputs
        log_probs = ops.where((t + 1 >= limit)[:, None], only_eos, log_probs)
        log_probs = ops.where(finished[:, None], only_pad, log_probs)
        total = ops.reshape(scores[:, None] + log_probs, [batch, beam_size * vocab_size])
        top_scores, top_index = ops.top_k(total, beam_size)
        parent = ops.reshape(offsets, [batch, beam_size]) + top_index // vocab_size
        parent = ops.reshape(parent, [-1])
        new_tokens = ops.cast(ops.reshape(top_index % vocab_size, [-1]), "int32")

        def gather(x):
            return ops.take(x, parent, axis=0)

        was_finished = gather(finished)
        step = ops.cast(ops.equal(ops.arange(steps), t), "int32")  # one-hot time step
        history = gather(history) + step[None, :] * new_tokens[:, None]
        weights = ops.where(was_finished[:, None], 0.0, ops.cast(gather(weights), "float32"))
        attention = (
            gather(attention) + ops.cast(step, "float32")[None, :, None] * weights[:, None, :]
        )
        length = gather(length) + ops.cast(ops.logical_not(was_finished), "int32")
        finished = ops.logical_or(was_finished, ops.equal(new_tokens, EOS_ID))
        state = [gather(s) for s in state]
        return (
            t + 1,
            new_tokens,
            ops.reshape(top_scores, [-1]),
            finished,
            length,
            history,
            attention,
            state,
        )

    loop_vars = (0, tokens, scores, finished, length, history, attention, state)
    _, _, scores, _, length, history, attention, _ = ops.while_loop(cond, body, loop_vars)

    penalty = ops.power((5.0 + ops.cast(length, "float32")) / 6.0, length_penalty)
    ranked = ops.reshape(scores / penalty, [batch, beam_size])
    best = ops.argmax(ranked, axis=1) + ops.arange(batch) * beam_size
    return Decoded(
        tokens=ops.take(history, best, axis=0),
        log_prob=ops.take(scores, best, axis=0),
        attention=ops.take(attention, best, axis=0),
        length=ops.take(length, best, axis=0),
    )


def greedy_search(
    model, source_ids, max_length_ratio: float = 1.5, max_length_offset: int = 10
) -> Decoded:
    """Picks the most likely token at each step (beam search with a beam of one)."""
    return beam_search(
        model,
        source_ids,
        beam_size=1,
        length_penalty=0.0,
        max_length_ratio=max_length_ratio,
        max_length_offset=max_length_offset,
    )
