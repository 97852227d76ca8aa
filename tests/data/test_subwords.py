"""SentencePiece vocabularies: trained on the user's text, run in the graph, round trips."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.data.padding import BUCKET_BOUNDARIES
from zoo.data.subwords import SubwordCodec
from zoo.data.tokenization import WordCodec
from zoo.data.vocabulary import EOS_ID, PAD_ID, SPECIAL_TOKENS
from zoo.tasks.translation.pipeline import TextPipeline, length_filter

TEXTS = [
    "El niño comió pan en la mañana.",
    "¿Dónde está la estación? ¡Allí!",
    "Ça va très bien, merci.",
    "Привет, как дела?",
    "日本語のテキストです。",
    "Ελληνικά γράμματα και ένα ☃.",
    "naïve café façade — crème brûlée",
] * 20


def strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


@pytest.mark.parametrize("level", ["unigram", "bpe"])
def test_round_trip_of_accented_and_non_latin_text(level):
    codec = SubwordCodec.fit(TEXTS, level, max_vocab_size=200)
    assert codec.vocabulary.tokens[:4] == list(SPECIAL_TOKENS)  # the zoo's special ids
    assert len(codec.vocabulary) <= 200
    ids = codec.encode(TEXTS[:7])
    assert int(tf.reduce_min(ids.flat_values)) > EOS_ID  # no <unk>, no specials inside
    padded = np.concatenate([ids.to_tensor(), np.full((7, 2), EOS_ID)], axis=1)
    assert strings(codec.decode(padded)) == TEXTS[:7]
    # Unseen words still split into pieces of seen characters and come back whole.
    assert strings(codec.decode(codec.encode(["mañana comió"]).to_tensor())) == ["mañana comió"]


def test_decoding_stops_at_the_first_end_or_padding():
    codec = SubwordCodec.fit(TEXTS, "unigram", max_vocab_size=120)
    ids = codec.encode(["pan", "café"]).to_tensor().numpy()
    tail = np.array([[EOS_ID, ids[0, 0]], [PAD_ID, ids[1, 0]]])
    assert strings(codec.decode(np.concatenate([ids, tail], axis=1))) == ["pan", "café"]


def test_lowercasing_and_invalid_utf8():
    codec = SubwordCodec.fit(TEXTS, "unigram", max_vocab_size=150, lowercase=True)
    assert strings(codec.decode(codec.encode(["ÇA VA"]).to_tensor())) == ["ça va"]
    decoded = strings(codec.decode(codec.encode(tf.constant([b"pan\xff"])).to_tensor()))
    assert decoded[0].startswith("pan")  # the bad byte becomes U+FFFD (<unk>), not an error


@pytest.mark.parametrize("level", ["unigram", "word"])
@pytest.mark.parametrize("joint", [False, True])
def test_pipeline_save_load_round_trip(tmp_path, level, joint):
    pairs = [(t, t.upper()) for t in TEXTS]
    text = TextPipeline.fit(pairs, level, max_vocab_size=150, joint_vocabulary=joint)
    assert text.joint == joint
    text.save(tmp_path)
    loaded = TextPipeline.load(tmp_path)
    assert loaded.joint == joint
    assert loaded.source_vocab == text.source_vocab and loaded.target_vocab == text.target_vocab
    batch = TEXTS[:7]
    np.testing.assert_array_equal(loaded.encode_source(batch), text.encode_source(batch))
    target_in, target_out = loaded.encode_target(batch)
    assert np.all(target_in.numpy()[:, 0] == 2)  # <s>
    assert type(loaded.source) is (SubwordCodec if level == "unigram" else WordCodec)


def test_separate_sizes_and_settings_that_cannot_apply():
    pairs = [(t, t) for t in TEXTS]
    text = TextPipeline.fit(pairs, "unigram", max_vocab_size=150, max_target_vocab_size=85)
    assert len(text.source_vocab) > 85 >= len(text.target_vocab)
    with pytest.raises(ValueError, match="at most 40 pieces cannot hold the 7. distinct char"):
        TextPipeline.fit(pairs, "unigram", max_vocab_size=40)
    with pytest.raises(ValueError, match="joint vocabulary has one size"):
        TextPipeline.fit(pairs, "bpe", joint_vocabulary=True, max_target_vocab_size=60)
    with pytest.raises(ValueError, match="min_count.*SentencePiece"):
        TextPipeline.fit(pairs, "unigram", min_count=2)
    with pytest.raises(ValueError, match="token_level"):
        TextPipeline.fit(pairs, "bytes")


def test_length_filter_counts_tokens_of_each_side():
    text = TextPipeline.fit([("a b c", "x")], "word")
    pairs = [("a", "x"), ("a b c", "x"), ("a", "x y z w"), ("a b", "x y")]
    assert length_filter(text, pairs, 2, 0) == ([pairs[0], pairs[2], pairs[3]], 1)
    assert length_filter(text, pairs, 2, 2) == ([pairs[0], pairs[3]], 2)
    assert length_filter(text, pairs, 0, 0) == (pairs, 0)


def test_bucketed_batches_group_lengths():
    rng = np.random.default_rng(0)
    pairs = [(" ".join(["a"] * n), " ".join(["b"] * m))
             for n, m in rng.integers(1, 40, size=(300, 2))]  # fmt: skip
    text = TextPipeline.fit(pairs, "word")
    plan = text.padding_plan(pairs, 16, bucket_by_length=True)
    assert plan.buckets == BUCKET_BOUNDARIES and not plan.source_edges  # not compiled
    seen = []
    for inputs, target_out, weights in text.dataset(pairs, 16, shuffle=True, padding=plan):
        source, target_out = inputs["source"].numpy(), target_out.numpy()
        # Not compiled: each side padded to its longest row only.
        assert (source > 0).sum(1).max() == source.shape[1]
        assert (target_out > 0).sum(1).max() == target_out.shape[1]
        # Every row of a batch belongs to the same bucket: the longest side of each row
        # lies between the previous bound and the bucket's.
        lengths = np.maximum((source > 0).sum(1), (target_out > 0).sum(1))
        bound = min(b for b in BUCKET_BOUNDARIES if b >= lengths.max())
        previous = max([b for b in BUCKET_BOUNDARIES if b < bound], default=0)
        assert np.all((lengths > previous) & (lengths <= bound))
        np.testing.assert_array_equal(weights.numpy(), target_out != 0)
        seen += [int((row > 0).sum()) for row in source]
    assert sorted(seen) == sorted(len(s.split()) for s, _ in pairs)  # every pair, once
