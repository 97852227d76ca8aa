import itertools
import math

import keras
import numpy as np
import pytest
from helpers import to_numpy
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID, UNK_ID
from zoo.decoding import beam_search, greedy_search
from zoo.models import Seq2Seq

SOURCE = np.array([[4, 5, 6], [7, 0, 0]])


def tiny_model(seed=0, attention="luong", eos_bias=None):
    """An untrained model; with `eos_bias`, its output layer's `</s>` bias is set to it (and the
    other biases drawn wide), so that its best answers are several tokens long instead of a
    lone `</s>`: a search that returned a constant would then fail the tests."""
    import keras

    keras.utils.set_random_seed(seed)
    model = Seq2Seq(
        source_vocab_size=10,
        target_vocab_size=7,
        embedding_dim=4,
        units=6,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        attention=attention,
        attention_units=None,
        attention_score="general",
        attention_window=None,
        input_feeding=True,
        reverse_source=False,
        feed_context=False,
    )
    if eos_bias is not None:
        bias = np.random.default_rng(seed).normal(0.0, 2.0, 7).astype("float32")
        bias[EOS_ID] = eos_bias
        model.output_projection.bias.assign(bias)
    return model


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
    outputs = [4, 5, 6]  # what may come before </s> (never <pad>, <unk> or <s>)
    for n in range(max_tokens):
        for body in itertools.product(outputs, repeat=n):
            yield [*body, EOS_ID]


@pytest.mark.parametrize("attention", [None, "bahdanau", "luong"])
def test_wide_beam_finds_the_best_sequence_of_exhaustive_search(attention):
    # An improbable </s> and the length penalty (alpha 1) make the best answers several tokens
    # long, so that a search returning a lone </s> fails.
    alpha = 1.0
    model = tiny_model(attention=attention, eos_bias=-8.0)
    # ratio 0 and offset 3: at most 3 tokens, the last forced to be </s>.
    result = beam_search(
        model, SOURCE, beam_size=64, length_penalty=alpha, max_length_ratio=0.0,
        max_length_offset=3,
    )  # fmt: skip
    for row in range(len(SOURCE)):
        scored = {tuple(h): sequence_log_prob(model, SOURCE[row], h) for h in all_hypotheses(3)}
        best = max(scored, key=lambda h: scored[h] / ((5 + len(h)) / 6) ** alpha)
        assert len(best) == 3  # two words and </s>
        length = int(to_numpy(result.length)[row])
        assert tuple(to_numpy(result.tokens)[row, :length]) == best
        np.testing.assert_allclose(to_numpy(result.log_prob)[row], scored[best], rtol=1e-4)


def test_greedy_takes_the_argmax_at_each_step():
    model = tiny_model(seed=3, eos_bias=-2.0)
    result = greedy_search(model, SOURCE, max_length_ratio=0.0, max_length_offset=5)
    memory, mask, state = model.encode(SOURCE[:1])
    previous, expected = 2, []
    for _ in range(5):
        logits, state, _ = model.decode_step(np.array([previous]), state, memory, mask)
        logits = to_numpy(logits)[0]
        logits[[0, 1, 2]] = -np.inf  # never <pad>, <unk> or <s>
        previous = int(np.argmax(logits)) if len(expected) < 4 else EOS_ID
        expected.append(previous)
        if previous == EOS_ID:
            break
    length = int(to_numpy(result.length)[0])
    assert length > 1
    assert list(to_numpy(result.tokens)[0, :length]) == expected
    assert np.all(to_numpy(result.tokens)[0, length:] == 0)
    score = sequence_log_prob(model, SOURCE[0], expected)
    np.testing.assert_allclose(to_numpy(result.log_prob)[0], score, rtol=1e-4)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("options", [{}, {"min_length": 3}, {"prefix": [[5, 4], [6, 0]]}])
def test_greedy_loop_answers_as_the_beam_loop_with_one_hypothesis(seed, options):
    # A beam of one runs the lighter greedy loop; n-gram blocking longer than any output
    # blocks nothing and sends the same search through the beam loop: every field must agree
    # (rows end at different steps: eos_bias -1 makes lengths vary).
    model = tiny_model(seed=seed, eos_bias=-1.0)
    if "prefix" in options:
        options = {"prefix": np.array(options["prefix"], "int32")}
    search = {"beam_size": 1, "length_penalty": 0.6, "max_length_ratio": 1.0,
              "max_length_offset": 4, **options}  # fmt: skip
    fast = beam_search(model, SOURCE, **search)
    beam = beam_search(model, SOURCE, no_repeat_ngram_size=50, **search)
    for field in ("tokens", "length"):
        np.testing.assert_array_equal(
            to_numpy(getattr(fast, field)), to_numpy(getattr(beam, field))
        )
    for field in ("log_prob", "score", "attention"):
        np.testing.assert_allclose(
            to_numpy(getattr(fast, field)), to_numpy(getattr(beam, field)), rtol=1e-6, atol=1e-7
        )


