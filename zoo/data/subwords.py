"""Subword vocabularies: SentencePiece models trained on the user's training text.

The `sentencepiece` package trains the model (unigram or BPE); tensorflow-text's
`SentencepieceTokenizer` runs it in the graph, so a SavedModel still takes raw text and gives
back detokenized text. The model's special ids are the zoo's (`<pad>` 0, `<unk>` 1, `<s>` 2,
`</s>` 3), so a subword codec and a `WordCodec` are interchangeable.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import tensorflow as tf
import tensorflow_text as tf_text

from zoo.data.placeholders import MASKS
from zoo.data.tokenization import normalize, until_end
from zoo.data.vocabulary import BOS, EOS, PAD, UNK, Vocabulary

SUBWORD_LEVELS = ("unigram", "bpe")
# Sentences SentencePiece samples for training; more only costs time (its own default).
TRAINING_SENTENCES = 1_000_000


def train_sentencepiece(
    texts: list[str],
    level: str = "unigram",
    vocab_size: int = 8000,
    seed: int = 0,
    keep_whitespace: bool = False,
) -> bytes:
    """A serialized SentencePiece model of at most `vocab_size` pieces, specials included.

    `vocab_size` is a ceiling: a small text gets the vocabulary it can fill. Placeholder masks
    (zoo.data.placeholders) in the text are pieces of their own, never merged with their
    neighbours. With `keep_whitespace`, the model keeps runs of spaces instead of collapsing
    them.
    """
    if level not in SUBWORD_LEVELS:
        raise ValueError(f"`level` must be one of {SUBWORD_LEVELS}, received level={level!r}.")
    import sentencepiece as spm  # only needed to train; the graph runs tensorflow-text's kernel

    texts = [text for text in texts if text]
    if not texts:
        raise ValueError("SentencePiece needs at least one non-empty training sentence.")
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)  # sampling of input sentences
    try:
        joined = "".join(texts)
        masks = [mask for mask in MASKS if mask in joined]
        _train(spm, texts, model, level, vocab_size, masks, keep_whitespace)
    except RuntimeError as error:
        if "required_chars" not in str(error):
            raise
        characters = len(set("".join(texts)))
        raise ValueError(
            f"A {level} vocabulary of at most {vocab_size} pieces cannot hold the {characters} "
            "distinct characters of the training text (plus the 4 special tokens); raise "
            "max_vocab_size / max_target_vocab_size."
        ) from None
    return model.getvalue()


def _train(
    spm,
    texts: list[str],
    model: io.BytesIO,
    level: str,
    vocab_size: int,
    masks: list[str],
    keep_whitespace: bool,
) -> None:
    options = {"user_defined_symbols": masks} if masks else {}
    if keep_whitespace:
        options["remove_extra_whitespaces"] = False
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        model_type=level,
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a ceiling, not a demand small texts cannot meet
        character_coverage=1.0,  # every character of the training text stays a piece
        pad_id=0, unk_id=1, bos_id=2, eos_id=3,
        pad_piece=PAD, unk_piece=UNK, bos_piece=BOS, eos_piece=EOS,
        input_sentence_size=TRAINING_SENTENCES,
        shuffle_input_sentence=True,
        num_threads=1,  # the same model on every machine
        minloglevel=2,
        **options,
    )  # fmt: skip


class SubwordCodec:
    """One side's text <-> ids with a SentencePiece model, in the graph.

    Args:
        model: A serialized SentencePiece model whose specials are the zoo's.
        level: `"unigram"` or `"bpe"` (what it was trained as; recorded, not re-checked).
        lowercase: Whether text is case-folded before tokenization.
        keep_whitespace: Whether runs of whitespace are kept (the model was trained so).
    """

    def __init__(
        self,
        model: bytes,
        level: str = "unigram",
        lowercase: bool = False,
        keep_whitespace: bool = False,
    ):
        self.model = model
        self.level = level
        self.lowercase = lowercase
        self.keep_whitespace = keep_whitespace
        # A name of its own: a SavedModel recreates each model resource from a graph node, and
        # nodes of the same name share one resource (the target would tokenize as the source).
        name = f"sentencepiece_{hashlib.sha1(model).hexdigest()[:12]}"
        self.tokenizer = tf_text.SentencepieceTokenizer(model=model, out_type=tf.int32, name=name)
        size = int(self.tokenizer.vocab_size())
        pieces = self.tokenizer.id_to_string(tf.range(size)).numpy()
        self.vocabulary = Vocabulary(piece.decode("utf-8") for piece in pieces)

    @classmethod
    def fit(
        cls,
        texts: list[str],
        level: str = "unigram",
        lowercase: bool = False,
        max_vocab_size: int = 8000,
        seed: int = 0,
        keep_whitespace: bool = False,
    ) -> SubwordCodec:
        """Trains a SentencePiece model on `texts`, normalized as the graph will see them."""
        normalized = normalize(tf.constant(texts), lowercase, keep_whitespace).numpy()
        normalized = [t.decode("utf-8") for t in normalized]
        model = train_sentencepiece(normalized, level, max_vocab_size, seed, keep_whitespace)
        return cls(model, level, lowercase, keep_whitespace)

    @property
    def resources(self) -> list:
        """What an export must track for `encode` / `decode` to work in the SavedModel."""
        return [self.tokenizer]

    def get_config(self) -> dict:
        config = {"level": self.level, "lowercase": self.lowercase}
        return {**config, "keep_whitespace": True} if self.keep_whitespace else config

    def save(self, directory: Path, prefix: str) -> dict:
        """Writes `<prefix>.spm` (and `<prefix>_vocab.txt`, to read); returns `load`'s config."""
        (directory / f"{prefix}.spm").write_bytes(self.model)
        self.vocabulary.save(directory / f"{prefix}_vocab.txt")
        return {**self.get_config(), "model": f"{prefix}.spm"}

    @classmethod
    def load(cls, directory: Path, config: dict) -> SubwordCodec:
        model = (directory / config["model"]).read_bytes()
        keep = config.get("keep_whitespace", False)
        return cls(model, config["level"], config["lowercase"], keep)

    def pieces(self, texts) -> tf.RaggedTensor:
        """`string[batch]` -> ragged `string[batch, (pieces)]` (`▁` marks a word start)."""
        return self.tokenizer.id_to_string(self.encode(texts))

    def encode(self, texts) -> tf.RaggedTensor:
        """`string[batch]` -> ragged `int32[batch, (pieces)]`."""
        texts = tf.convert_to_tensor(texts, tf.string)
        return self.tokenizer.tokenize(normalize(texts, self.lowercase, self.keep_whitespace))

    def id_to_piece(self, ids: tf.Tensor) -> tf.Tensor:
        return self.tokenizer.id_to_string(tf.cast(ids, tf.int32))

    def decode(self, ids: tf.Tensor) -> tf.Tensor:
        """`int[batch, time]` -> detokenized `string[batch]`, up to the first `</s>` / `<pad>`."""
        return self.tokenizer.detokenize(until_end(tf.cast(ids, tf.int32)))
