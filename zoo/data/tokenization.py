"""Text to token ids and back, as TensorFlow ops so that training and serving share them.

Normalization and splitting use tensorflow-text kernels, which TF Serving links in, so the
exported SavedModel tokenizes exactly as training did. A `WordCodec` (characters or words with
a vocabulary) and a `zoo.data.subwords.SubwordCodec` (SentencePiece) answer the same calls, so
the translation pipeline does not care which it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import tensorflow as tf
import tensorflow_text as tf_text

from zoo.data.placeholders import MASKS
from zoo.data.vocabulary import EOS_ID, PAD_ID, UNK_ID, Vocabulary

LEVELS = ("char", "word")


def check_keep_whitespace(level: str, keep_whitespace: bool) -> None:
    """The word level rejoins words with one space: it cannot keep whitespace."""
    if keep_whitespace and level == "word":
        raise ValueError(
            "Words are rejoined with one space, so the word level cannot keep whitespace: "
            "use token_level char, unigram or bpe with keep_whitespace, or turn it off."
        )


def normalize(
    texts: tf.Tensor, lowercase: bool = False, keep_whitespace: bool = False
) -> tf.Tensor:
    """Invalid UTF-8 becomes U+FFFD, then NFKC (and optional case folding); unless
    `keep_whitespace`, runs of whitespace become one space and both ends are stripped."""
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = tf_text.case_fold_utf8(texts) if lowercase else tf_text.normalize_utf8(texts, "NFKC")
    if keep_whitespace:
        return texts
    texts = tf.strings.regex_replace(texts, r"\s+", " ")
    return tf.strings.strip(texts)


class Tokenizer:
    """Splits normalized text into characters or into words and punctuation.

    Args:
        level: `"char"` (every Unicode character, spaces included) or `"word"` (words and
            punctuation marks, split by tensorflow-text's `UnicodeScriptTokenizer`).
        lowercase: Whether to case-fold (which also applies NFKC).
        keep_whitespace: Keep runs of whitespace and spaces at the ends (characters only: the
            word level rejoins words with one space).
    """

    def __init__(self, level: str = "char", lowercase: bool = False, keep_whitespace=False):
        if level not in LEVELS:
            raise ValueError(f"`level` must be one of {LEVELS}, received level={level!r}.")
        check_keep_whitespace(level, keep_whitespace)
        self.level = level
        self.lowercase = lowercase
        self.keep_whitespace = keep_whitespace
        self._words = tf_text.UnicodeScriptTokenizer()

    @property
    def separator(self) -> str:
        return "" if self.level == "char" else " "

    def get_config(self) -> dict:
        config = {"level": self.level, "lowercase": self.lowercase}
        return {**config, "keep_whitespace": True} if self.keep_whitespace else config

    def split(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """`string[batch]` -> ragged `string[batch, (tokens)]`."""
        texts = tf.convert_to_tensor(texts, tf.string)
        texts = normalize(texts, self.lowercase, self.keep_whitespace)
        if self.level == "char":
            return tf.strings.unicode_split(texts, "UTF-8")
        words = self._words.tokenize(texts)
        # Placeholder masks (zoo.data.placeholders) side by side are one "word" of one script
        # to the tokenizer: each is a token of its own.
        masks = f"[{MASKS[0]}-{MASKS[-1]}]"
        split = tf_text.regex_split(words.flat_values, masks, keep_delim_regex_pattern=masks)
        return words.with_flat_values(split).merge_dims(1, 2)


class TokenIds:
    """Maps tokens to ids and back with in-graph lookup tables built from a `Vocabulary`."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        tokens = tf.constant(vocabulary.tokens)
        ids = tf.range(len(vocabulary.tokens), dtype=tf.int64)
        self.to_id = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tokens, ids), default_value=UNK_ID
        )
        self.to_token = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(ids, tokens), default_value=""
        )

    def encode(self, tokens: tf.RaggedTensor, append_eos: bool = False) -> tf.RaggedTensor:
        ids = tf.cast(self.to_id.lookup(tokens), tf.int32)
        if append_eos:
            eos = tf.fill([ids.nrows(), 1], EOS_ID)
            ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        return ids

    def decode(self, ids: tf.Tensor, separator: str) -> tf.Tensor:
        """`int[batch, time]` -> `string[batch]`, stopping at the first `</s>` or `<pad>`."""
        kept = until_end(tf.cast(ids, tf.int64))
        return tf.strings.reduce_join(self.to_token.lookup(kept), axis=1, separator=separator)


