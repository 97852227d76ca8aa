"""Text classification's example inputs and tiny configuration: what the registry-wide tests,
the docs and a first try of a new entry run on, so that none of them keeps a table of tasks.

Plain Python and numpy (no TensorFlow, no Keras).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import numpy as np

# Model arguments every classification entry takes, at toy sizes (the data's sizes included).
TINY_MODEL = {"vocab_size": 30, "num_classes": 3, "embedding_dim": 8, "units": 8}
# Settings `write_example_data`'s file needs (none: its format says it all).
DATA_SETTINGS: dict[str, Any] = {}
# Settings for a few quick training steps on `write_example_data`'s file.
TINY_SETTINGS: dict[str, Any] = dict(DATA_SETTINGS)


def example_batch() -> np.ndarray:
    """A batch of two word-id sequences for a `TINY_MODEL` (0 pads)."""
    return np.array([[5, 6, 7, 8], [9, 10, 0, 0]])


def output_shape(config: dict[str, Any]) -> tuple[int, ...]:
    """The logits' shape for `example_batch()`."""
    return (2, config["num_classes"])


def write_example_data(folder: str | Path, rows: int = 300, seed: int = 0) -> Path:
    """A `text,label` CSV of templated reviews whose label a model can learn (the format of
    `zoo train --data FILE.csv`)."""
    rng = random.Random(seed)
    good = ["wonderful", "moving", "brilliant", "charming", "gripping", "funny"]
    bad = ["dull", "tedious", "clumsy", "boring", "lifeless", "messy"]
    subjects = ["the film", "this movie", "the plot", "the cast", "the script", "the ending"]
    path = Path(folder) / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(rows):
            label = "fresh" if i % 2 else "rotten"
            word = rng.choice(good if label == "fresh" else bad)
            writer.writerow([f"{rng.choice(subjects)} is {word} , scene {i}", label])
    return path
