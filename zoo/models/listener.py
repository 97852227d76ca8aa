"""The listener both speech recognizers share: log-mel features computed inside the model
(`LogMelFeatures`; SpecAugment in training) encoded by a pyramidal BiLSTM. Before each of the
first `reductions` layers adjacent frames are concatenated, halving the frame rate (Chan et
al. 2016), which shortens what the LSTMs and the attention run over.
"""

from __future__ import annotations

import keras
from keras import ops

from zoo.layers.base_attention import check_positive_int
from zoo.models.audio_features import LogMelFeatures, SpecAugment
from zoo.models.bidirectional import bidirectional_lstm


class Listener:
    """Log-mel front end + pyramidal BiLSTM, shared by both recognizers (a mixin)."""

    def _init_listener(
        self,
        sample_rate,
        num_mel_bins,
        units,
        num_layers,
        reductions,
        dropout,
        spec_augment,
        feature_floors,
        max_frequency,
    ):
        for name, value in (
            ("sample_rate", sample_rate),
            ("num_mel_bins", num_mel_bins),
            ("units", units),
            ("num_layers", num_layers),
        ):
            check_positive_int(name, value)
        if isinstance(reductions, bool) or not isinstance(reductions, int):
            raise ValueError(f"`reductions` must be an integer, received {reductions!r}.")
        if not 0 <= reductions <= num_layers:
            raise ValueError(
                f"`reductions` must be between 0 and num_layers={num_layers} (each halves the "
                f"frame rate before one layer), received reductions={reductions}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), received dropout={dropout!r}.")
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.units = units
        self.num_layers = num_layers
        self.reductions = reductions
        self.dropout = float(dropout)
        self.spec_augment = bool(spec_augment)
        self.feature_floors = bool(feature_floors)
        self.max_frequency = max_frequency
        # Without the floors: plain per-band standardization (recognizers saved before them).
        floors = {} if self.feature_floors else {"floor_db": None, "variance_floor": 1e-5}
        self.features = LogMelFeatures(
            sample_rate, num_mel_bins, max_frequency=max_frequency, name="log_mel", **floors
        )
        self.augment = SpecAugment(name="spec_augment") if self.spec_augment else None
        self.listener_layers = [
            bidirectional_lstm(
                units,
                return_sequences=True,
                lstm_name=f"listener_lstm_{i}",
                name=f"listener_bilstm_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(num_layers)
        ]
        self.listener_dropout = keras.layers.Dropout(
            dropout, name="listener_dropout", dtype=self.dtype_policy
        )

    def _build_listener(self):
        features = self.num_mel_bins
        for i, lstm in enumerate(self.listener_layers):
            if i < self.reductions:
                features *= 2
            lstm.build((None, None, features))
            features = 2 * self.units

    @property
    def memory_dim(self):
        return 2 * self.units

    def encoded_frames(self, audio_length, layer=None):
        """Listener frames (of its last layer, or of `layer`) of waveforms of `audio_length`
        samples."""
        layer = self.num_layers - 1 if layer is None else layer
        frames = self.features.frames(audio_length)
        for _ in range(min(self.reductions, layer + 1)):
            frames = (frames + 1) // 2
        return frames

    def listen(self, inputs, training=False, tap=None):
        """`(encoder outputs [B, T', 2 * units], mask [B, T'])` of `inputs`' audio; with
        `tap=i`, also the outputs and mask of layer `i`."""
        x, mask = self.features(inputs["audio"], inputs["audio_length"])
        x = ops.cast(x, self.compute_dtype)
        if self.augment is not None:
            x = self.augment(x, training=training)
        tapped = None
        for i, lstm in enumerate(self.listener_layers):
            if i < self.reductions:
                x, mask = halve(x, mask)
            if i > 0:
                x = self.listener_dropout(x, training=training)
            x = lstm(x, mask=never_empty(mask), training=training)
            if i == tap:
                tapped = (x, never_empty(mask))
        if tap is None:
            return x, never_empty(mask)
        return x, never_empty(mask), tapped

    def _listener_config(self):
        return {
            "sample_rate": self.sample_rate,
            "num_mel_bins": self.num_mel_bins,
            "units": self.units,
            "num_layers": self.num_layers,
            "reductions": self.reductions,
            "dropout": self.dropout,
            "spec_augment": self.spec_augment,
            "feature_floors": self.feature_floors,
            "max_frequency": self.max_frequency,
        }


def halve(x, mask):
    """Concatenates frames 2t and 2t + 1 (a last odd frame is paired with zeros)."""
    steps = ops.shape(x)[1]
    odd = steps % 2
    x = ops.pad(x, ((0, 0), (0, odd), (0, 0)))
    mask = ops.pad(mask, ((0, 0), (0, odd)))
    x = ops.reshape(x, (ops.shape(x)[0], (steps + odd) // 2, 2 * x.shape[2]))
    mask = ops.any(ops.reshape(mask, (ops.shape(mask)[0], (steps + odd) // 2, 2)), axis=-1)
    return x, mask


def never_empty(mask):
    """An utterance without audio keeps its first frame (a defined output, no cuDNN crash)."""
    first = ops.equal(ops.arange(ops.shape(mask)[1]), 0)[None, :]
    return ops.logical_or(mask, first)