def test_attention_is_returned_per_output_token():
    model = tiny_model(eos_bias=-4.0)
    result = beam_search(model, SOURCE, beam_size=3, max_length_ratio=1.0, max_length_offset=2)
    attention, length = to_numpy(result.attention), to_numpy(result.length)
    assert attention.shape[0] == 2 and attention.shape[2] == 3
    assert length.min() > 1  # several tokens, each with its own row of weights
    for row in range(2):
        np.testing.assert_allclose(attention[row, : length[row]].sum(-1), 1.0, rtol=1e-5)
        assert np.all(attention[row, length[row] :] == 0.0)
    assert np.all(attention[1, :, 1:] == 0.0)  # the padded source positions


def test_output_length_limit_follows_the_source_length():
    model = tiny_model()
    result = greedy_search(model, SOURCE, max_length_ratio=1.0, max_length_offset=1)
    length = to_numpy(result.length)
    assert length[0] <= 4 and length[1] <= 2


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function")
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


# -- scripted models: log-probabilities fixed per prefix, known best answers ------------------

A, B, C = 4, 5, 6  # the word ids of the scripted vocabulary: <pad> <unk> <s> </s> a b c
VOCAB = 7
OUTPUTS = (A, B, C)


class ScriptedModel:
    """A decoder whose next-token distribution is a fixed function of the prefix.

    The state is the prefix written as a base-`VOCAB` number, so `decode_step` looks its
    log-probabilities up in a table; every backend runs it, in-graph.
    """

    target_vocab_size = VOCAB

    def __init__(self, distribution, depth):
        self.distribution = distribution
        rows = []
        for code in range(VOCAB**depth):
            probs = np.full(VOCAB, 1e-12)
            for token, p in distribution(self.prefix(code)).items():
                probs[token] = p
            rows.append(np.log(probs / probs.sum()))
        self.table = np.array(rows, dtype="float32")

    @staticmethod
    def prefix(code):
        digits = []
        while code:
            code, digit = divmod(code, VOCAB)
            digits.append(digit)
        return tuple(reversed(digits))

    def encode(self, source_ids):
        mask = ops.not_equal(source_ids, 0)
        memory = ops.zeros(ops.shape(source_ids) + (1,))
        return memory, mask, [ops.zeros(ops.shape(source_ids)[:1], "int32")]

    def decode_step(self, tokens, state, memory, mask):
        code = ops.where(ops.equal(tokens, BOS_ID), 0, state[0] * VOCAB + tokens)
        code = ops.minimum(code, len(self.table) - 1)  # dead hypotheses may run past the table
        logits = ops.take(ops.convert_to_tensor(self.table), code, axis=0)
        return logits, [code], ops.cast(mask, "float32") / ops.sum(ops.cast(mask, "float32"))

    def log_prob(self, tokens):
        return sum(math.log(self.distribution(tuple(tokens[:i])).get(t, 1e-12) /
                            sum(self.distribution(tuple(tokens[:i])).values()))
                   for i, t in enumerate(tokens))  # fmt: skip


def random_tables(seed):
    """A next-token distribution drawn at random (Dirichlet) for each prefix, once."""
    rng = np.random.default_rng(seed)
    tables = {}

    def distribution(prefix):
        if prefix not in tables:
            p = rng.dirichlet(np.ones(4) * 0.5)
            tables[prefix] = {C: p[0], A: p[1], B: p[2], EOS_ID: p[3]}
        return tables[prefix]

    return distribution


def exhaustive_best(model, max_tokens, alpha):
    """The best hypothesis (ending in </s>, at most `max_tokens` long) and its log-prob."""
    best = None
    for n in range(max_tokens):
        for body in itertools.product(OUTPUTS, repeat=n):
            tokens = (*body, EOS_ID)
            log_prob = model.log_prob(tokens)
            score = log_prob / ((5 + len(tokens)) / 6) ** alpha
            if best is None or score > best[0]:
                best = (score, tokens, log_prob)
    return best[1], best[2]


