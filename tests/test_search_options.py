"""Search options with known answers on scripted decoders: n-best lists, Wu et al.'s coverage
penalty, a minimum length, blocked tokens, no repeated n-grams, and seeded sampling."""

import itertools
import math

import numpy as np
import pytest
from helpers import to_numpy
from keras import ops
from test_decoding import OUTPUTS, VOCAB, A, B, C, ScriptedModel, random_tables

from zoo.data.vocabulary import BOS_ID, EOS_ID
from zoo.decoding import beam_search, sample
from zoo.decoding.constraints import repeated_ngrams
from zoo.decoding.lexicon import lexicon_table

SOURCE = np.array([[4, 5, 6]])  # three real source tokens


def all_hypotheses(max_tokens, keep=lambda body: True):
    for n in range(max_tokens):
        for body in itertools.product(OUTPUTS, repeat=n):
            if keep(body):
                yield (*body, EOS_ID)


def penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def run(model, max_tokens, **options):
    options.setdefault("length_penalty", 0.6)
    return beam_search(model, SOURCE, max_length_ratio=0.0, max_length_offset=max_tokens, **options)


def hypotheses_of(result, row=0):
    tokens, lengths = to_numpy(result.tokens)[row], to_numpy(result.length)[row]
    return [tuple(int(t) for t in tokens[i, :n]) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_n_best_is_the_n_best_of_exhaustive_search(seed, alpha):
    model = ScriptedModel(random_tables(seed), depth=3)
    result = run(model, 3, beam_size=9, n_best=4, length_penalty=alpha)  # 3^2 live prefixes
    ranked = sorted(all_hypotheses(3), key=lambda y: -model.log_prob(y) / penalty(len(y), alpha))[
        :4
    ]
    assert hypotheses_of(result) == ranked
    log_probs = to_numpy(result.log_prob)[0]
    np.testing.assert_allclose(log_probs, [model.log_prob(y) for y in ranked], rtol=1e-4)
    expected = [model.log_prob(y) / penalty(len(y), alpha) for y in ranked]
    np.testing.assert_allclose(to_numpy(result.score)[0], expected, rtol=1e-4)
    assert to_numpy(result.attention).shape == (1, 4, 3, 3)


def test_n_best_must_fit_the_beam():
    model = ScriptedModel(random_tables(0), depth=2)
    with pytest.raises(ValueError, match=r"n_best.*\[1, beam_size=2\]"):
        run(model, 2, beam_size=2, n_best=3)


class AttendingModel(ScriptedModel):
    """A scripted decoder whose step attends wholly to one source token: `<s>` and `a` to the
    first, `b` to the second, `c` to the third."""

    def decode_step(self, tokens, state, memory, mask):
        logits, state, _ = super().decode_step(tokens, state, memory, mask)
        position = ops.where(tokens == B, 1, ops.where(tokens == C, 2, 0))
        return logits, state, ops.one_hot(position, ops.shape(mask)[1])


def wu_coverage(hypothesis, beta):
    """Wu et al. (2016): beta * sum_i log(min(sum_j a_ij, 1)), by hand for AttendingModel."""
    inputs = (BOS_ID, *hypothesis[:-1])  # the token each step read
    counts = [0, 0, 0]
    for token in inputs:
        counts[{B: 1, C: 2}.get(token, 0)] += 1
    return beta * sum(math.log(max(min(c, 1), 1e-6)) for c in counts)


def test_the_coverage_penalty_is_wu_et_als_formula():
    # Without the penalty "a </s>" wins; it attends to the first source token only. "b c </s>"
    # covers all three, and wins once beta is large enough.
    table = {(): {A: 0.6, B: 0.3, EOS_ID: 0.1}, (A,): {EOS_ID: 0.9, A: 0.1},
             (B,): {C: 0.9, EOS_ID: 0.1}, (B, C): {EOS_ID: 1.0}}  # fmt: skip
    model = AttendingModel(lambda prefix: table.get(prefix, {EOS_ID: 1.0}), depth=3)
    plain = run(model, 3, beam_size=4)
    assert tuple(to_numpy(plain.tokens)[0, :2]) == (A, EOS_ID)
    beta = 0.2
    covered = run(model, 3, beam_size=4, n_best=3, coverage_penalty=beta)

    def score(y):
        return model.log_prob(y) / penalty(len(y), 0.6) + wu_coverage(y, beta)

    ranked = sorted(all_hypotheses(3), key=lambda y: -score(y))[:3]
    assert hypotheses_of(covered) == ranked and ranked[0] == (B, C, EOS_ID)
    np.testing.assert_allclose(to_numpy(covered.score)[0], [score(y) for y in ranked], rtol=1e-4)
    # By hand: "a </s>" read <s> and a, both on the first token: 2 * beta * log(1e-6).
    assert wu_coverage((A, EOS_ID), beta) == pytest.approx(2 * beta * math.log(1e-6))


def test_a_minimum_length_holds_back_the_end():
    model = ScriptedModel(random_tables(1), depth=4)
    result = run(model, 4, beam_size=27, min_length=2)
    allowed = [y for y in all_hypotheses(4) if len(y) >= 3]
    best = max(allowed, key=lambda y: model.log_prob(y) / penalty(len(y), 0.6))
    assert tuple(to_numpy(result.tokens)[0, : int(to_numpy(result.length)[0])]) == best


def test_blocked_tokens_and_repeated_ngrams_are_never_written():
    def loves_ab(prefix):  # a b a b ... is by far the likeliest path
        expected = A if len(prefix) % 2 == 0 else B
        return {expected: 0.8, C: 0.1, EOS_ID: 0.1}

    model = ScriptedModel(loves_ab, depth=5)
    result = run(model, 5, beam_size=40, n_best=2, no_repeat_ngram_size=2)

    def no_repeated_bigram(body):
        grams = list(zip(body, body[1:], strict=False))
        return len(grams) == len(set(grams))

    allowed = sorted(
        all_hypotheses(5, no_repeated_bigram),
        key=lambda y: -model.log_prob(y) / penalty(len(y), 0.6),
    )
    assert hypotheses_of(result) == allowed[:2]
    blocked = run(model, 5, beam_size=40, blocked_tokens=[A])
    tokens = tuple(to_numpy(blocked.tokens)[0, : int(to_numpy(blocked.length)[0])])
    best = max(
        all_hypotheses(5, lambda body: A not in body),
        key=lambda y: model.log_prob(y) / penalty(len(y), 0.6),
    )
    assert tokens == best and A not in tokens
    with pytest.raises(ValueError, match="cannot be blocked"):
        run(model, 5, blocked_tokens=[EOS_ID])
    with pytest.raises(ValueError, match="no_repeat_ngram_size=1"):
        run(model, 5, no_repeat_ngram_size=1)


def test_repeated_ngrams_by_hand():
    sequences = ops.convert_to_tensor(np.array([[A, B, A, 0, 0], [A, B, C, A, B]], "int32"))
    banned = to_numpy(repeated_ngrams(sequences, 3, 2, VOCAB))
    # At t=3, row 0 ends in "a" after "a b": b may not follow; row 1 ends in "c": free.
    assert [np.flatnonzero(row).tolist() for row in banned] == [[B], []]
    assert np.flatnonzero(to_numpy(repeated_ngrams(sequences, 4, 2, VOCAB))[1]).tolist() == [B]
    # Row 1 at t=5 ends in "a b": the trigram "a b c" is there, so c may not follow.
    banned = to_numpy(repeated_ngrams(sequences, 5, 3, VOCAB))
    assert np.flatnonzero(banned[1]).tolist() == [C]


def first_token_model():
    table = {(): {A: 0.5, B: 0.3, C: 0.15, EOS_ID: 0.05}}
    return ScriptedModel(lambda prefix: table.get(prefix, {EOS_ID: 1.0}), depth=2)


def sampled(model, rows=4000, **options):
    result = sample(model, np.repeat(SOURCE, rows, axis=0), max_length_ratio=0.0,
                    max_length_offset=3, **options)  # fmt: skip
    return to_numpy(result.tokens), to_numpy(result.log_prob), to_numpy(result.length)


def test_sampling_follows_the_model_and_its_seed():
    model = first_token_model()
    tokens, log_prob, length = sampled(model, seed=7)
    shares = [np.mean(tokens[:, 0] == t) for t in (A, B, C, EOS_ID)]
    np.testing.assert_allclose(shares, [0.5, 0.3, 0.15, 0.05], atol=0.025)
    for row in range(20):
        hypothesis = tuple(int(t) for t in tokens[row, : length[row]])
        assert hypothesis[-1] == EOS_ID
        assert log_prob[row] == pytest.approx(model.log_prob(hypothesis), rel=1e-4)
    again, _, _ = sampled(model, seed=7)
    other, _, _ = sampled(model, seed=8)
    assert np.array_equal(tokens, again) and not np.array_equal(tokens, other)


@pytest.mark.parametrize(
    "options, allowed",
    [
        ({"top_k": 1}, [A]),
        ({"top_k": 2}, [A, B]),
        ({"top_p": 0.7}, [A, B]),  # a (.5) then b (.3 more): .8 passes .7
        ({"top_p": 0.4}, [A]),  # the likeliest always counts
        ({"temperature": 0.05}, [A]),
        ({"blocked_tokens": [A, B]}, [C, EOS_ID]),
    ],
)
def test_sampling_filters_keep_only_what_they_allow(options, allowed):
    tokens, _, _ = sampled(first_token_model(), rows=500, seed=0, **options)
    assert set(np.unique(tokens[:, 0]).tolist()) == set(allowed)


def test_bad_sampling_options():
    model = first_token_model()
    for bad, message in (({"temperature": 0}, "temperature"), ({"top_k": -1}, "top_k"),
                         ({"top_p": 0}, "top_p")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            sample(model, SOURCE, **bad)


# -- a forced prefix ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(2))
def test_a_prefix_gives_the_best_of_exhaustive_search_among_what_starts_with_it(seed):
    model = ScriptedModel(random_tables(seed), depth=4)
    prefixes = [(A, B), (C,), ()]  # one per sentence, 0-padded; the last forces nothing
    rows = np.array([[A, B], [C, 0], [0, 0]])
    result = beam_search(model, np.repeat(SOURCE, 3, axis=0), beam_size=9, n_best=3,
                         max_length_ratio=0.0, max_length_offset=4, prefix=rows)  # fmt: skip
    for row, prefix in enumerate(prefixes):
        allowed = all_hypotheses(4, keep=lambda body, p=prefix: body[: len(p)] == p)
        ranked = sorted(allowed, key=lambda y: -model.log_prob(y) / penalty(len(y), 0.6))[:3]
        assert hypotheses_of(result, row) == ranked
        # The prefix's own log-probability counts in the score.
        np.testing.assert_allclose(
            to_numpy(result.log_prob)[row], [model.log_prob(y) for y in ranked], rtol=1e-4
        )


def test_a_prefix_wins_over_the_other_rules_and_the_length_limit_grows_to_fit_it():
    model = ScriptedModel(random_tables(0), depth=5)
    # Two tokens at most, but the prefix holds three: the limit grows to the prefix + </s>.
    result = run(model, 2, beam_size=4, prefix=[[A, B, C]])
    assert tuple(to_numpy(result.tokens)[0, :4]) == (A, B, C, EOS_ID)
    # A blocked token and a minimum length yield to the prefix; after it they hold again.
    result = run(model, 4, beam_size=9, n_best=3, blocked_tokens=[A], prefix=[[A]])
    for hypothesis in hypotheses_of(result):
        assert hypothesis[0] == A and A not in hypothesis[1:]


def test_samples_start_with_their_prefix():
    tokens, log_prob, length = sampled(first_token_model(), rows=200, seed=0, prefix=None)
    assert len(set(tokens[:, 0].tolist())) > 1  # without a prefix the first token varies
    forced = np.tile([[C, A]], (200, 1))
    tokens, _, _ = sampled(first_token_model(), rows=200, seed=0, prefix=forced)
    assert np.all(tokens[:, :2] == [C, A])


def test_a_bad_prefix_is_named():
    model = first_token_model()
    with pytest.raises(ValueError, match=r"prefix.*\[batch, P\]"):
        beam_search(model, SOURCE, prefix=[A, B])
    with pytest.raises(ValueError, match="other than `<s>`"):
        beam_search(model, SOURCE, prefix=[[BOS_ID, A]])
    with pytest.raises(ValueError, match="in \\[0, 7\\)"):
        beam_search(model, SOURCE, prefix=[[9]])
    with pytest.raises(ValueError, match="2 rows for a batch of 1"):
        beam_search(model, SOURCE, prefix=[[A], [B]])


# -- a lexicon ------------------------------------------------------------------------------

WORDS = [(A,), (A, B), (B, B)]  # C separates words


def spelled_from_words(body):
    """Whether `body` is lexicon words joined by single separators (C)."""
    if not body:
        return False
    words, word = [], []
    for token in (*body, C):
        if token == C:
            words.append(tuple(word))
            word = []
        else:
            word.append(token)
    return all(w in WORDS for w in words)


def test_the_lexicon_table_by_hand():
    table = lexicon_table(WORDS, separator_id=C, vocab_size=VOCAB)
    # States: 0 start, 1 "a" (a word), 2 "ab" (a word), 3 "b", 4 "bb" (a word).
    expected = np.full((5, VOCAB), -1)
    expected[0, A], expected[0, B], expected[1, B], expected[3, B] = 1, 3, 2, 4
    for done in (1, 2, 4):
        expected[done, C], expected[done, EOS_ID] = 0, done
    np.testing.assert_array_equal(table, expected)


@pytest.mark.parametrize("seed", range(3))
def test_a_lexicon_gives_the_best_of_exhaustive_search_among_what_its_words_spell(seed):
    model = ScriptedModel(random_tables(seed), depth=5)
    table = lexicon_table(WORDS, separator_id=C, vocab_size=VOCAB)
    result = run(model, 5, beam_size=VOCAB**2, n_best=3, lexicon=table)
    allowed = all_hypotheses(5, keep=spelled_from_words)
    ranked = sorted(allowed, key=lambda y: -model.log_prob(y) / penalty(len(y), 0.6))[:3]
    assert hypotheses_of(result) == ranked
    np.testing.assert_allclose(
        to_numpy(result.log_prob)[0], [model.log_prob(y) for y in ranked], rtol=1e-4
    )
    # Without the lexicon the best answer is not always spelled from words: the rule bites.
    if seed == 0:
        free = hypotheses_of(run(model, 5, beam_size=VOCAB**2, n_best=3))
        assert not all(spelled_from_words(y[:-1]) for y in free)


def test_greedy_search_follows_the_lexicon_too():
    model = ScriptedModel(random_tables(1), depth=5)
    table = lexicon_table(WORDS, separator_id=C, vocab_size=VOCAB)
    tokens = to_numpy(run(model, 5, beam_size=1, lexicon=table).tokens)[0]
    body = tuple(int(t) for t in tokens[: list(tokens).index(EOS_ID)])
    assert spelled_from_words(body)


def test_a_bad_lexicon_is_named():
    with pytest.raises(ValueError, match="empty word"):
        lexicon_table([(A,), ()], separator_id=C, vocab_size=VOCAB)
    with pytest.raises(ValueError, match="may not hold token 6"):
        lexicon_table([(A, C)], separator_id=C, vocab_size=VOCAB)
    with pytest.raises(ValueError, match="lexicon is empty"):
        lexicon_table([], separator_id=C, vocab_size=VOCAB)
    with pytest.raises(ValueError, match=r"\[states, 7\]"):
        run(ScriptedModel(random_tables(0), depth=2), 2, lexicon=np.zeros((3, 5), "int32"))
