"""Speech recognition's example inputs and tiny configuration: what the registry-wide tests,
the docs and a first try of a new entry run on, so that none of them keeps a table of tasks.

Plain Python and numpy (no TensorFlow, no Keras).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

# Model arguments every speech entry takes, at toy sizes (the data's sizes included).
TINY_MODEL = {"vocab_size": 12, "units": 8, "num_mel_bins": 16}
# Settings `write_example_data`'s file needs (none: its format says it all).
DATA_SETTINGS: dict[str, Any] = {}
# Settings for a few quick training steps on `write_example_data`'s folder; an entry takes
# the ones it has.
TINY_SETTINGS: dict[str, Any] = {
    **DATA_SETTINGS,
    "speller_units": 8,
    "num_layers": 2,
    "reductions": 2,
}
_SAMPLES = 4000  # a quarter of a second at 16 kHz: 26 log-mel frames


def example_batch() -> dict[str, np.ndarray]:
    """A batch of two waveforms for a `TINY_MODEL` (the second shorter), and the characters
    fed to a speller."""
    return {
        "audio": np.random.default_rng(2).normal(0, 0.1, size=(2, _SAMPLES)).astype("float32"),
        "audio_length": np.array([_SAMPLES, 2500], "int32"),
        "target_in": np.array([[2, 4, 5], [2, 6, 0]]),
    }


def search_inputs(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What `zoo.decoding`'s searches take from `example_batch()`: the audio."""
    return {key: value for key, value in batch.items() if key != "target_in"}


def output_shape(config: dict[str, Any]) -> tuple[int, ...]:
    """The logits' shape for `example_batch()`: a speller's per character fed, a CTC model's
    per frame (26 log-mel frames, halved by each of the first `reductions` layers)."""
    if "speller_units" in config:
        return (2, 3, config["vocab_size"])
    frames = 26
    for _ in range(config["reductions"]):
        frames = math.ceil(frames / 2)
    return (2, frames, config["vocab_size"])


def write_example_data(folder: str | Path, utterances: int = 24, seed: int = 7) -> Path:
    """A folder of spoken answers (espeak-ng, two voices; a quarter recorded at 8 kHz, which
    the reader resamples) with its `transcripts.tsv` (the format of `zoo train --data DIR`)."""
    from zoo.data.audio import resample, wav_bytes
    from zoo.data.espeak import Synthesizer
    from zoo.data.transcripts import random_transcript

    rng = np.random.default_rng(seed)
    synth = Synthesizer.get()
    folder = Path(folder)
    lines = []
    for i in range(utterances):
        text = random_transcript(rng)
        audio = synth.speak(text, ("en-us+m3", "en+f2")[i % 2], 170, 50)
        rate = 8000 if i % 4 == 3 else 16000
        (folder / f"u{i:02d}.wav").write_bytes(wav_bytes(resample(audio, 16000, rate), rate))
        lines.append(f"u{i:02d}.wav\t{text}\n")
    (folder / "transcripts.tsv").write_text("".join(lines), encoding="utf-8")
    return folder
