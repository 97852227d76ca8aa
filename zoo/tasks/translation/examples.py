"""Translation's example inputs and tiny configuration: what the registry-wide tests, the docs
and a first try of a new entry run on, so that none of them keeps a table of tasks.

Plain Python and numpy (no TensorFlow, no Keras).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Model arguments every translation entry takes, at toy sizes (the data's sizes included).
TINY_MODEL = {"source_vocab_size": 30, "target_vocab_size": 12, "embedding_dim": 8, "units": 8}
# Settings `write_example_data`'s file needs (none: its format says it all).
DATA_SETTINGS: dict[str, Any] = {}
# Settings for a few quick training steps on `write_example_data`'s file; an entry takes the
# ones it has.
TINY_SETTINGS: dict[str, Any] = {**DATA_SETTINGS, "token_level": "char"}


def example_batch() -> dict[str, np.ndarray]:
    """A batch of two for a `TINY_MODEL`: sources (0 pads) and the targets fed to the decoder."""
    return {
        "source": np.array([[5, 6, 7, 8], [9, 10, 0, 0]]),
        "target_in": np.array([[2, 4, 5], [2, 6, 0]]),
    }


def search_inputs(batch: dict[str, np.ndarray]) -> np.ndarray:
    """What `zoo.decoding`'s searches take from `example_batch()`."""
    return batch["source"]


def output_shape(config: dict[str, Any]) -> tuple[int, ...]:
    """The logits' shape for `example_batch()`: one row per decoder step."""
    return (2, 3, config["target_vocab_size"])


def write_example_data(folder: str | Path, pairs: int = 400, seed: int = 5) -> Path:
    """A `source<TAB>target` file of dates (the format of `zoo train --data FILE.tsv`)."""
    from zoo.data.dates import generate_dates

    path = Path(folder) / "dates.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in generate_dates(pairs, seed=seed)), "utf-8")
    return path
