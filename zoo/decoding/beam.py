"""Greedy and beam search, in-graph, for any model that speaks the decoder protocol
(`zoo.decoding`).

The search is one `keras.ops.while_loop`, so under `tf.function` (and in the exported
SavedModel) no Python runs per step, and it runs unchanged on the JAX and PyTorch backends.

Beam search follows fairseq / tensor2tensor: at each step the `beam_size` live hypotheses are
chosen from the `2 * beam_size` best extensions that do not end; extensions that end (`</s>`)
go to a separate pool of finished hypotheses, compared by length-normalized score, so a
finished hypothesis never takes a live one's slot. A hypothesis that reaches the length limit
must end, and pays the real log-probability of its `</s>`. The pool keeps the `n_best` best;
the search stops when no live hypothesis can still beat the n-th of them. Each step records
only the chosen tokens and their parents; the hypotheses are traced back once at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID
from zoo.decoding.constraints import (
    NEG_INF,
    NEVER_EMITTED,
    blocked_at,
    check_options,
    check_prefix,
    forced_at,
    never_emitted,
    repeated_ngrams,
    with_prefix,
)
from zoo.decoding.greedy import greedy_loop
from zoo.decoding.lexicon import WORD_START, check_lexicon

__all__ = ["NEVER_EMITTED", "Decoded", "beam_search", "greedy_search"]
DEAD = NEG_INF / 2  # scores below this belong to no real hypothesis
NO_SCORE = -1e30  # the score of "no finished hypothesis yet"
# Coverage below this counts as this (log 0 would make every penalty -inf).
MIN_COVERAGE = 1e-6


@dataclass
class Decoded:
    """Result of a search: per source sentence, the best hypothesis (`[batch, ...]`), or with
    `n_best=K` the K best, best first (`[batch, K, ...]`).

    Attributes:
        tokens: `int32[..., max_length]`, ending with `</s>` then `<pad>` zeros.
        log_prob: `float32[...]`, the hypothesis' summed token log-probabilities.
        attention: `float32[..., max_length, Ts]`, the weights each output token used
            (`None` unless asked for).
        length: `int32[...]`, output tokens including `</s>`.
        score: `float32[...]`, what the search ranked by: `log_prob` over the length penalty,
            plus the coverage penalty. A slot of an n-best list that no hypothesis filled
            has a score below -1e29 and the single token `</s>`.
    """

    tokens: Any
    log_prob: Any
    attention: Any
    length: Any
    score: Any = None


def _take(x, indices, axis=None):
    """`keras.ops.take` for indices known to be in range. On TensorFlow one gather: Keras'
    `take` adds five ops per call there to wrap negative indices, which made up a quarter of
    a beam step's graph (each op costs microseconds at the batch sizes of decoding)."""
    if keras.backend.backend() != "tensorflow":
        return ops.take(x, indices, axis=axis)
    import tensorflow as tf  # the TensorFlow backend only

    if axis is None:
        return tf.gather(tf.reshape(x, [-1]), indices)
    return tf.gather(x, indices, axis=axis)


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
    *,
    n_best: int = 1,
    coverage_penalty: float = 0.0,
    min_length: int = 0,
    blocked_tokens: Sequence[int] = (),
    no_repeat_ngram_size: int = 0,
    prefix=None,
    lexicon=None,
) -> Decoded:
    """Beam search ranking finished hypotheses by `log_prob / ((5 + length) / 6) ** alpha`
    (plus the coverage penalty, if asked).

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
        n_best: How many finished hypotheses to return per sentence, best first (at most
            `beam_size`); above 1 every field of the result gains a `[batch, n_best]` start.
        coverage_penalty: Wu et al. (2016)'s beta: a finished hypothesis' score gains
            `beta * sum_i log(min(sum_j a_ij, 1))` over the real source tokens `i` (`a_ij`:
            the attention output step `j` paid to token `i`; at least `MIN_COVERAGE` is
            counted), so hypotheses that leave source words unattended rank lower. 0: off.
        min_length: Output tokens before `</s>` may come (the length limit still ends a
            hypothesis).
        blocked_tokens: Token ids never to emit (`</s>` cannot be blocked).
        no_repeat_ngram_size: N: no n-gram of N tokens appears twice in a hypothesis. 0: off.
        prefix: `int[batch, P]` target tokens every hypothesis of a sentence starts with
            (rows 0-padded; `None`: none), e.g. a translation's first words fixed by a user,
            or a target-language tag. They win over every other rule, their log-probability
            counts in the score, and the length limit grows to fit them and `</s>`.
        lexicon: `int[states, V]`, the transition table of a word list
            (`zoo.decoding.lexicon_table`): every hypothesis is spelled from its words. A
            hypothesis that reaches the length limit inside a word is dropped. `None`: any
            output.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"`beam_size` must be an integer >= 1, received beam_size={beam_size}.")
    if isinstance(n_best, bool) or not isinstance(n_best, int) or not 1 <= n_best <= beam_size:
        raise ValueError(
            f"`n_best` must be an integer in [1, beam_size={beam_size}] (the search keeps "
            f"beam_size hypotheses), received n_best={n_best!r}."
        )
    if not coverage_penalty >= 0:
        raise ValueError(f"`coverage_penalty` must be >= 0, received {coverage_penalty!r}.")
    vocab_size = model.target_vocab_size
    blocked_tokens = check_options(vocab_size, min_length, blocked_tokens, no_repeat_ngram_size)
    if not isinstance(source_ids, dict):  # token ids; a recognizer's audio comes as a dict
        source_ids = ops.convert_to_tensor(source_ids, "int32")
    memory, memory_mask, state = model.encode(source_ids)
    batch = ops.shape(memory_mask)[0]
    prefix = check_prefix(prefix, batch, vocab_size)
    k, n = beam_size, n_best
    candidates = 1 if k == 1 else 2 * k  # greedy: only the arg-max extension
    rows = batch * k
    source_steps = ops.shape(memory_mask)[1]

    def tile(x):  # [B, ...] -> [B * K, ...], each sentence's K copies adjacent
        return ops.repeat(x, k, axis=0)

    memory = keras.tree.map_structure(tile, memory)
    memory_mask = tile(memory_mask)
    state = keras.tree.map_structure(tile, state)  # a list of tensors, or of nested lists
    source_length = ops.sum(ops.cast(memory_mask, "int32"), axis=1)
    limit = max_output_length(source_length, max_length_ratio, max_length_offset)  # per row
    steps = max_output_length(source_steps, max_length_ratio, max_length_offset)
    if prefix is not None:
        prefix = tile(prefix)
        limit, steps = with_prefix(prefix, limit, steps)
    if lexicon is not None:
        lexicon = ops.convert_to_tensor(check_lexicon(lexicon, vocab_size))
        flat_lexicon = ops.reshape(lexicon, [-1])
    limit_penalty = ops.reshape(length_penalty_of(limit, length_penalty), [batch, k])[:, 0]

    never = never_emitted(vocab_size, blocked_tokens)
    beam_only = coverage_penalty or no_repeat_ngram_size or lexicon is not None
    if k == 1 and not beam_only:  # the same answer, faster
        tokens, log_prob, attention, length = greedy_loop(
            model, memory, memory_mask, state, limit, steps, never, min_length, prefix,
            return_attention,
        )  # fmt: skip
        score = log_prob / length_penalty_of(length, length_penalty)
        return Decoded(tokens, log_prob, attention, length, score)
    # GNMT's penalty of a hypothesis that ends at step t (length t + 1), looked up per step.
    step_penalty = length_penalty_of(ops.arange(1, steps + 1), length_penalty)
    first_row = ops.arange(batch) * k  # row of each sentence's first hypothesis

    def pick(values, index):  # values [batch, m], index [batch, j] -> [batch, j]
        # One gather on the flattened values (Keras' take_along_axis costs a dozen ops on TF).
        offset = (ops.arange(batch) * ops.shape(values)[1])[:, None]
        return _take(ops.reshape(values, [-1]), index + offset)

    # Only the first copy of each sentence is live at the start.
    first = ops.cast(ops.equal(ops.arange(k), 0), "float32")
    scores = ops.reshape(ops.tile((1.0 - first)[None, :] * NEG_INF, [batch, 1]), [-1])
    tokens = ops.full([rows], BOS_ID, "int32")
    token_history = ops.zeros([steps, rows], "int32")
    parent_history = ops.zeros([steps, rows], "int32")
    weight_history = ops.zeros([steps if return_attention else 0, rows, source_steps], "float32")
    # Per live row, what the options need: its tokens (n-gram blocking), the attention it
    # has paid to each source token (coverage).
    sequences = ops.zeros([rows, steps if no_repeat_ngram_size else 0], "int32")
    coverage = ops.zeros([rows, source_steps if coverage_penalty else 0], "float32")
    source_real = ops.cast(memory_mask, "float32")
    word_state = ops.full([rows], WORD_START, "int32")  # each row's place in the lexicon
    # The finished pool, per sentence the n best so far (score length-normalized).
    pool = (
        ops.full([batch, n], NO_SCORE, "float32"),  # score
        ops.full([batch, n], NEG_INF, "float32"),  # log-probability
        ops.zeros([batch, n], "int32"),  # the step at which it put </s>
        ops.zeros([batch, n], "int32"),  # the live row it extended
    )

    def done(scores, nth_best):
        """Per sentence: no live hypothesis can still beat the n-th best finished one."""
        live_best = ops.max(ops.reshape(scores, [batch, k]), axis=1)
        # A live score can only fall, its length penalty grow at most to the limit's, and
        # the coverage penalty is never positive.
        bound = live_best / limit_penalty
        return ops.logical_or(nth_best >= bound, live_best < DEAD)

    def cond(t, tokens, scores, state, histories, extras, pool):
        return ops.logical_and(t < steps, ops.logical_not(ops.all(done(scores, pool[0][:, -1]))))

    def body(t, tokens, scores, state, histories, extras, pool):
        token_history, parent_history, weight_history = histories
        sequences, coverage, word_state = extras
        logits, state, weights = model.decode_step(tokens, state, memory, memory_mask)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        blocked = blocked_at(t, limit, never, vocab_size, min_length)
        if no_repeat_ngram_size:
            repeats = repeated_ngrams(sequences, t, no_repeat_ngram_size, vocab_size)
            blocked = ops.logical_or(blocked, repeats)
        if lexicon is not None:
            outside = ops.less(_take(lexicon, word_state, axis=0), 0)
            blocked = ops.logical_or(blocked, outside)
        if prefix is not None:
            blocked = forced_at(prefix, t, vocab_size, blocked)
        log_probs = ops.where(blocked, NEG_INF, log_probs)
        total = ops.reshape(scores[:, None] + log_probs, [batch, k * vocab_size])
        cand_scores, cand_index = ops.top_k(total, candidates)
        cand_index = ops.cast(cand_index, "int32")  # beam * vocab_size + token
        cand_beam = cand_index // vocab_size
        cand_eos = ops.logical_and(ops.equal(cand_index % vocab_size, EOS_ID), cand_scores > DEAD)

        # Finished pool: this step's ending extensions merged with the n best so far.
        normalized = cand_scores / _take(step_penalty, t)
        if coverage_penalty:
            covered = ops.minimum(coverage + ops.cast(weights, "float32"), 1.0)
            log_covered = ops.log(ops.maximum(covered, MIN_COVERAGE)) * source_real
            row_penalty = coverage_penalty * ops.sum(log_covered, axis=1)  # [rows]
            normalized += _take(row_penalty, first_row[:, None] + cand_beam)
        ending = ops.where(cand_eos, normalized, NO_SCORE)
        merged = (
            ops.concatenate([pool[0], ending], axis=1),
            ops.concatenate([pool[1], cand_scores], axis=1),
            ops.concatenate([pool[2], ops.full([batch, candidates], t, "int32")], axis=1),
            ops.concatenate([pool[3], first_row[:, None] + cand_beam], axis=1),
        )
        if n == 1:
            keep = ops.cast(ops.argmax(merged[0], axis=1), "int32")[:, None]
        else:
            keep = ops.cast(ops.top_k(merged[0], n)[1], "int32")
        pool = tuple(pick(values, keep) for values in merged)

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
        state = keras.tree.map_structure(lambda s: _take(s, parents, axis=0), state)
        if no_repeat_ngram_size:
            sequences = _take(sequences, parents, axis=0)
            written = ops.equal(ops.arange(steps), t)[None, :]
            sequences = ops.where(written, new_tokens[:, None], sequences)
        if coverage_penalty:
            coverage = _take(coverage + ops.cast(weights, "float32"), parents, axis=0)
        if lexicon is not None:  # dead rows may hold a blocked token: -1, clipped
            moved = _take(flat_lexicon, _take(word_state, parents) * vocab_size + new_tokens)
            word_state = ops.maximum(moved, WORD_START)
        return (
            t + 1,
            new_tokens,
            ops.reshape(live_scores, [-1]),
            state,
            (token_history, parent_history, weight_history),
            (sequences, coverage, word_state),
            pool,
        )

    histories = (token_history, parent_history, weight_history)
    loop_vars = (0, tokens, scores, state, histories, (sequences, coverage, word_state), pool)
    ran, _, _, _, histories, _, pool = ops.while_loop(cond, body, loop_vars)
    pool_score, pool_log_prob, pool_step, pool_row = (ops.reshape(v, [-1]) for v in pool)
    # Only the steps the search ran (it stops early) are traced back.
    tokens, attention = _trace_back(*histories, pool_step, pool_row, steps, ran, return_attention)

    def shaped(x):  # [batch * n, ...] -> [batch, ...] or [batch, n, ...]
        if n == 1:
            return x
        return ops.reshape(x, [batch, n, *ops.shape(x)[1:]])

    return Decoded(
        tokens=shaped(tokens),
        log_prob=shaped(pool_log_prob),
        attention=shaped(attention) if return_attention else None,
        length=shaped(pool_step + 1),
        score=shaped(pool_score),
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
        producer = ops.where(before_end, _take(_take(parent_history, s, axis=0), row), row)
        token = _take(_take(token_history, s, axis=0), row)
        token = ops.where(before_end, token, ops.where(ops.equal(s, end_step), EOS_ID, PAD_ID))
        tokens = ops.scatter_update(tokens, at_s, token[None])
        if with_weights:
            produced = _take(_take(weight_history, s, axis=0), producer, axis=0)
            produced = ops.where((s <= end_step)[:, None], produced, 0.0)
            weights = ops.scatter_update(weights, at_s, produced[None])
        return producer, tokens, weights

    _, tokens, weights = ops.fori_loop(0, ran, step, (end_row, tokens, weights))
    return ops.transpose(tokens, (1, 0)), ops.transpose(weights, (1, 0, 2))


def greedy_search(
    model,
    source_ids,
    max_length_ratio: float = 1.5,
    max_length_offset: int = 10,
    return_attention: bool = True,
    prefix=None,
) -> Decoded:
    """Picks the most likely token at each step (beam search with a beam of one); `prefix`
    as in `beam_search`."""
    return beam_search(
        model,
        source_ids,
        beam_size=1,
        length_penalty=0.0,
        max_length_ratio=max_length_ratio,
        max_length_offset=max_length_offset,
        return_attention=return_attention,
        prefix=prefix,
    )
