"""WAV files of every width the zoo reads, written byte by byte here, read alike by the library
(numpy) and inside a TensorFlow graph (the export)."""

import struct

import numpy as np
import pytest
from helpers import wav_file

from zoo.data.wav import FLOAT, PCM, WavError, parse_wav

# A known signal in [-1, 1): what every file below holds, at its own precision.
SIGNAL = np.array([0.0, 0.5, -0.5, 0.25, -1.0, 0.75], np.float64)


def wav(fmt_code, bits, **layout):
    return wav_file(SIGNAL, 8000, bits=bits, float32=fmt_code == FLOAT, **layout)


CASES = {
    "pcm8": dict(fmt_code=PCM, bits=8),
    "pcm16": dict(fmt_code=PCM, bits=16),
    "pcm24": dict(fmt_code=PCM, bits=24),
    "pcm32": dict(fmt_code=PCM, bits=32),
    "float32": dict(fmt_code=FLOAT, bits=32),
    "extensible24": dict(fmt_code=PCM, bits=24, extensible=True),
    "extensible32_stereo": dict(fmt_code=PCM, bits=32, extensible=True, channels=2),
    "pcm16_stereo_list": dict(fmt_code=PCM, bits=16, channels=2, extra_chunk=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_width_reads_as_the_signal(case):
    samples, rate = parse_wav(wav(**CASES[case]))
    assert rate == 8000
    tolerance = 1 / 128 if CASES[case]["bits"] == 8 else 1e-4
    np.testing.assert_allclose(samples, SIGNAL, atol=tolerance)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_graph_reads_what_the_library_reads(case):
    import tensorflow as tf

    from zoo.data.wav import decode_wav_in_graph

    contents = wav(**CASES[case])
    decode = tf.function(decode_wav_in_graph, input_signature=[tf.TensorSpec([], tf.string)])
    samples, rate = decode(tf.constant(contents))
    expected, expected_rate = parse_wav(contents)
    assert int(rate) == expected_rate
    np.testing.assert_allclose(samples.numpy(), expected, atol=1e-6)


def test_unreadable_files_say_why():
    with pytest.raises(WavError, match="not a RIFF/WAVE file"):
        parse_wav(b"OggS" + bytes(40))
    twelve_bit = bytearray(wav(fmt_code=PCM, bits=16))
    twelve_bit[34:36] = struct.pack("<H", 12)  # the fmt chunk's bits per sample
    with pytest.raises(WavError, match="12-bit"):
        parse_wav(bytes(twelve_bit))


def test_the_graph_refuses_an_unsupported_format_clearly():
    import tensorflow as tf

    from zoo.data.wav import decode_wav_in_graph

    mu_law = wav(fmt_code=PCM, bits=8)
    mu_law = mu_law[:20] + struct.pack("<H", 7) + mu_law[22:]  # format 7: mu-law
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unsupported WAV: format 7"):
        tf.function(decode_wav_in_graph)(tf.constant(mu_law))
