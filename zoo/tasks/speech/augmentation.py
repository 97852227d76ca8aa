"""Training audio augmented on the fly inside the input pipeline (speed, telephone band, noise),
and resampling in the graph. SpecAugment runs inside the model.
"""

from __future__ import annotations

import tensorflow as tf

from zoo.data.speech import (
    SAMPLE_RATE,
)


def perturb(waveform, seed, sample_rate: int = SAMPLE_RATE):
    """Training augmentation of one waveform (stateless, from a `[2]` int64 seed): speed
    0.9-1.1 (30 %), telephone band 300-3400 Hz (30 %), noise at 10-30 dB SNR (50 %)."""
    seed = tf.cast(seed, tf.int64)
    draws = tf.random.stateless_uniform([6], seed=seed)
    if_speed, speed, if_phone, if_noise, snr = draws[0], draws[1], draws[2], draws[3], draws[4]
    factor = 0.9 + 0.2 * speed
    waveform = tf.cond(
        if_speed < 0.3, lambda: change_rate(waveform, factor), lambda: tf.identity(waveform)
    )
    waveform = tf.cond(
        if_phone < 0.3,
        lambda: band_limit(waveform, 300.0, 3400.0, sample_rate),
        lambda: tf.identity(waveform),
    )
    rms = tf.sqrt(tf.reduce_mean(tf.square(waveform)) + 1e-9)
    noise = tf.random.stateless_normal(tf.shape(waveform), seed=seed + 1)
    scale = rms / tf.pow(10.0, (10.0 + 20.0 * snr) / 20.0)
    return tf.cond(if_noise < 0.5, lambda: waveform + noise * scale, lambda: waveform)


def change_rate(waveform, factor):
    """`waveform` played `factor` times faster (linear interpolation): tempo and pitch."""
    length = tf.cast(tf.shape(waveform)[0], tf.float32)
    steps = tf.maximum(tf.cast(length / factor, tf.int32), 1)
    position = tf.minimum(tf.range(steps, dtype=tf.float32) * factor, length - 1)
    low = tf.cast(tf.floor(position), tf.int32)
    high = tf.minimum(low + 1, tf.shape(waveform)[0] - 1)
    share = position - tf.cast(low, tf.float32)
    return tf.gather(waveform, low) * (1 - share) + tf.gather(waveform, high) * share


def band_limit(waveform, low_hz: float, high_hz: float, sample_rate: int):
    """`waveform` with the frequencies outside [low_hz, high_hz] removed (an FFT mask)."""
    length = tf.shape(waveform)[0]
    spectrum = tf.signal.rfft(waveform)
    bins = tf.cast(tf.range(tf.shape(spectrum)[0]), tf.float32)
    hz = bins * sample_rate / tf.cast(length, tf.float32)
    keep = tf.cast((hz >= low_hz) & (hz <= high_hz), tf.complex64)
    return tf.signal.irfft(spectrum * keep, fft_length=[length])


def resample_in_graph(waveform, rate, target: int = SAMPLE_RATE):
    """`float32[N]` from `rate` Hz to `target` Hz by linear interpolation (the export's WAV
    input; no anti-aliasing filter, so audio above `target`'s band aliases a little)."""
    factor = tf.cast(rate, tf.float32) / float(target)
    return tf.cond(tf.equal(rate, target), lambda: waveform, lambda: change_rate(waveform, factor))
