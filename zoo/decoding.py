"""Greedy and beam-search decoding, in-graph, for any model with `encode` / `decode_step`.

The search is one `keras.ops.while_loop`, so under `tf.function` (and in the exported
SavedModel) no Python runs per step, and it runs unchanged on the JAX and PyTorch backends.

Beam search follows fairseq / tensor2tensor: at each step the `beam_size` live hypotheses are
chosen from the `2 * beam_size` best extensions that do not end; extensions that end (`</s>`)
go to a separate pool of finished hypotheses, compared by length-normalized score, so a
finished hypothesis never takes a live one's slot. A hypothesis that reaches the length limit
must end, and pays the real log-probability of its `</s>`. The search stops when no live
hypothesis can still beat the best finished one. Each step records only the chosen tokens and
their parents; the best hypothesis is traced back once at the end.

The model protocol (what `zoo.models.Seq2Seq` and `zoo.models.ListenAttendSpell` provide):
    `encode(source) -> (memory, memory_mask [B, Ts], state: list of [B, ...])`, where
        `memory` is any structure (tensor, dict...) of `[B, Ts, ...]` tensors
    `decode_step(tokens [B], state, memory, memory_mask) -> (logits [B, V], state, weights [B, Ts])`
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, UNK_ID

NEG_INF = -1e9  # the log-probability of what may not be chosen
# Never an output: padding and <s> are not words, and <unk> says nothing to a reader (the
# search takes the best real token instead; log-probabilities stay the model's own).
NEVER_EMITTED = (PAD_ID, BOS_ID, UNK_ID)
DEAD = NEG_INF / 2  # scores below this belong to no real hypothesis
NO_SCORE = -1e30  # the score of "no finished hypothesis yet"


@dataclass
class Decoded:
    """Result of a search, one best hypothesis per source sentence.

    Attributes:
        tokens: `int32[batch, max_length]`, ending with `</s>` then `<pad>` zeros.
        log_prob: `float32[batch]`, the hypothesis' summed token log-probabilities.
        attention: `float32[batch, max_length, Ts]`, the weights each output token used
            (`None` unless asked for).
        length: `int32[batch]`, output tokens including `</s>`.
    """

    tokens: Any
    log_prob: Any
    attention: Any
    length: Any


def max_output_length(source_length, ratio: float, offset: int):
    """Longest output allowed for sources of `source_length` tokens: `ceil(ratio * n) + offset`."""
    if isinstance(source_length, int):
        return math.ceil(source_length * ratio) + offset
    return ops.cast(ops.ceil(ops.cast(source_length, "float32") * ratio), "int32") + offset


def length_penalty_of(length, alpha: float):
    """GNMT's length penalty `((5 + length) / 6) ** alpha`."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


