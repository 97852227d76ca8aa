"""Text classification's pipeline: tokenizer, vocabulary and label names, used alike in
training, `predict` and the exported SavedModel.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.data import (
    DataFileError,
)
from zoo.data.padding import batch_maxima, choose_edges
from zoo.data.tokenization import TokenIds, Tokenizer, pad_to_edge
from zoo.data.vocabulary import Vocabulary
from zoo.runs import read_json

VOCAB = "vocab.txt"
LABELS = "labels.txt"
TEXT_CONFIG = "text.json"


@dataclass
class LabelPipeline:
    """Tokenizer, vocabulary and label names of a classifier."""

    tokenizer: Tokenizer
    vocab: Vocabulary
    labels: list[str]
    max_length: int = 100

    def __post_init__(self):
        self.ids = TokenIds(self.vocab)
        self.label_names = tf.constant(self.labels)
        self._label_ids = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def fit(
        cls,
        examples: list[tuple[str, str]],
        lowercase: bool = True,
        max_vocab_size: int = 20_000,
        max_length: int = 100,
        min_count: int = 1,
    ) -> LabelPipeline:
        tokenizer = Tokenizer("word", lowercase)
        rows = tokenizer.split([text for text, _ in examples]).to_list()
        tokens = [[t.decode("utf-8") for t in row] for row in rows]
        labels = sorted({label for _, label in examples})
        vocab = Vocabulary.build(tokens, max_size=max_vocab_size, min_count=min_count)
        return cls(tokenizer, vocab, labels, max_length)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        self.vocab.save(directory / VOCAB)
        # labels.txt is for people; text.json holds them exactly (a label may hold a newline).
        (directory / LABELS).write_text("".join(f"{label!r}\n" for label in self.labels))
        config = {
            "tokenizer": self.tokenizer.get_config(),
            "max_length": self.max_length,
            "labels": self.labels,
        }
        (directory / TEXT_CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> LabelPipeline:
        directory = Path(directory)
        config = read_json(directory / TEXT_CONFIG)
        return cls(
            Tokenizer(**config["tokenizer"]),
            Vocabulary.load(directory / VOCAB),
            config["labels"],
            config["max_length"],
        )

    def tokens(self, texts) -> tf.RaggedTensor:
        return self.tokenizer.split(texts)[:, : self.max_length]

    def encode(self, texts) -> tf.Tensor:
        """`string[batch]` -> `int32[batch, T]`; one padding column keeps T >= 1."""
        # Cut after padding: slicing the ragged tokens costs ~0.15 s of tracing per graph.
        ids = self.ids.encode(self.tokenizer.split(texts)).to_tensor()[:, : self.max_length]
        return tf.pad(ids, [[0, 0], [0, 1]])

    def label_ids(self, labels: list[str], where: str = "") -> np.ndarray:
        unknown = sorted({label for label in labels if label not in self._label_ids})
        if unknown:
            raise DataFileError(
                f"{where}labels {unknown} were not seen in training; the model knows "
                f"{self.labels}. Add training examples of them, or leave them out here."
            )
        return np.array([self._label_ids[label] for label in labels], dtype="int32")

    def lengths(self, texts: list[str]) -> np.ndarray:
        """`int[n]`: the columns `encode` gives each text alone (its tokens, up to
        `max_length`, and the padding column)."""
        return self.tokens(tf.constant(texts)).row_lengths().numpy() + 1

    def padding_edges(
        self, examples: list[tuple[str, str]], batch_size: int, seed: int = 0
    ) -> tuple[int, ...]:
        """For a compiled (XLA) step: the few lengths batches of `examples` are padded up to,
        chosen from the longest rows of simulated shuffled batches (`zoo.data.padding`)."""
        if not examples:
            return ()
        lengths = self.lengths([text for text, _ in examples])
        return choose_edges(batch_maxima(lengths, batch_size, seed))

    def dataset(
        self,
        examples: list[tuple[str, str]],
        batch_size: int,
        shuffle=False,
        seed: int = 0,
        edges: Sequence[int] = (),
    ) -> tf.data.Dataset:
        """`(token ids, label ids)` batches, each padded to its longest row or, with `edges`
        (`padding_edges`), up to the next edge."""
        texts = tf.constant([text for text, _ in examples])
        labels = tf.constant(self.label_ids([label for _, label in examples]))
        data = tf.data.Dataset.from_tensor_slices((texts, labels))
        if shuffle:
            data = data.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
        edges = tuple(edges)
        return (
            data.batch(batch_size)
            .map(
                lambda t, y: (pad_to_edge(self.encode(t), edges), y),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(2)
        )
