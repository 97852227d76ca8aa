"""Text classification's training settings: plain Python, so that `zoo describe` and the checks
of `--set` values need no backend.
"""

from __future__ import annotations

from zoo.tasks.settings import TaskSettings

SETTINGS = TaskSettings(
    defaults={
        "attention_examples": 4,  # validation examples explained after training
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
