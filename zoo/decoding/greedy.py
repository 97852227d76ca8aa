"""The loop of greedy search (a beam of one): the arg-max token at each step.

`beam_search` with `beam_size=1` runs this loop instead of its own when no option needs the
beam's machinery (n-gram blocking, the coverage penalty). The answer is the same; the work is
not: with one hypothesis per sentence there is no finished pool to merge, no state to reorder
by parent and no back-tracing at the end, so each step is a third of the beam loop's graph
ops, which is what a step costs at batch 1 on the CPU.
"""

from __future__ import annotations

from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID
from zoo.decoding.constraints import NEG_INF, blocked_at, forced_at


def greedy_loop(
    model,
    memory,
    memory_mask,
    state,
    limit,
    steps,
    never,
    min_length: int = 0,
    prefix=None,
    return_attention: bool = True,
):
    """Runs `model.decode_step` from `<s>` until every row has put `</s>`.

    Args:
        model: An encoder-decoder following the decoder protocol (`zoo.decoding`).
        memory, memory_mask, state: What `model.encode` returned.
        limit: `int[batch]`, each row's length limit (`</s>` included): at it only `</s>`
            may come.
        steps: The longest limit (the histories' length).
        never: `bool[1, vocab_size]`, the tokens never emitted (`constraints.never_emitted`).
        min_length, prefix: As `beam_search` takes them.
        return_attention: Whether to record the attention weights of every output token.

    Returns:
        `(tokens int32[batch, steps], log_prob float32[batch], attention float32[batch, steps,
        Ts] or None, length int32[batch])`, tokens ending with `</s>` then `<pad>` zeros.
    """
    vocab_size = model.target_vocab_size
    batch = ops.shape(memory_mask)[0]
    source_steps = ops.shape(memory_mask)[1]
    tokens = ops.full([batch], BOS_ID, "int32")
    history = ops.zeros([steps, batch], "int32")
    weight_history = ops.zeros([steps if return_attention else 0, batch, source_steps])

    def cond(t, tokens, finished, log_prob, length, state, history, weight_history):
        return ops.logical_and(t < steps, ops.logical_not(ops.all(finished)))

    def body(t, tokens, finished, log_prob, length, state, history, weight_history):
        logits, state, weights = model.decode_step(tokens, state, memory, memory_mask)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        blocked = blocked_at(t, limit, never, vocab_size, min_length)
        if prefix is not None:
            blocked = forced_at(prefix, t, vocab_size, blocked)
        log_probs = ops.where(blocked, NEG_INF, log_probs)
        live = ops.logical_not(finished)
        # The first of equal maxima, as top_k (the beam loop) picks it.
        best = ops.cast(ops.argmax(log_probs, axis=-1), "int32")
        log_prob = log_prob + ops.where(live, ops.max(log_probs, axis=-1), 0.0)
        best = ops.where(live, best, PAD_ID)
        ends = ops.logical_and(live, ops.equal(best, EOS_ID))
        at_t = ops.reshape(t, [1, 1])
        history = ops.scatter_update(history, at_t, best[None])
        if return_attention:
            kept = ops.where(live[:, None], ops.cast(weights, "float32"), 0.0)
            weight_history = ops.scatter_update(weight_history, at_t, kept[None])
        return (
            t + 1,
            best,
            ops.logical_or(finished, ends),
            log_prob,
            ops.where(ends, t + 1, length),
            state,
            history,
            weight_history,
        )

    loop_vars = (
        0,
        tokens,
        ops.zeros([batch], "bool"),
        ops.zeros([batch], "float32"),
        ops.zeros([batch], "int32"),
        state,
        history,
        weight_history,
    )
    out = ops.while_loop(cond, body, loop_vars)
    log_prob, length, history, weight_history = out[3], out[4], out[6], out[7]
    attention = ops.transpose(weight_history, (1, 0, 2)) if return_attention else None
    return ops.transpose(history, (1, 0)), log_prob, attention, length
