"""Audio files: reading WAV, FLAC, Ogg and MP3, writing WAV, resampling to the zoo's rate.

Audio is kept as int16 at `SAMPLE_RATE`; other rates are resampled (polyphase, scipy).
"""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np

from zoo.data.tsv import DataFileError
from zoo.data.wav import WavError, parse_wav

SAMPLE_RATE = 16_000


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """int16 `audio` from `rate` to `target` Hz (polyphase filter)."""
    if rate == target or len(audio) == 0:
        return audio.astype(np.int16)
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    out = resample_poly(audio.astype(np.float32), target // g, rate // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(int16 mono samples, sample rate) of a WAV file (`zoo.data.wav` reads 8 to 32-bit PCM,
    32-bit float, plain or extensible); errors name the file and the fix."""
    path = Path(path)
    try:
        samples, rate = parse_wav(path.read_bytes())
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such WAV file.") from None
    except IsADirectoryError:
        raise DataFileError(f"{path} is a folder, not a WAV file.") from None
    except WavError as error:
        raise DataFileError(
            f"{path} is not a WAV file the zoo reads ({error}); convert it, e.g. "
            f"`ffmpeg -i {path.name} -acodec pcm_s16le out.wav`."
        ) from None
    if len(samples) == 0:
        raise DataFileError(f"{path} holds no audio (0 samples).")
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16), rate


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """`(int16 mono samples, rate)` of a WAV, FLAC, Ogg or MP3 file, errors naming the file."""
    path = Path(path)
    if path.suffix.lower() == ".wav":
        return read_wav(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such audio file.")
    try:
        import soundfile
    except ImportError:  # a dependency of lstm-zoo: only a broken install lacks it
        raise DataFileError(
            f"{path}: reading {path.suffix} files needs soundfile (pip install soundfile)."
        ) from None
    try:
        samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise DataFileError(
            f"{path} cannot be read as audio ({error}); convert it, e.g. "
            f"`ffmpeg -i {path.name} -acodec pcm_s16le out.wav`."
        ) from None
    if not len(samples):
        raise DataFileError(f"{path} holds no audio (0 samples).")
    mono = np.round(samples.astype(np.float64).mean(axis=1))
    return mono.astype(np.int16), rate


def wav_bytes(waveform: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM mono WAV file contents of int16 samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(waveform, np.int16).tobytes())
    return buffer.getvalue()
