"""Audio front end inside the model: log-mel filterbanks from waveforms, and SpecAugment.

Both run in `keras.ops` (every backend) so an exported recognizer takes audio, not features.
"""

import math

import keras
from keras import ops

from zoo.layers.base_attention import check_positive_int


@keras.saving.register_keras_serializable(package="lstm_zoo")
class LogMelFeatures(keras.layers.Layer):
    """Log-mel filterbanks of padded waveforms, normalized per utterance.

    Frames are `frame_length_ms` long every `frame_step_ms` (centred, so a waveform of `n`
    samples has `1 + n // step` frames). Each mel bin is normalized over the utterance's own
    frames (padding excluded): its mean is subtracted and it is divided by
    `sqrt(variance + variance_floor)`, which removes the recording level and channel colour
    that differ between a synthetic voice and a telephone.

    Empty bands are not blown up: log-mels are first floored at `floor_db` below the
    utterance's loudest value, so the 4-8 kHz bands of 8 kHz audio resampled to 16 kHz (only
    filter leakage and rounding noise) become constant, and the variance floor keeps a band
    that barely varies from being stretched to unit variance. `floor_db=None` and
    `variance_floor=1e-5` give plain per-band standardization (recognizers saved before these
    arguments existed load with it).

    Args:
        sample_rate: Sampling rate of the waveforms, in Hz.
        num_mel_bins: Number of mel bands.
        frame_length_ms: Analysis window length.
        frame_step_ms: Hop between frames.
        max_frequency: Upper edge of the highest mel band, in Hz (at most half the sampling
            rate; `None`: half the sampling rate). 4000 makes a telephone-band front end:
            8 kHz audio then gives the features wideband audio gives.
        floor_db: Dynamic range kept below the utterance's loudest mel value, in dB, or
            `None` for no floor.
        variance_floor: Added to each band's variance (in squared natural-log units of
            power; 1.0 is a standard deviation of about 4.3 dB) before dividing by its root.

    Call arguments:
        audio: `float32[batch, samples]` waveforms in [-1, 1], zero-padded.
        audio_length: `int[batch]`, real samples per waveform.

    Returns:
        `(features [batch, frames, num_mel_bins], mask bool[batch, frames])`.
    """

    def __init__(
        self,
        sample_rate=16000,
        num_mel_bins=40,
        frame_length_ms=25,
        frame_step_ms=10,
        max_frequency=None,
        floor_db=60.0,
        variance_floor=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if floor_db is not None and not (isinstance(floor_db, (int, float)) and floor_db > 0):
            raise ValueError(f"`floor_db` must be > 0 or None, received floor_db={floor_db!r}.")
        if not (isinstance(variance_floor, (int, float)) and variance_floor > 0):
            raise ValueError(
                f"`variance_floor` must be > 0, received variance_floor={variance_floor!r}."
            )
        for name, value in (
            ("sample_rate", sample_rate),
            ("num_mel_bins", num_mel_bins),
            ("frame_length_ms", frame_length_ms),
            ("frame_step_ms", frame_step_ms),
        ):
            check_positive_int(name, value)
        if max_frequency is not None and not (
            isinstance(max_frequency, (int, float))
            and not isinstance(max_frequency, bool)
            and 0 < max_frequency <= sample_rate / 2
        ):
            raise ValueError(
                f"`max_frequency` must be in (0, sample_rate / 2 = {sample_rate / 2:g}] Hz or "
                f"None, received max_frequency={max_frequency!r}."
            )
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.frame_length_ms = frame_length_ms
        self.frame_step_ms = frame_step_ms
        self.max_frequency = None if max_frequency is None else float(max_frequency)
        self.floor_db = None if floor_db is None else float(floor_db)
        self.variance_floor = float(variance_floor)
        self.step = sample_rate * frame_step_ms // 1000
        length = sample_rate * frame_length_ms // 1000
        fft_length = 1 << (length - 1).bit_length()  # next power of two
        # Centred frames mirror fft_length // 2 samples at each end, which needs more than
        # that many: shorter batches are zero-padded (the mask keeps to the real frames).
        self.min_samples = fft_length // 2 + 1
        self.spectrogram = keras.layers.MelSpectrogram(
            fft_length=fft_length,
            sequence_stride=self.step,
            sequence_length=length,
            sampling_rate=sample_rate,
            num_mel_bins=num_mel_bins,
            max_freq=self.max_frequency,
            power_to_db=False,  # its dB scale is relative to the batch's maximum
            dtype="float32",
        )

    def frames(self, audio_length):
        """Frames of waveforms of `audio_length` samples."""
        return ops.cast(audio_length, "int32") // self.step + 1

    def call(self, audio, audio_length):
        audio = ops.cast(audio, "float32")
        width = ops.shape(audio)[1]
        if isinstance(width, int):  # known while tracing (JAX, PyTorch, fixed shapes)
            missing = max(self.min_samples - width, 0)
        else:  # a TensorFlow graph over batches of any length
            missing = ops.maximum(self.min_samples - width, 0)
        audio = ops.pad(audio, [[0, 0], [0, missing]])
        mel = ops.transpose(self.spectrogram(audio), (0, 2, 1))  # [B, T, mels]
        log_mel = ops.log(mel + 1e-6)
        mask = ops.arange(ops.shape(log_mel)[1])[None, :] < self.frames(audio_length)[:, None]
        weight = ops.cast(mask, "float32")[:, :, None]
        if self.floor_db is not None:
            # ln(power) units: floor_db dB is floor_db / 10 * ln(10).
            loudest = ops.max(ops.where(weight > 0, log_mel, -1e9), axis=(1, 2), keepdims=True)
            log_mel = ops.maximum(log_mel, loudest - self.floor_db / 10.0 * math.log(10.0))
        count = ops.maximum(ops.sum(weight, axis=1, keepdims=True), 1.0)
        mean = ops.sum(log_mel * weight, axis=1, keepdims=True) / count
        variance = ops.sum(ops.square(log_mel - mean) * weight, axis=1, keepdims=True) / count
        normalized = (log_mel - mean) / ops.sqrt(variance + self.variance_floor) * weight
        return ops.cast(normalized, self.compute_dtype), mask

    def compute_output_spec(self, audio, audio_length):
        width = audio.shape[1]
        frames = None if width is None else max(width, self.min_samples) // self.step + 1
        return (
            keras.KerasTensor((audio.shape[0], frames, self.num_mel_bins), self.compute_dtype),
            keras.KerasTensor((audio.shape[0], frames), "bool"),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "num_mel_bins": self.num_mel_bins,
                "frame_length_ms": self.frame_length_ms,
                "frame_step_ms": self.frame_step_ms,
                "max_frequency": self.max_frequency,
                "floor_db": self.floor_db,
                "variance_floor": self.variance_floor,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before the floors existed: plain per-band standardization, as trained.
        if "variance_floor" not in config:
            config = {**config, "floor_db": None, "variance_floor": 1e-5}
        return cls(**config)


@keras.saving.register_keras_serializable(package="lstm_zoo")
class SpecAugment(keras.layers.Layer):
    """SpecAugment's frequency and time masks (Park et al. 2019), in training only.

    Args:
        frequency_masks: Number of bands of mel bins set to zero.
        frequency_width: Largest width of a frequency band.
        time_masks: Number of spans of frames set to zero.
        time_width: Largest width of a time span.
        seed: Optional seed of the masks.

    Call arguments:
        features: `[batch, frames, bins]` (normalized, so zero is the mean).
        training: Masks are applied only when true.
    """

    def __init__(
        self, frequency_masks=2, frequency_width=8, time_masks=2, time_width=10, seed=None, **kw
    ):
        super().__init__(**kw)
        for name, value in (
            ("frequency_masks", frequency_masks),
            ("frequency_width", frequency_width),
            ("time_masks", time_masks),
            ("time_width", time_width),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an integer >= 0, received {name}={value!r}.")
        self.frequency_masks = frequency_masks
        self.frequency_width = frequency_width
        self.time_masks = time_masks
        self.time_width = time_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _bands(self, batch, size, count, width):
        """`[batch, size]` booleans, true inside `count` random bands up to `width` wide."""
        positions = ops.arange(size)[None, None, :]
        widths = keras.random.randint((batch, count, 1), 0, width + 1, seed=self.seed_generator)
        starts = keras.random.uniform((batch, count, 1), seed=self.seed_generator)
        starts = ops.cast(starts * ops.cast(ops.maximum(size - widths, 1), "float32"), "int32")
        inside = ops.logical_and(positions >= starts, positions < starts + widths)
        return ops.any(inside, axis=1)

    def call(self, features, training=False):
        if not training:
            return features
        batch, frames, bins = ops.shape(features)[0], ops.shape(features)[1], features.shape[2]
        drop = ops.zeros((batch, frames, bins), "bool")
        if self.frequency_masks and self.frequency_width:
            bands = self._bands(batch, bins, self.frequency_masks, self.frequency_width)
            drop = ops.logical_or(drop, bands[:, None, :])
        if self.time_masks and self.time_width:
            spans = self._bands(batch, frames, self.time_masks, self.time_width)
            drop = ops.logical_or(drop, spans[:, :, None])
        return ops.where(drop, ops.zeros_like(features), features)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "frequency_masks": self.frequency_masks,
                "frequency_width": self.frequency_width,
                "time_masks": self.time_masks,
                "time_width": self.time_width,
                "seed": self.seed,
            }
        )
        return config
