import itertools

import numpy as np
import pytest
from helpers import to_numpy

from zoo.data.vocabulary import EOS_ID, UNK_ID
from zoo.decoding import beam_search, greedy_search
from zoo.models import Seq2Seq

SOURCE = np.array([[4, 5, 6], [7, 0, 0]])


def tiny_model(seed=0, attention="luong"):
    import keras

    keras.utils.set_random_seed(seed)
    return Seq2Seq(
        source_vocab_size=10, target_vocab_size=6, embedding_dim=4, units=6, attention=attention
    )


def sequence_log_prob(model, source_row, tokens):
    """Log-probability of `tokens` (ending in </s>) given one source, one step at a time."""
    memory, mask, state = model.encode(source_row[None])
    total, previous = 0.0, 2
    for token in tokens:
        logits, state, _ = model.decode_step(np.array([previous]), state, memory, mask)
        logits = to_numpy(logits)[0].astype("float64")
        log_probs = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
        total += log_probs[token]
        previous = token
    return total


def all_hypotheses(max_tokens):
    outputs = [UNK_ID, 4, 5]  # what may come before </s> (never <pad> or <s>)
    for n in range(max_tokens):
        for body in itertools.product(outputs, repeat=n):
            yield [*body, EOS_ID]


@pytest.mark.parametrize("attention", [None, "bahdanau", "luong"])
def test_wide_beam_finds_the_most_likely_sequence(attention):
    model = tiny_model(attention=attention)
    # ratio 0 and offset 3: at most 3 tokens, the last forced to be </s>.
    result = beam_search(
        model, SOURCE, beam_size=64, length_penalty=0.0, max_length_ratio=0.0, max_length_offset=3
    )
    for row in range(len(SOURCE)):
        scored = {tuple(h): sequence_log_prob(model, SOURCE[row], h) for h in all_hypotheses(3)}
        best = max(scored, key=scored.get)
        length = int(to_numpy(result.length)[row])
        assert tuple(to_numpy(result.tokens)[row, :length]) == best
        np.testing.assert_allclose(to_numpy(result.log_prob)[row], scored[best], rtol=1e-4)


def test_greedy_takes_the_argmax_at_each_step():
    model = tiny_model(seed=3)
    result = greedy_search(model, SOURCE, max_length_ratio=0.0, max_length_offset=5)
    memory, mask, state = model.encode(SOURCE[:1])
    previous, expected = 2, []
    for _ in range(5):
        logits, state, _ = model.decode_step(np.array([previous]), state, memory, mask)
        logits = to_numpy(logits)[0]
        logits[[0, 2]] = -np.inf  # never <pad> or <s>
        previous = int(np.argmax(logits)) if len(expected) < 4 else EOS_ID
        expected.append(previous)
        if previous == EOS_ID:
            break
    length = int(to_numpy(result.length)[0])
    assert list(to_numpy(result.tokens)[0, :length]) == expected
    assert np.all(to_numpy(result.tokens)[0, length:] == 0)
    score = sequence_log_prob(model, SOURCE[0], expected)
    np.testing.assert_allclose(to_numpy(result.log_prob)[0], score, rtol=1e-4)


def test_attention_is_returned_per_output_token():
    model = tiny_model()
    result = beam_search(model, SOURCE, beam_size=3, max_length_ratio=1.0, max_length_offset=2)
    attention, length = to_numpy(result.attention), to_numpy(result.length)
    assert attention.shape[0] == 2 and attention.shape[2] == 3
    for row in range(2):
        np.testing.assert_allclose(attention[row, : length[row]].sum(-1), 1.0, rtol=1e-5)
        assert np.all(attention[row, length[row] :] == 0.0)
    assert np.all(attention[1, :, 1:] == 0.0)  # the padded source positions


def test_output_length_limit_follows_the_source_length():
    model = tiny_model()
    result = greedy_search(model, SOURCE, max_length_ratio=1.0, max_length_offset=1)
    length = to_numpy(result.length)
    assert length[0] <= 4 and length[1] <= 2


def test_runs_inside_a_tf_function():
    import tensorflow as tf

    model = tiny_model()
    decode = tf.function(lambda ids: beam_search(model, ids, beam_size=2).tokens)
    eager = beam_search(model, SOURCE, beam_size=2).tokens
    np.testing.assert_array_equal(decode(tf.constant(SOURCE)).numpy(), to_numpy(eager))
    # One trace serves other batch sizes and lengths.
    decode = tf.function(
        lambda ids: beam_search(model, ids, beam_size=2).tokens,
        input_signature=[tf.TensorSpec([None, None], tf.int32)],
    )
    assert decode(tf.constant([[4, 5]], tf.int32)).shape[0] == 1


def test_bad_beam_size():
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(tiny_model(), SOURCE, beam_size=0)
