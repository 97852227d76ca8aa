"""flite (Debian package `flite`): a second synthesizer family beside espeak-ng, with its own
voices (diphone and clustergen), for training on more than one synthesizer and for testing on
one a model never heard.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.data.audio import read_wav, resample
from zoo.data.transcripts import spoken_text
from zoo.data.tsv import DataFileError

VOICES = ("kal", "kal16", "awb", "rms", "slt")  # flite's English voices (awb_time: clock only)
NORMAL_RATE = 175  # words per minute at duration_stretch 1, as espeak-ng's default rate
APT = "apt-get install -y --no-install-recommends flite"


def speak_all(requests: Sequence[tuple[str, str, int, float]]) -> list[np.ndarray]:
    """int16 waveforms at 16 kHz of `(text, voice, words per minute, pitch shift)` requests;
    flite's voices speak at their own pitch (the shift must be 0)."""
    if shutil.which("flite") is None:
        raise DataFileError(
            "flite is not installed; it is a Debian package: `bash scripts/install_speech_data.sh` "
            f"(or {APT})."
        )
    out = []
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "out.wav"
        for text, voice, rate, semitones in requests:
            if semitones:
                raise ValueError("flite's voices speak at their own pitch: give a shift of 0.")
            stretch = f"duration_stretch={NORMAL_RATE / rate:.3f}"
            command = ["flite", "-voice", voice, "--setf", stretch, "-t", spoken_text(text)]
            subprocess.run([*command, "-o", str(wav)], check=True, capture_output=True)
            audio, sample_rate = read_wav(wav)
            out.append(resample(audio, sample_rate))
    return out
