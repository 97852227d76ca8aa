"""Training audio augmented on the fly inside the input pipeline (speed, room, telephone band,
codec, noise), and resampling in the graph. SpecAugment runs inside the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tensorflow as tf

from zoo.data.speech import (
    SAMPLE_RATE,
)
from zoo.tasks.speech.settings import AUGMENTATIONS, DEFAULT_AUGMENTATIONS

SPEED_RANGE = (0.9, 1.1)  # speed perturbation's factors (below 1: slower, longer)
MAX_STRETCH = 1.0 / SPEED_RANGE[0] + 1e-3  # the most a waveform's length grows (rounding)


def perturb(
    waveform,
    seed,
    sample_rate: int = SAMPLE_RATE,
    kinds: Sequence[str] = DEFAULT_AUGMENTATIONS,
):
    """Training augmentation of one waveform (stateless, from a `[2]` int64 seed), each of
    `kinds` (`AUGMENTATIONS`) drawn independently: speed 0.9-1.1 (30 %); a synthetic room,
    RT60 0.2-0.8 s with the direct sound 0-10 dB above the reverberation (30 %); telephone band
    300-3400 Hz (30 %); 8-bit mu-law companding, as G.711 telephone lines carry speech
    (30 %); noise at 10-30 dB SNR (50 %)."""
    unknown = sorted(set(kinds) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {unknown}; known: {list(AUGMENTATIONS)}.")
    seed = tf.cast(seed, tf.int64)
    draws = tf.random.stateless_uniform([6], seed=seed)
    if_speed, speed, if_phone, if_noise, snr = draws[0], draws[1], draws[2], draws[3], draws[4]
    # The later additions draw from their own seed, so the default's draws stay as they were.
    extra = tf.random.stateless_uniform([4], seed=seed + 2)
    if_reverb, rt60, if_mulaw, ratio = extra[0], extra[1], extra[2], extra[3]
    if "speed" in kinds:
        factor = SPEED_RANGE[0] + (SPEED_RANGE[1] - SPEED_RANGE[0]) * speed
        waveform = tf.cond(
            if_speed < 0.3, lambda: change_rate(waveform, factor), lambda: tf.identity(waveform)
        )
    if "reverb" in kinds:
        waveform = tf.cond(
            if_reverb < 0.3,
            lambda: reverberate(waveform, 0.2 + 0.6 * rt60, 10.0 * ratio, seed + 3, sample_rate),
            lambda: tf.identity(waveform),
        )
    if "telephone" in kinds:
        waveform = tf.cond(
            if_phone < 0.3,
            lambda: band_limit(waveform, 300.0, 3400.0, sample_rate),
            lambda: tf.identity(waveform),
        )
    if "mulaw" in kinds:
        waveform = tf.cond(if_mulaw < 0.3, lambda: mu_law(waveform), lambda: tf.identity(waveform))
    if "noise" not in kinds:
        return waveform
    rms = tf.sqrt(tf.reduce_mean(tf.square(waveform)) + 1e-9)
    noise = tf.random.stateless_normal(tf.shape(waveform), seed=seed + 1)
    scale = rms / tf.pow(10.0, (10.0 + 20.0 * snr) / 20.0)
    return tf.cond(if_noise < 0.5, lambda: waveform + noise * scale, lambda: waveform)


def mu_law(waveform, levels: int = 256):
    """`waveform` (in [-1, 1]) through mu-law companding to `levels` levels and back, as a
    G.711 telephone line quantizes it: fine steps for quiet samples, coarse for loud ones."""
    mu = float(levels - 1)
    x = tf.clip_by_value(waveform, -1.0, 1.0)
    compressed = tf.sign(x) * tf.math.log1p(mu * tf.abs(x)) / math.log1p(mu)
    code = tf.round((compressed + 1.0) / 2.0 * mu)  # 0 .. levels - 1
    y = code / mu * 2.0 - 1.0
    return tf.sign(y) * (tf.pow(1.0 + mu, tf.abs(y)) - 1.0) / mu


def reverberate(
    waveform, rt60, direct_db, seed, sample_rate: int = SAMPLE_RATE, seconds: float = 0.5
):
    """`waveform` heard in a synthetic room: convolved with a direct path and a tail of noise
    decaying 60 dB over `rt60` seconds (`seconds` long) whose energy is `direct_db` below the
    direct path's; scaled back to the waveform's RMS."""
    taps = int(seconds * sample_rate)
    t = tf.range(1, taps, dtype=tf.float32) / sample_rate
    tail = tf.random.stateless_normal([taps - 1], seed=seed) * tf.pow(10.0, -3.0 * t / rt60)
    tail *= tf.pow(10.0, -direct_db / 20.0) / tf.sqrt(tf.reduce_sum(tf.square(tail)))
    response = tf.concat([[1.0], tail], 0)
    length = tf.shape(waveform)[0]
    # Linear, not circular, convolution: both padded to a power of two past length + taps.
    size = tf.cast(length + taps - 1, tf.float32)
    fft_length = tf.cast(2.0 ** tf.math.ceil(tf.math.log(size) / math.log(2.0)), tf.int32)
    spectrum = tf.signal.rfft(waveform, [fft_length]) * tf.signal.rfft(response, [fft_length])
    wet = tf.signal.irfft(spectrum, [fft_length])[:length]
    rms = tf.sqrt(tf.reduce_mean(tf.square(waveform)) + 1e-9)
    return wet * rms / tf.sqrt(tf.reduce_mean(tf.square(wet)) + 1e-9)


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
    """`float32[N]` from `rate` Hz to `target` Hz, as `scipy.signal.resample_poly` does (what
    the library's audio reader runs), so that an export hears what `zoo evaluate` hears."""
    rate = tf.cast(rate, tf.int32)
    return tf.cond(
        tf.equal(rate, target),
        lambda: tf.identity(waveform),
        lambda: resample_polyphase(waveform, rate, target),
    )


def resample_polyphase(waveform, rate, target: int = SAMPLE_RATE):
    """`scipy.signal.resample_poly(waveform, up, down)` with its defaults (a Kaiser-windowed
    sinc low-pass, beta 5, 10 zero crossings a side of the slower rate; zero padding) for the
    rates' ratio `up / down` in lowest terms, as TensorFlow ops over a rate known only at
    run time.

    Each output sample is the dot product of the `ceil(len(filter) / up)` input samples under
    the filter with the filter's phase for that sample, gathered at once: no upsampled signal
    is ever built (44.1 kHz to 16 kHz is up 160, down 441).
    """
    waveform = tf.cast(waveform, tf.float32)
    g = _gcd(rate, tf.constant(target, tf.int32))
    up, down = target // g, rate // g
    max_rate = tf.maximum(up, down)
    half_len = 10 * max_rate
    taps = 2 * half_len + 1
    # scipy's firwin(taps, 1 / max_rate, window=("kaiser", 5.0)), gain 1 at DC, times up.
    n = tf.cast(tf.range(taps) - half_len, tf.float64)
    cutoff = 1.0 / tf.cast(max_rate, tf.float64)
    ideal = cutoff * _sinc(cutoff * n)
    ratio = n / tf.cast(half_len, tf.float64)
    beta = tf.constant(5.0, tf.float64)
    window = tf.math.bessel_i0(beta * tf.sqrt(tf.maximum(1.0 - ratio * ratio, 0.0)))
    window /= tf.math.bessel_i0(beta)
    h = ideal * window
    h = h / tf.reduce_sum(h) * tf.cast(up, tf.float64)
    # resample_poly's alignment: zeros before the filter put output samples at its centre.
    pre_pad = down - half_len % down
    h = tf.concat([tf.zeros([pre_pad], tf.float64), h], 0)
    first = (half_len + pre_pad) // down
    length = tf.shape(waveform)[0]
    outputs = (length * up + down - 1) // down  # ceil(length * up / down)
    filter_length = tf.shape(h)[0]
    per_output = (filter_length + up - 1) // up  # input samples under the filter
    position = (tf.range(outputs) + first) * down  # in the upsampled signal
    newest = position // up  # the last input sample at or before it
    phase = position % up
    back = tf.range(per_output)
    inputs = newest[:, None] - back[None, :]
    taps_at = phase[:, None] + back[None, :] * up
    valid = (inputs >= 0) & (inputs < length) & (taps_at < filter_length)
    x = tf.gather(tf.cast(waveform, tf.float64), tf.clip_by_value(inputs, 0, length - 1))
    w = tf.gather(h, tf.clip_by_value(taps_at, 0, filter_length - 1))
    out = tf.reduce_sum(tf.where(valid, x * w, tf.zeros_like(x)), axis=1)
    return tf.cast(out, tf.float32)


def _sinc(x):
    """numpy's normalized sinc, sin(pi x) / (pi x), 1 at 0."""
    safe = tf.where(tf.equal(x, 0.0), tf.ones_like(x), x)
    return tf.where(tf.equal(x, 0.0), tf.ones_like(x), tf.sin(math.pi * safe) / (math.pi * safe))


def _gcd(a, b):
    """Greatest common divisor of two int32 scalars (Euclid's algorithm, in the graph)."""
    divisor, _ = tf.while_loop(
        lambda x, y: tf.not_equal(y, 0), lambda x, y: (y, tf.math.floormod(x, y)), (a, b)
    )
    return divisor
