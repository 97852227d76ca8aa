"""Small numpy references shared by the tests."""

import keras
import numpy as np


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def set_weights(layer, **arrays):
    """Assign named weights of a built layer (by the variable's name)."""
    by_name = {w.name: w for w in layer.weights}
    for name, value in arrays.items():
        by_name[name].assign(np.asarray(value, dtype="float32"))


def run_until_line(command, marker):
    """Starts `command`, returns the running process once it has printed a line starting with
    `marker` (reading its output as it comes: an event, not a deadline). Raises if it ends
    first. The caller kills the process."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.lstrip().startswith(marker):
            return process
    process.wait()
    raise AssertionError(f"{command} ended before printing {marker!r}:\n{''.join(seen)[-3000:]}")


def wav_file(signal, rate, bits=16, channels=1, float32=False, extensible=False, extra_chunk=False):
    """WAV bytes of `signal` (floats in [-1, 1), each channel the same), laid out as sox and
    ffmpeg write them: integer PCM of `bits` bits, or 32-bit float; plain or
    WAVE_FORMAT_EXTENSIBLE; optionally a padded LIST chunk before the data."""
    import struct

    import numpy as np

    frames = np.repeat(np.asarray(signal, np.float64)[:, None], channels, axis=1).ravel()
    if float32:
        bits, code, data = 32, 3, frames.astype("<f4").tobytes()
    elif bits == 8:
        code, data = 1, np.clip(np.round(frames * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    elif bits == 24:
        ints = np.clip(np.round(frames * 2**23), -(2**23), 2**23 - 1).astype(np.int64)
        code, data = 1, b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in ints)
    else:
        top = 2 ** (bits - 1)
        ints = np.clip(np.round(frames * top), -top, top - 1)
        code, data = 1, ints.astype(f"<i{bits // 8}").tobytes()
    block = channels * bits // 8
    common = struct.pack("<HIIHH", channels, rate, rate * block, block, bits)
    if extensible:
        guid = struct.pack("<H", code) + bytes.fromhex("000000001000800000aa00389b71")
        fmt = struct.pack("<H", 0xFFFE) + common + struct.pack("<HHI", 22, bits, 0) + guid
    else:
        fmt = struct.pack("<H", code) + common
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
