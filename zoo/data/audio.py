"""Audio files: reading and writing PCM WAVs, resampling to the zoo's rate.

Audio is kept as int16 at `SAMPLE_RATE`; other rates are resampled (polyphase, scipy).
"""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np

from zoo.data.tsv import DataFileError

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
    """(int16 mono samples, sample rate) of a PCM WAV file; errors name the file and the fix."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such WAV file.") from None
    except (wave.Error, EOFError) as error:
        raise DataFileError(
            f"{path} is not a PCM WAV file ({error}); convert it, e.g. "
            f"`ffmpeg -i {path.name} -acodec pcm_s16le out.wav`."
        ) from None
    if width not in (1, 2, 4):
        raise DataFileError(f"{path}: {8 * width}-bit samples are not supported; use 16-bit PCM.")
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    samples = np.frombuffer(frames, dtype=dtype).astype(np.float64)
    if width == 1:
        samples = (samples - 128) * 256
    elif width == 4:
        samples = samples / 65536
    samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    if len(samples) == 0:
        raise DataFileError(f"{path} holds no audio (0 samples).")
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16), rate


def wav_bytes(waveform: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM mono WAV file contents of int16 samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(waveform, np.int16).tobytes())
    return buffer.getvalue()