def beam_search(
    model,
    source_ids,
    beam_size: int = 4,
    length_penalty: float = 0.6,
    max_length_ratio: float = 1.5,
    max_length_offset: int = 10,
    return_attention: bool = True,
) -> Decoded:
    """Beam search ranking finished hypotheses by `log_prob / ((5 + length) / 6) ** alpha`.

    Args:
        model: An encoder-decoder following the protocol of this module.
        source_ids: `int[batch, Ts]` source token ids, 0-padded (or whatever the model's
            `encode` takes, e.g. a recognizer's dict of audio).
        beam_size: Hypotheses kept per sentence; 1 is greedy search (the arg-max token at
            each step).
        length_penalty: GNMT's alpha; 0 ranks by raw log-probability.
        max_length_ratio: Output length limit relative to the source length...
        max_length_offset: ...plus this many tokens (`</s>` included).
        return_attention: Whether to record the attention weights of every output token.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"`beam_size` must be an integer >= 1, received beam_size={beam_size}.")
    if not isinstance(source_ids, dict):  # token ids; a recognizer's audio comes as a dict
        source_ids = ops.convert_to_tensor(source_ids, "int32")
    memory, memory_mask, state = model.encode(source_ids)
    batch = ops.shape(memory_mask)[0]
    vocab_size = model.target_vocab_size
    k = beam_size
    candidates = 1 if k == 1 else 2 * k  # greedy: only the arg-max extension
    rows = batch * k
    source_steps = ops.shape(memory_mask)[1]

    def tile(x):  # [B, ...] -> [B * K, ...], each sentence's K copies adjacent
        return ops.repeat(x, k, axis=0)

    memory = keras.tree.map_structure(tile, memory)
    memory_mask = tile(memory_mask)
    state = [tile(s) for s in state]
    source_length = ops.sum(ops.cast(memory_mask, "int32"), axis=1)
    limit = max_output_length(source_length, max_length_ratio, max_length_offset)  # per row
    steps = max_output_length(source_steps, max_length_ratio, max_length_offset)
    limit_penalty = ops.reshape(length_penalty_of(limit, length_penalty), [batch, k])[:, 0]

    vocab = ops.arange(vocab_size)
    never = ops.any(ops.stack([ops.equal(vocab, i) for i in NEVER_EMITTED]), axis=0)[None, :]
    not_eos_token = ops.not_equal(vocab, EOS_ID)[None, :]
    # GNMT's penalty of a hypothesis that ends at step t (length t + 1), looked up per step.
    step_penalty = length_penalty_of(ops.arange(1, steps + 1), length_penalty)
    first_row = ops.arange(batch) * k  # row of each sentence's first hypothesis
    # Start of each sentence's candidates in a flattened [batch * candidates]: picking one
    # per sentence is then one gather (Keras' take_along_axis costs a dozen ops on TF).
    candidate_offset = (ops.arange(batch) * candidates)[:, None]

    def pick(values, index):  # values [batch, candidates], index [batch, n] -> [batch, n]
        return ops.take(ops.reshape(values, [-1]), index + candidate_offset)

    # Only the first copy of each sentence is live at the start.
    first = ops.cast(ops.equal(ops.arange(k), 0), "float32")
    scores = ops.reshape(ops.tile((1.0 - first)[None, :] * NEG_INF, [batch, 1]), [-1])
    tokens = ops.full([rows], BOS_ID, "int32")
    token_history = ops.zeros([steps, rows], "int32")
    parent_history = ops.zeros([steps, rows], "int32")
    weight_history = ops.zeros([steps if return_attention else 0, rows, source_steps], "float32")
    best_score = ops.full([batch], NO_SCORE, "float32")  # length-normalized
    best_log_prob = ops.zeros([batch], "float32")
    best_step = ops.zeros([batch], "int32")  # where the best finished hypothesis put </s>
    best_row = ops.zeros([batch], "int32")  # the live row it extended

    def done(t, scores, best_score):
        """Per sentence: no live hypothesis can still beat the best finished one."""
        live_best = ops.max(ops.reshape(scores, [batch, k]), axis=1)
        # A live score can only fall and its penalty can grow at most to the limit's.
        bound = live_best / limit_penalty
        return ops.logical_or(best_score >= bound, live_best < DEAD)

    def cond(t, tokens, scores, state, token_history, parent_history, weight_history, *best):
        return ops.logical_and(t < steps, ops.logical_not(ops.all(done(t, scores, best[0]))))

    def body(t, tokens, scores, state, token_history, parent_history, weight_history, *best):
        best_score, best_log_prob, best_step, best_row = best
        logits, state, weights = model.decode_step(tokens, state, memory, memory_mask)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        # At the length limit only </s> remains, at its real log-probability.
        at_limit = (t + 1 >= limit)[:, None]
        blocked = ops.logical_or(never, ops.logical_and(at_limit, not_eos_token))
        log_probs = ops.where(blocked, NEG_INF, log_probs)
        total = ops.reshape(scores[:, None] + log_probs, [batch, k * vocab_size])
        cand_scores, cand_index = ops.top_k(total, candidates)
        cand_index = ops.cast(cand_index, "int32")  # beam * vocab_size + token
        cand_eos = ops.equal(cand_index % vocab_size, EOS_ID)

        # Finished pool: the best ending extension of this step against the best so far.
        normalized = cand_scores / ops.take(step_penalty, t)
        ending = ops.where(cand_eos, normalized, NO_SCORE)
        end = ops.cast(ops.argmax(ending, axis=1), "int32")[:, None]
        end_score = ops.max(ending, axis=1)
        better = end_score > best_score
        end_log_prob = pick(cand_scores, end)[:, 0]
        end_beam = pick(cand_index, end)[:, 0] // vocab_size
        best = (
            ops.where(better, end_score, best_score),
            ops.where(better, end_log_prob, best_log_prob),
            ops.where(better, t, best_step),
            ops.where(better, first_row + end_beam, best_row),
        )

        # Live hypotheses: the best K extensions that do not end.
        if candidates == k:  # greedy: the arg-max continues unless it ended
            live_scores = ops.where(cand_eos, 2 * NEG_INF, cand_scores)
            live_index = cand_index
        else:
            live_scores, chosen = ops.top_k(ops.where(cand_eos, 2 * NEG_INF, cand_scores), k)
            live_index = pick(cand_index, ops.cast(chosen, "int32"))
        live_beam, live_token = live_index // vocab_size, live_index % vocab_size
        parents = ops.reshape(first_row[:, None] + live_beam, [-1])
        new_tokens = ops.reshape(live_token, [-1])
        at_t = ops.reshape(t, [1, 1])
        token_history = ops.scatter_update(token_history, at_t, new_tokens[None])
        parent_history = ops.scatter_update(parent_history, at_t, parents[None])
        if return_attention:
            step_weights = ops.cast(weights, "float32")[None]
            weight_history = ops.scatter_update(weight_history, at_t, step_weights)
        state = [ops.take(s, parents, axis=0) for s in state]
        return (
            t + 1,
            new_tokens,
            ops.reshape(live_scores, [-1]),
            state,
            token_history,
            parent_history,
            weight_history,
            *best,
        )

    loop_vars = (
        0,
        tokens,
        scores,
        state,
        token_history,
        parent_history,
        weight_history,
        best_score,
        best_log_prob,
        best_step,
        best_row,
    )
    out = ops.while_loop(cond, body, loop_vars)
    token_history, parent_history, weight_history = out[4:7]
    _, best_log_prob, best_step, best_row = out[7:]
    # Only the steps the search ran (it stops early) are traced back.
    tokens, attention = _trace_back(
        token_history, parent_history, weight_history, best_step, best_row, steps, out[0],
        return_attention,
    )  # fmt: skip
    return Decoded(
        tokens=tokens,
        log_prob=best_log_prob,
        attention=attention if return_attention else None,
        length=best_step + 1,
    )


def _trace_back(
    token_history, parent_history, weight_history, end_step, end_row, steps, ran, with_weights
):
    """Tokens `[B, steps]` (and weights `[B, steps, Ts]`) of hypotheses that put `</s>` at
    `end_step`, extending live row `end_row`, followed from the end to the start. Only the
    `ran` steps the search ran are visited (`end_step < ran`); the rest stays padding."""
    batch = ops.shape(end_step)[0]
    tokens = ops.zeros([steps, batch], "int32")
    weights = ops.zeros([steps if with_weights else 0, batch, ops.shape(weight_history)[2]])

    def step(i, carry):
        row, tokens, weights = carry
        s = ran - 1 - i
        before_end = s < end_step
        at_s = ops.reshape(s, [1, 1])
        # The row whose decode step produced position s: the parent of `row` before the end,
        # `end_row` itself at the end.
        producer = ops.where(before_end, ops.take(ops.take(parent_history, s, axis=0), row), row)
        token = ops.take(ops.take(token_history, s, axis=0), row)
        token = ops.where(before_end, token, ops.where(ops.equal(s, end_step), EOS_ID, PAD_ID))
        tokens = ops.scatter_update(tokens, at_s, token[None])
        if with_weights:
            produced = ops.take(ops.take(weight_history, s, axis=0), producer, axis=0)
            produced = ops.where((s <= end_step)[:, None], produced, 0.0)
            weights = ops.scatter_update(weights, at_s, produced[None])
        return producer, tokens, weights

    _, tokens, weights = ops.fori_loop(0, ran, step, (end_row, tokens, weights))
    return ops.transpose(tokens, (1, 0)), ops.transpose(weights, (1, 0, 2))


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
        return out.tokens, out.log_prob, out.length, attention

    if backend == "jax":
        import jax  # only on the JAX backend

        run = jax.jit(run)
    else:
        run = _without_gradients(run)

    def decode(source_ids) -> Decoded:
        source_ids = np.asarray(source_ids, "int32")
        batch, columns = source_ids.shape
        if backend == "jax":
            rows = 1 << max(batch - 1, 0).bit_length()  # the next power of two
            padded = np.zeros((rows, max(8, columns + -columns % 8)), "int32")
            padded[:batch, :columns] = source_ids
            source_ids = padded
        tokens, log_prob, length, attention = (
            ops.convert_to_numpy(x)[:batch] for x in run(source_ids)
        )
        return Decoded(
            tokens=tokens,
            log_prob=log_prob,
            attention=attention[:, :, :columns] if return_attention else None,
            length=length,
        )

    return decode


def _without_gradients(function: Callable) -> Callable:
    """`function` run under `torch.no_grad()` (the PyTorch backend)."""
    import torch  # only on the PyTorch backend

    def run(*args):
        with torch.no_grad():
            return function(*args)

    return run


def greedy_search(
    model,
    source_ids,
    max_length_ratio: float = 1.5,
    max_length_offset: int = 10,
    return_attention: bool = True,
) -> Decoded:
    """Picks the most likely token at each step (beam search with a beam of one)."""
    return beam_search(
        model,
        source_ids,
        beam_size=1,
        length_penalty=0.0,
        max_length_ratio=max_length_ratio,
        max_length_offset=max_length_offset,
        return_attention=return_attention,
    )