def search(model, max_tokens, beam_size, alpha):
    source = np.array([[4, 5, 6]])
    result = beam_search(
        model, source, beam_size=beam_size, length_penalty=alpha,
        max_length_ratio=0.0, max_length_offset=max_tokens,
    )  # fmt: skip
    length = int(to_numpy(result.length)[0])
    tokens = tuple(int(t) for t in to_numpy(result.tokens)[0, :length])
    assert np.all(to_numpy(result.tokens)[0, length:] == 0)
    return tokens, float(to_numpy(result.log_prob)[0])


def test_a_finished_hypothesis_does_not_block_a_better_live_one():
    # p(a)=.42, p(</s>)=.30, p(b)=.28, and b is followed by </s> with .999: with alpha=1,
    # [b </s>] (-1.275 / (7/6) = -1.093) beats [</s>] (-1.204), though b is third at step 1.
    def distribution(prefix):
        if prefix == ():
            return {A: 0.42, EOS_ID: 0.30, B: 0.28}
        if prefix == (B,):
            return {EOS_ID: 0.999, A: 0.001}
        return {EOS_ID: 0.3, A: 0.35, B: 0.35}

    model = ScriptedModel(distribution, depth=3)
    tokens, log_prob = search(model, max_tokens=3, beam_size=2, alpha=1.0)
    assert tokens == (B, EOS_ID)
    assert log_prob == pytest.approx(math.log(0.28) + math.log(0.999), rel=1e-5)
    assert (tokens, pytest.approx(log_prob, rel=1e-5)) == exhaustive_best(model, 3, 1.0)


def test_a_forced_end_pays_for_its_end_token():
    # </s> is unlikely everywhere; hypotheses cut at 3 tokens must still pay log(.01) for it.
    def distribution(prefix):
        return {A: 0.6, B: 0.39, EOS_ID: 0.01}

    model = ScriptedModel(distribution, depth=3)
    for alpha in (0.0, 1.0):
        tokens, log_prob = search(model, max_tokens=3, beam_size=2, alpha=alpha)
        best_tokens, best_log_prob = exhaustive_best(model, 3, alpha)
        assert tokens == best_tokens
        assert log_prob == pytest.approx(best_log_prob, rel=1e-5)
    # With alpha=1 the longest is best: [a a </s>] at its true log-prob, not log(.36).
    assert tokens == (A, A, EOS_ID)
    assert log_prob == pytest.approx(math.log(0.6 * 0.6 * 0.01), rel=1e-5)


def test_the_best_answer_has_several_tokens():
    # a b </s> is the only likely path; every step's greedy choice leads there too.
    path = {(): {A: 0.7, B: 0.2, EOS_ID: 0.1}, (A,): {B: 0.8, A: 0.1, EOS_ID: 0.1},
            (A, B): {EOS_ID: 0.9, A: 0.05, B: 0.05}}  # fmt: skip

    def distribution(prefix):
        return path.get(prefix, {EOS_ID: 0.5, A: 0.25, B: 0.25})

    model = ScriptedModel(distribution, depth=4)
    for beam_size in (1, 2, 3):
        tokens, log_prob = search(model, max_tokens=4, beam_size=beam_size, alpha=0.6)
        assert tokens == (A, B, EOS_ID)
        assert log_prob == pytest.approx(math.log(0.7 * 0.8 * 0.9), rel=1e-5)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_a_wide_beam_equals_exhaustive_search_on_random_tables(seed, alpha):
    model = ScriptedModel(random_tables(seed), depth=3)
    tokens, log_prob = search(model, max_tokens=3, beam_size=9, alpha=alpha)  # 3^2 prefixes
    best_tokens, best_log_prob = exhaustive_best(model, 3, alpha)
    assert tokens == best_tokens
    assert log_prob == pytest.approx(best_log_prob, rel=1e-4)


def test_bad_beam_size():
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(tiny_model(), SOURCE, beam_size=0)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_unk_is_never_emitted_even_when_most_likely(beam_size):
    # <unk> takes 60% at every step; the search answers with the best real tokens instead,
    # and their log-probabilities stay the model's (the mass of <unk> is not handed out).
    def distribution(prefix):
        if len(prefix) < 2:
            return {UNK_ID: 0.6, A: 0.3, B: 0.09, EOS_ID: 0.01}
        return {UNK_ID: 0.6, EOS_ID: 0.4}

    model = ScriptedModel(distribution, depth=3)
    tokens, log_prob = search(model, max_tokens=3, beam_size=beam_size, alpha=0.0)
    assert UNK_ID not in tokens
    assert tokens == (A, A, EOS_ID)
    assert log_prob == pytest.approx(math.log(0.3 * 0.3 * 0.4), rel=1e-5)
