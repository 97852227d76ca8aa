"""Each task's training settings, declared apart from the task module (which imports
TensorFlow), so that `zoo describe` and the checks of `--set` values need no backend.

A task module's `Task` reads its declaration from here (`Task.declared`); a new task adds one
`TaskSettings` to `TASK_SETTINGS` beside its line in `zoo.tasks.TASK_MODULES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class TaskSettings:
    """A task's training settings.

    Attributes:
        defaults: The task's settings and their defaults, beyond the ones every task has
            (`zoo.settings.COMMON_SETTINGS`, whose defaults it may change too).
        choices: Settings that take one of a few values, and those values.
        may_be_zero: Integer settings for which 0 is allowed (it means "none" or "off").
        sized_by_data: Model arguments the data fixes, each with what to set instead; setting
            one is refused rather than silently overridden.
        by_data: Defaults that depend on the dataset (a dataset name -> settings).
    """

    defaults: Mapping[str, Any]
    choices: Mapping[str, tuple] = field(default_factory=dict)
    may_be_zero: frozenset[str] = frozenset()
    sized_by_data: Mapping[str, str] = field(default_factory=dict)
    by_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def for_data(self, data: str) -> dict[str, Any]:
        return dict(self.by_data.get(data, {}))


# Translation's token levels: characters, words, or SentencePiece subwords (zoo.data.subwords).
TOKEN_LEVELS = ("char", "word", "unigram", "bpe")
OUTPUT_BIASES = ("zeros", "unigram")
TEXT = {"attention_examples": 4}  # a few examples drawn as attention maps after training

TRANSLATION = TaskSettings(
    defaults={
        **TEXT,
        "beam_size": 4,
        "length_penalty": 0.6,
        # char, word, or SentencePiece subwords (unigram, bpe) trained on the training text
        "token_level": "word",
        "lowercase": False,
        "max_vocab_size": 16_000,  # per side, specials included
        "max_target_vocab_size": 0,  # 0: the same as max_vocab_size
        "joint_vocabulary": False,  # one vocabulary for both sides
        "min_count": 1,  # word / char vocabularies: tokens seen fewer times are <unk>
        "max_source_length": 200,  # longer sources are cut (training and translation)
        # Training and validation pairs longer than these (in tokens) are dropped; 0: keep all.
        "max_train_source_length": 0,
        "max_train_target_length": 0,
        "bucket_by_length": False,  # batches of similar lengths, padded to bucket edges
        "source_column": 1,  # TSV files: the 1-based source and target columns
        "target_column": 2,
        # Compile the training step with XLA; lengths are then padded to multiples of 8 (or
        # bucket edges) so it compiles once per shape. Off: on CPUs XLA ran these loops 2x slower.
        "jit_compile": False,
        # The output layer's starting bias: "zeros", or "unigram", the log frequencies of the
        # training targets' tokens, so the first steps need not learn them through the hidden
        # layers (which a large vocabulary can saturate for good: zoo.tasks.translation).
        "output_bias": "zeros",
    },
    choices={"token_level": TOKEN_LEVELS, "output_bias": OUTPUT_BIASES},
    may_be_zero=frozenset(
        {"max_target_vocab_size", "max_train_source_length", "max_train_target_length"}
    ),
    sized_by_data={
        side: "the vocabularies are built from the training text; set max_vocab_size (and "
        "max_target_vocab_size for a different target size)."
        for side in ("source_vocab_size", "target_vocab_size")
    },
    by_data={"dates": {"token_level": "char"}, "bible-es-en": {"token_level": "unigram"}},
)

CLASSIFICATION = TaskSettings(
    defaults={
        **TEXT,
        "epochs": 10,
        "learning_rate": 2e-3,
        "patience": 3,
        "lowercase": True,
        "max_vocab_size": 20_000,
        "min_count": 2,  # words seen once in training are mostly noise to a classifier
        "max_source_length": 100,
    },
    sized_by_data={
        "vocab_size": "the vocabulary is built from the training texts; set max_vocab_size.",
        "num_classes": "it is the number of labels in the training data.",
    },
)

FORECASTING = TaskSettings(
    defaults={
        "lookback": 96,  # rows of history the model reads
        "horizon": 48,  # rows forecast at once
        "stride": 1,  # rows between training origins
        "target": "",  # a CSV column; default: the file's only value column
        "timestamp": "",  # a CSV column; default: one named timestamp/time/date, else the first
        "plot_examples": 3,  # test windows drawn in the run's forecast plots
    },
    sized_by_data={
        "num_features": "it is the number of series columns read from the data.",
        "num_known": "it is the number of covariate columns plus the calendar features.",
    },
)

SPEECH = TaskSettings(
    defaults={
        "attention_examples": 4,  # alignments / CTC posteriors drawn after training
        "beam_size": 4,  # the speller's beam, or CTC beam search's (1: greedy)
        "length_penalty": 0.6,
        "augment": True,  # speed, telephone band and noise on training audio
        # spoken-numbers: utterances generated per split (held-out voices for the last two)
        "train_utterances": 3000,
        "validation_utterances": 400,
        "test_utterances": 600,
    },
    sized_by_data={
        "vocab_size": "the characters are read from the training transcripts.",
        "sample_rate": "the zoo's audio is 16 kHz; other rates are resampled on reading.",
    },
)

TASK_SETTINGS = {
    "translation": TRANSLATION,
    "classification": CLASSIFICATION,
    "forecasting": FORECASTING,
    "speech": SPEECH,
}
