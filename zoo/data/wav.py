"""PCM WAV files read alike in Python and inside a TensorFlow graph.

`parse_wav` (numpy, for the library) and `decode_wav_in_graph` (TensorFlow ops, for the
SavedModel, which TF Serving runs without Python) read the same formats the same way: integer
PCM of 8, 16, 24 or 32 bits, 32-bit float, plain or `WAVE_FORMAT_EXTENSIBLE` (what sox and
ffmpeg write for 24- and 32-bit audio), any number of channels (averaged), chunks in any order.
TensorFlow's own `tf.audio.decode_wav` reads 16-bit PCM only.
"""

from __future__ import annotations

import numpy as np

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
# (format, bits) -> how the samples are stored, and the scale that maps them to [-1, 1]
LAYOUTS = {
    (PCM, 8): ("u8", 128.0),
    (PCM, 16): ("i16", 32768.0),
    (PCM, 24): ("i24", 8388608.0),
    (PCM, 32): ("i32", 2147483648.0),
    (FLOAT, 32): ("f32", 1.0),
}
SUPPORTED = "8, 16, 24 or 32-bit integer PCM, or 32-bit float"


class WavError(ValueError):
    """Bytes that are not a WAV file this module reads; the message says why."""


def parse_wav(contents: bytes) -> tuple[np.ndarray, int]:
    """`(float32 mono samples in [-1, 1], sample rate)` of a WAV file's bytes."""
    if len(contents) < 12 or contents[:4] != b"RIFF" or contents[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    chunks, position = {}, 12
    while position + 8 <= len(contents):
        chunk_id = contents[position : position + 4]
        size = int.from_bytes(contents[position + 4 : position + 8], "little")
        chunks.setdefault(chunk_id, (position + 8, size))
        position += 8 + size + size % 2  # chunks are padded to an even length
    if b"fmt " not in chunks or b"data" not in chunks:
        raise WavError("no 'fmt ' or no 'data' chunk")
    start, _ = chunks[b"fmt "]
    fmt = contents[start : start + 26]
    if len(fmt) < 16:
        raise WavError("its 'fmt ' chunk is cut short")
    audio_format, channels = _le(fmt[0:2]), _le(fmt[2:4])
    rate, bits = _le(fmt[4:8]), _le(fmt[14:16])
    if audio_format == EXTENSIBLE and len(fmt) >= 26:
        audio_format = _le(fmt[24:26])  # the sub-format GUID starts with the format code
    layout = LAYOUTS.get((audio_format, bits))
    if layout is None or channels < 1 or rate < 1:
        raise WavError(
            f"format {audio_format}, {bits}-bit, {channels} channel(s); read {SUPPORTED}"
        )
    start, size = chunks[b"data"]
    block = channels * bits // 8
    data = contents[start : start + min(size, len(contents) - start)]
    data = data[: len(data) // block * block]
    kind, scale = layout
    if kind == "i24":
        triples = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        samples = np.where(values >= 1 << 23, values - (1 << 24), values).astype(np.float64)
    else:
        dtype = {"u8": np.uint8, "i16": "<i2", "i32": "<i4", "f32": "<f4"}[kind]
        samples = np.frombuffer(data, dtype).astype(np.float64)
        if kind == "u8":
            samples -= 128.0
    mono = samples.reshape(-1, channels).mean(axis=1) / scale
    return mono.astype(np.float32), rate


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


def decode_wav_in_graph(contents):
    """`(float32 mono samples in [-1, 1], int32 sample rate)` of a scalar string of WAV bytes,
    in TensorFlow ops: `parse_wav`'s reading, with a clear `InvalidArgumentError` where it
    raises."""
    import tensorflow as tf

    length = tf.strings.length(contents)

    def number(offset, size):
        raw = tf.io.decode_raw(tf.strings.substr(contents, offset, size), tf.uint8)
        weights = tf.constant([1, 256, 65536, 16777216][:size], tf.int64)
        return tf.reduce_sum(tf.cast(raw, tf.int64) * weights)

    def find(chunk_id):
        """`(start, size)` of the first chunk named `chunk_id`, `(-1, 0)` if there is none."""

        def searching(position, start, size):
            return tf.logical_and(start < 0, position + 8 <= tf.cast(length, tf.int64))

        def step(position, start, size):
            found = tf.equal(tf.strings.substr(contents, position, 4), chunk_id)
            chunk = number(position + 4, 4)
            start = tf.where(found, position + 8, start)
            size = tf.where(found, chunk, size)
            return position + 8 + chunk + chunk % 2, start, size

        zero = tf.constant(0, tf.int64)
        _, start, size = tf.while_loop(searching, step, (zero + 12, zero - 1, zero))
        return start, size

    is_wave = tf.logical_and(
        tf.equal(tf.strings.substr(contents, 0, 4), "RIFF"),
        tf.equal(tf.strings.substr(contents, 8, 4), "WAVE"),
    )
    checks = [tf.debugging.Assert(is_wave, ["The input is not a RIFF/WAVE file."])]
    with tf.control_dependencies(checks):
        fmt, _ = find("fmt ")
        data, size = find("data")
    present = tf.logical_and(fmt >= 0, data >= 0)
    with tf.control_dependencies([tf.debugging.Assert(present, ["No 'fmt ' or 'data' chunk."])]):
        audio_format = number(fmt, 2)
        channels = number(fmt + 2, 2)
        rate = number(fmt + 4, 4)
        bits = number(fmt + 14, 2)
    audio_format = tf.where(tf.equal(audio_format, EXTENSIBLE), number(fmt + 24, 2), audio_format)
    kinds = list(LAYOUTS)
    matches = [
        tf.logical_and(tf.equal(audio_format, code), tf.equal(bits, width)) for code, width in kinds
    ]
    index = tf.reduce_sum(tf.cast(tf.stack(matches), tf.int32) * tf.range(1, len(kinds) + 1)) - 1
    readable = tf.logical_and(index >= 0, channels >= 1)
    message = tf.strings.format(
        "Unsupported WAV: format {}, {}-bit, {} channel(s); send " + SUPPORTED + ".",
        (audio_format, bits, channels),
    )
    with tf.control_dependencies([tf.debugging.Assert(readable, [message])]):
        block = channels * bits // 8
    available = tf.minimum(size, tf.cast(length, tf.int64) - data)
    payload = tf.strings.substr(contents, data, available - available % tf.maximum(block, 1))

    def integers(dtype, scale):
        return lambda: tf.cast(tf.io.decode_raw(payload, dtype), tf.float32) / scale

    def unsigned8():
        return (tf.cast(tf.io.decode_raw(payload, tf.uint8), tf.float32) - 128.0) / 128.0

    def signed24():
        triples = tf.reshape(tf.cast(tf.io.decode_raw(payload, tf.uint8), tf.int32), [-1, 3])
        values = triples[:, 0] + triples[:, 1] * 256 + triples[:, 2] * 65536
        values = tf.where(values >= 1 << 23, values - (1 << 24), values)
        return tf.cast(values, tf.float32) / 8388608.0

    def float32():
        return tf.io.decode_raw(payload, tf.float32)

    branches = [
        unsigned8,
        integers(tf.int16, 32768.0),
        signed24,
        integers(tf.int32, 2147483648.0),
        float32,
    ]
    samples = tf.switch_case(tf.maximum(index, 0), branches)
    mono = tf.reduce_mean(tf.reshape(samples, [-1, tf.cast(tf.maximum(channels, 1), tf.int32)]), 1)
    return mono, tf.cast(rate, tf.int32)