def pad_to_edge(ids: tf.Tensor, edges: Sequence[int]) -> tf.Tensor:
    """`int[batch, time]` padded with zeros up to the first of `edges` (sorted) that holds
    `time` (unchanged past the last): the few shapes a compiled (XLA) step sees
    (`zoo.data.padding` chooses the edges)."""
    if not edges:
        return ids
    length = tf.shape(ids)[1]
    bounds = tf.constant(edges, tf.int32)
    edge = tf.reduce_min(tf.where(bounds >= length, bounds, tf.int32.max))
    length_to = tf.where(edge == tf.int32.max, length, edge)
    return tf.pad(ids, [[0, 0], [0, length_to - length]])


def until_end(ids: tf.Tensor) -> tf.RaggedTensor:
    """`int[batch, time]` -> the ids before each row's first `</s>` or `<pad>`."""
    ids = tf.convert_to_tensor(ids)
    stop = tf.logical_or(tf.equal(ids, EOS_ID), tf.equal(ids, PAD_ID))
    return tf.ragged.boolean_mask(ids, tf.equal(tf.cumsum(tf.cast(stop, tf.int32), axis=1), 0))


class WordCodec:
    """One side's text <-> ids with a `Tokenizer` (characters or words) and a `Vocabulary`.

    Args:
        tokenizer: How text is split.
        vocabulary: The tokens that get ids; others become `<unk>`.
    """

    def __init__(self, tokenizer: Tokenizer, vocabulary: Vocabulary):
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.ids = TokenIds(vocabulary)

    @classmethod
    def fit(
        cls,
        texts: list[str],
        level: str = "char",
        lowercase: bool = False,
        max_vocab_size: int | None = None,
        min_count: int = 1,
        keep_whitespace: bool = False,
    ) -> WordCodec:
        """The most frequent tokens of `texts` (at most `max_vocab_size`, specials included)."""
        tokenizer = Tokenizer(level, lowercase, keep_whitespace)
        rows = tokenizer.split(texts).to_list()
        tokens = [[token.decode("utf-8") for token in row] for row in rows]
        vocabulary = Vocabulary.build(tokens, max_size=max_vocab_size, min_count=min_count)
        return cls(tokenizer, vocabulary)

    @property
    def level(self) -> str:
        return self.tokenizer.level

    @property
    def resources(self) -> list:
        """What an export must track for `encode` / `decode` to work in the SavedModel."""
        return [self.ids.to_id, self.ids.to_token]

    def get_config(self) -> dict:
        return self.tokenizer.get_config()

    def save(self, directory: Path, prefix: str) -> dict:
        """Writes `<prefix>_vocab.txt`; returns the config `load` takes back."""
        self.vocabulary.save(directory / f"{prefix}_vocab.txt")
        return {**self.get_config(), "vocabulary": f"{prefix}_vocab.txt"}

    @classmethod
    def load(cls, directory: Path, config: dict) -> WordCodec:
        tokenizer = Tokenizer(
            config["level"], config["lowercase"], config.get("keep_whitespace", False)
        )
        return cls(tokenizer, Vocabulary.load(directory / config["vocabulary"]))

    def pieces(self, texts) -> tf.RaggedTensor:
        """`string[batch]` -> ragged `string[batch, (tokens)]`."""
        return self.tokenizer.split(texts)

    def encode(self, texts) -> tf.RaggedTensor:
        """`string[batch]` -> ragged `int32[batch, (tokens)]`."""
        return self.ids.encode(self.pieces(texts))

    def id_to_piece(self, ids: tf.Tensor) -> tf.Tensor:
        return self.ids.to_token.lookup(tf.cast(ids, tf.int64))

    def decode(self, ids: tf.Tensor) -> tf.Tensor:
        """`int[batch, time]` -> `string[batch]`, stopping at the first `</s>` or `<pad>`."""
        return self.ids.decode(ids, self.tokenizer.separator)
