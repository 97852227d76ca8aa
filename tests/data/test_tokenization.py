import numpy as np
import pytest
import tensorflow as tf

from zoo.data.tokenization import TokenIds, Tokenizer
from zoo.data.vocabulary import EOS_ID, UNK_ID, Vocabulary


def strings(ragged):
    return [[t.decode("utf-8") for t in row] for row in ragged.to_list()]


def test_char_level_normalizes_and_keeps_spaces():
    tokens = Tokenizer("char").split(["  3  de\tmarzo ", "ｆｕｌｌ"])
    assert strings(tokens) == [list("3 de marzo"), list("full")]  # NFKC folds full-width


def test_word_level_splits_punctuation():
    assert strings(Tokenizer("word").split(["Hello, world!"])) == [["Hello", ",", "world", "!"]]
    assert strings(Tokenizer("word", lowercase=True).split(["Hello"])) == [["hello"]]


def test_invalid_utf8_becomes_replacement_characters():
    tokens = Tokenizer("char").split(tf.constant([b"a\xffb"]))
    assert strings(tokens) == [["a", "\ufffd", "b"]]


def test_vocabulary_build_save_load(tmp_path):
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], max_size=6)
    assert vocab.tokens == ["<pad>", "<unk>", "<s>", "</s>", "b", "a"]
    vocab.save(tmp_path / "v.txt")
    assert Vocabulary.load(tmp_path / "v.txt") == vocab
    assert vocab.id("zzz") == UNK_ID
    with pytest.raises(ValueError, match="special tokens"):
        Vocabulary(["a", "b"])


def test_ids_round_trip_and_decoding_stops_at_eos():
    vocab = Vocabulary.build([list("2015-03")])
    ids = TokenIds(vocab)
    encoded = ids.encode(Tokenizer("char").split(["2015-03", "9"]), append_eos=True)
    rows = encoded.to_list()
    assert rows[0][-1] == EOS_ID and rows[1] == [UNK_ID, EOS_ID]
    dense = encoded.to_tensor()
    decoded = ids.decode(np.concatenate([dense, np.full((2, 2), 5)], axis=1), "")
    assert [d.decode() for d in decoded.numpy()] == ["2015-03", "<unk>"]


def test_unknown_level():
    with pytest.raises(ValueError, match="level"):
        Tokenizer("byte")
