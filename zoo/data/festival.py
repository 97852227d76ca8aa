"""The Festival speech synthesizer (Debian packages `festival` and festvox voices): a third
synthesizer family, diphone and HTS voices, spoken by one batch process per call.
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

# Festival's voice functions, from festvox-kallpc16k, festvox-kdlpc16k and festvox-us-slt-hts.
VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
NORMAL_RATE = 175  # words per minute at Duration_Stretch 1, as espeak-ng's default rate
APT = (
    "apt-get install -y --no-install-recommends festival festvox-kallpc16k festvox-kdlpc16k "
    "festvox-us-slt-hts"
)


def speak_all(requests: Sequence[tuple[str, str, int, float]]) -> list[np.ndarray]:
    """int16 waveforms at 16 kHz of `(text, voice, words per minute, pitch shift in
    semitones)` requests. The HTS voice keeps its own pitch (Festival's HTS engine module
    ignores the engine's half-tone option); the diphone voices shift theirs."""
    if shutil.which("festival") is None:
        raise DataFileError(
            "Festival is not installed; it and its voices are Debian packages: "
            f"`bash scripts/install_speech_data.sh` (or {APT})."
        )
    with tempfile.TemporaryDirectory() as folder:
        lines: list[str] = []
        for i, (text, voice, rate, semitones) in enumerate(requests):
            words = spoken_text(text).replace("\\", "").replace('"', "")
            stretch = NORMAL_RATE / rate
            # Selecting the voice resets its intonation and HTS engine parameters.
            lines += [f"(voice_{voice})", f"(Parameter.set 'Duration_Stretch {stretch:.3f})"]
            if voice.endswith("_hts"):  # HTS ignores both; its engine takes a speed factor
                speed = f'(list (list "-r" {1 / stretch:.3f}))'
                lines.append(f"(set! hts_engine_params (append hts_engine_params {speed}))")
            elif semitones:  # diphone voices: the mean of the F0 targets (105 Hz for both)
                f0 = 105 * 2 ** (semitones / 12)
                lines.append(
                    f"(set! int_lr_params '((target_f0_mean {f0:.1f}) (target_f0_std 14) "
                    "(model_f0_mean 170) (model_f0_std 34)))"
                )
            lines.append(
                f'(utt.save.wave (utt.synth (Utterance Text "{words}")) "{folder}/{i}.wav" \'riff)'
            )
        script = Path(folder) / "speak.scm"
        script.write_text("\n".join(lines) + "\n")
        result = subprocess.run(
            ["festival", "--batch", str(script)], capture_output=True, text=True, check=False
        )
        waves = [Path(folder) / f"{i}.wav" for i in range(len(requests))]
        missing = [requests[i][1] for i, w in enumerate(waves) if not w.is_file()]
        if result.returncode or missing:
            raise DataFileError(
                f"Festival did not speak (voices {sorted(set(missing))}: {result.stderr[-300:]}); "
                f"install its voices: {APT}"
            )
        return [resample(*read_wav(w)) for w in waves]
