"""Speech recognizers over waveforms: a BiLSTM + CTC twin, and Listen, Attend and Spell.

Both read audio (`{"audio": float32[B, N], "audio_length": int[B]}`), compute log-mel
features inside the model (`LogMelFeatures`; SpecAugment in training) and encode them with
a pyramidal BiLSTM: before each of the first `reductions` layers adjacent frames are
concatenated, halving the frame rate (Chan et al. 2016), which shortens what the LSTMs and
the attention run over.

- `CTCRecognizer` (`lstm_ctc_asr`): a linear layer over the encoder gives per-frame
  character logits, trained with CTC (Graves et al. 2006; blank = id 0, the padding id) and
  decoded with `keras.ops.ctc_decode`. No attention: the twin.
- `ListenAttendSpell` (`lstm_las_asr`): an LSTM speller attends over the listener with
  `LocationSensitiveAttention` (Chorowski et al. 2015), fed the previous step's weights;
  it follows the decoding protocol of `zoo.decoding`, so greedy and beam search are the
  zoo's own.
"""

import keras
from keras import ops

from zoo.data.vocabulary import EOS_ID
from zoo.layers import AttentionCell, LocationSensitiveAttention
from zoo.layers.base_attention import check_positive_int
from zoo.models.listener import Listener
from zoo.models.recurrence import scan_outputs

BLANK_ID = 0  # CTC's blank: the padding id, never a character


@keras.saving.register_keras_serializable(package="lstm_zoo")
class FramedCTCLoss(keras.losses.Loss):
    """CTC loss (blank = id 0) of labels packed with their utterance's frame count.

    `y_true` is `int[batch, 1 + L]`: the number of real frames of `y_pred`, then the label
    ids, 0-padded. A `keras.losses.Loss`, so its reduction (and its scaling across replicas
    under a distribution strategy) is Keras' own.
    """

    def __init__(self, name="ctc", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        frames, labels = y_true[:, 0], y_true[:, 1:]
        label_length = ops.sum(ops.cast(labels != 0, "int32"), axis=1)
        return ops.ctc_loss(
            labels, ops.cast(y_pred, "float32"), label_length, frames, mask_index=BLANK_ID
        )


@keras.saving.register_keras_serializable(package="lstm_zoo")
class CTCRecognizer(Listener, keras.Model):
    """Pyramidal BiLSTM with a CTC output layer.

    Args:
        vocab_size: Number of character ids (id 0 is padding, and CTC's blank).
        sample_rate: Audio sampling rate in Hz.
        num_mel_bins: Mel bands of the front end.
        units: LSTM size of each direction.
        num_layers: Number of BiLSTM layers.
        reductions: How many of the first layers halve the frame rate.
        dropout: Dropout between layers and before the output layer.
        spec_augment: Whether SpecAugment masks the features in training.
        feature_floors: Whether the log-mels are floored 60 dB below the utterance's peak
            and each band's variance floored before normalizing (`LogMelFeatures`), so the
            empty upper bands of telephone audio stay flat; `False` is plain per-band
            standardization, what recognizers saved before this argument were trained with.
        max_frequency: Upper edge of the front end's mel bands in Hz (`None`: half the
            sampling rate); 4000 hears only the telephone band, so 8 kHz audio and wideband
            audio give the same features.

    Call arguments:
        inputs: Dict with `"audio"` (`float32[batch, samples]`) and `"audio_length"`
            (`int[batch]`); other entries (e.g. `"target_in"`) are ignored.

    Returns:
        Per-frame logits `[batch, frames, vocab_size]`; `encoded_frames(audio_length)` says
        how many frames of each row are real.
    """

    attention = None

    def __init__(
        self,
        vocab_size,
        sample_rate,
        num_mel_bins,
        units,
        num_layers,
        reductions,
        dropout,
        spec_augment,
        feature_floors,
        max_frequency,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("vocab_size", vocab_size)
        self.vocab_size = vocab_size
        self._init_listener(
            sample_rate,
            num_mel_bins,
            units,
            num_layers,
            reductions,
            dropout,
            spec_augment,
            feature_floors,
            max_frequency,
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, name="output_dropout", dtype=self.dtype_policy
        )
        self.output_projection = keras.layers.Dense(
            vocab_size, name="output_projection", dtype=self.dtype_policy
        )
        self.ctc_loss = FramedCTCLoss()
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self._build_listener()
        self.output_projection.build((None, None, self.memory_dim))
        self.built = True

    def call(self, inputs, training=False):
        x, _ = self.listen(inputs, training=training)
        return self.output_projection(self.output_dropout(x, training=training))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CTC loss averaged over utterances; `y` is the character ids (0-padded; an end token
        after them, as the speller's targets have, is dropped)."""
        labels = ops.cast(y, "int32")
        labels = ops.where(labels == EOS_ID, ops.zeros_like(labels), labels)
        frames = ops.minimum(self.encoded_frames(x["audio_length"]), ops.shape(y_pred)[1])
        # Log-probabilities (CTC normalizes anyway) in a new tensor: the logits' Keras mask
        # (real frames) would otherwise become a per-frame weight of a per-utterance loss.
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        return self.ctc_loss(ops.concatenate([frames[:, None], labels], axis=1), log_probs)

    def get_config(self):
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, **self._listener_config()})
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before the feature floors / the band edge existed: trained without them.
        return cls(**{"feature_floors": False, "max_frequency": None, **config})


@keras.saving.register_keras_serializable(package="lstm_zoo")
class ListenAttendSpell(Listener, keras.Model):
    """Listen, Attend and Spell with location-sensitive attention.

    At step `t` the speller's previous state `s_{t-1}` attends over the listener outputs,
    its score also seeing the previous weights `a_{t-1}` (`LocationSensitiveAttention`;
    `a_0` is on the first frame); the context `c_t` and the previous character enter the LSTM,
    and `tanh(W [s_t; c_t])` predicts the character.

    Args:
        vocab_size: Number of character ids (0: padding, then `<unk> <s> </s>`).
        sample_rate: The listener's, as for `CTCRecognizer`.
        num_mel_bins: The listener's, as for `CTCRecognizer`.
        units: The listener's, as for `CTCRecognizer`.
        num_layers: The listener's, as for `CTCRecognizer`.
        reductions: The listener's, as for `CTCRecognizer`.
        dropout: The listener's (and the speller's output), as for `CTCRecognizer`.
        spec_augment: The listener's, as for `CTCRecognizer`.
        speller_units: LSTM size of the speller.
        embedding_dim: Size of the character embeddings.
        attention_units: Hidden size of the attention score.
        location_filters: Location features per frame.
        location_kernel: Width of the convolution over the previous weights.
        ctc_weight: Joint CTC-attention training (Kim et al. 2017): the loss is
            `(1 - ctc_weight) * cross-entropy + ctc_weight * CTC`, the CTC term (per
            character) from a linear layer over the deepest listener layer at no more than 4x
            reduction (CTC needs about a frame per character). It shapes the listener's
            alignments early; decoding uses the speller alone. 0 turns it off.
        feature_floors: The listener's, as for `CTCRecognizer`.
        max_frequency: The listener's, as for `CTCRecognizer`.

    Call arguments:
        inputs: Dict with `"audio"`, `"audio_length"` and `"target_in"` (`int[batch, Tt]`,
            the transcript's ids shifted right, starting with `<s>`).

    Returns:
        Logits `[batch, Tt, vocab_size]`.
    """

    attention = "location"

    def __init__(
        self,
        vocab_size,
        sample_rate,
        num_mel_bins,
        units,
        num_layers,
        reductions,
        dropout,
        spec_augment,
        speller_units,
        embedding_dim,
        attention_units,
        location_filters,
        location_kernel,
        ctc_weight,
        feature_floors,
        max_frequency,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(ctc_weight, bool) or not 0.0 <= ctc_weight < 1.0:
            raise ValueError(
                f"`ctc_weight` must be in [0, 1) (0: no CTC term), received {ctc_weight!r}."
            )
        for name, value in (
            ("vocab_size", vocab_size),
            ("speller_units", speller_units),
            ("embedding_dim", embedding_dim),
            ("attention_units", attention_units),
        ):
            check_positive_int(name, value)
        self.vocab_size = vocab_size
        self.speller_units = speller_units
        self.embedding_dim = embedding_dim
        self.attention_units = attention_units
        self.location_filters = location_filters
        self.location_kernel = location_kernel
        self.ctc_weight = float(ctc_weight)
        self._init_listener(
            sample_rate,
            num_mel_bins,
            units,
            num_layers,
            reductions,
            dropout,
            spec_augment,
            feature_floors,
            max_frequency,
        )
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, name="character_embedding", dtype=self.dtype_policy
        )
        self.speller = keras.layers.LSTMCell(
            speller_units, name="speller_lstm", dtype=self.dtype_policy
        )
        self.attention_layer = LocationSensitiveAttention(
            attention_units,
            filters=location_filters,
            kernel_size=location_kernel,
            name="attention",
            dtype=self.dtype_policy,
        )
        # The speller's step: the zoo's public AttentionCell, attending from the previous
        # state (with the previous weights) and feeding the context to the LSTM. Its output
        # layer is also kept as `attentional`, where `.keras` files hold it.
        self.step_cell = AttentionCell(
            self.speller,
            self.attention_layer,
            attention_size=speller_units,
            attend="before",
            attention_bias=True,
            name="speller_cell",
            dtype=self.dtype_policy,
        )
        self.attentional = self.step_cell.attention_layer
        self.output_dropout = keras.layers.Dropout(
            dropout, name="output_dropout", dtype=self.dtype_policy
        )
        self.output_projection = keras.layers.Dense(
            vocab_size, name="output_projection", dtype=self.dtype_policy
        )
        self.ctc_projection = None
        if self.ctc_weight:
            self.ctc_projection = keras.layers.Dense(
                vocab_size, name="ctc_projection", dtype=self.dtype_policy
            )
        self.build()

    @property
    def ctc_layer(self):
        """The listener layer the CTC term reads: the deepest at no more than 4x reduction."""
        return self.num_layers - 1 if self.reductions <= 2 else 1

    @property
    def target_vocab_size(self):  # the name `zoo.decoding` reads
        return self.vocab_size

    def build(self, input_shape=None):
        if self.built:
            return
        self._build_listener()
        self.embedding.build((None,))
        self.speller.build((None, self.embedding_dim + self.memory_dim))
        self.step_cell.build_with_memory((None, self.embedding_dim), (None, None, self.memory_dim))
        self.output_projection.build((None, self.speller_units))
        if self.ctc_projection is not None:
            self.ctc_projection.build((None, None, self.memory_dim))
        self.built = True

    # -- the decoding protocol of zoo.decoding ------------------------------------------

    def encode(self, inputs, training=False):
        """`(memory, mask [B, T'], state)`; state is `[[h, c], h, previous weights]` (the
        speller cell's state less the memory)."""
        return self._speller_start(*self.listen(inputs, training=training))

    def _speller_start(self, values, mask):
        # The first step's "previous" alignment: all weight on the first frame.
        first_frame = ops.cast(ops.arange(ops.shape(mask)[1]) == 0, self.compute_dtype)
        alignment = ops.zeros_like(ops.cast(mask, self.compute_dtype)) + first_frame[None, :]
        cell_state, feedback, alignment, _, keys, _ = self.step_cell.initial_state(
            values, mask, alignment=alignment
        )
        return {"values": values, "keys": keys}, mask, [cell_state, feedback, alignment]

    def _step(self, embedded, state, memory, memory_mask):
        cell_state, feedback, previous = state
        output, cell_state, feedback, weights = self.step_cell.step(
            embedded, cell_state, feedback, memory["values"], memory["keys"], memory_mask, previous
        )
        return output, [cell_state, feedback, weights], weights

    def decode_step(self, tokens, state, memory, memory_mask):
        """`tokens [B]` -> `(logits [B, V], new state, weights [B, T'])`."""
        output, state, weights = self._step(self.embedding(tokens), state, memory, memory_mask)
        return self.output_projection(output), state, weights

    def decode_sequence(self, target_in, state, memory, memory_mask, training=False):
        """Teacher-forced: `(logits [B, Tt, V], weights [B, Tt, T'])`."""
        embedded = self.embedding(target_in)

        def step(state, embedded_t):
            output, state, weights = self._step(embedded_t, state, memory, memory_mask)
            return state, (output, weights)

        dtype = self.compute_dtype
        outputs, weights = scan_outputs(
            step, state, ops.transpose(embedded, (1, 0, 2)), dtypes=(dtype, dtype)
        )
        outputs = self.output_dropout(ops.transpose(outputs, (1, 0, 2)), training=training)
        return self.output_projection(outputs), ops.transpose(weights, (1, 0, 2))

    def call(self, inputs, training=False):
        if self.ctc_projection is None:
            memory, mask, state = self.encode(inputs, training=training)
        else:
            values, mask, tapped = self.listen(inputs, training=training, tap=self.ctc_layer)
            memory, mask, state = self._speller_start(values, mask)
            self.add_loss(self.ctc_weight * self._ctc_loss(tapped[0], inputs))
        logits, _ = self.decode_sequence(
            inputs["target_in"], state, memory, mask, training=training
        )
        return logits

    def _ctc_loss(self, listened, inputs):
        """CTC of the transcript (`target_in` without `<s>`) per character, batch mean."""
        labels = ops.cast(inputs["target_in"][:, 1:], "int32")
        label_length = ops.sum(ops.cast(labels != 0, "int32"), axis=1)
        frames = self.encoded_frames(inputs["audio_length"], layer=self.ctc_layer)
        frames = ops.minimum(frames, ops.shape(listened)[1])
        log_probs = ops.log_softmax(ops.cast(self.ctc_projection(listened), "float32"), axis=-1)
        loss = ops.ctc_loss(labels, log_probs, label_length, frames, mask_index=BLANK_ID)
        return ops.mean(loss / ops.maximum(ops.cast(label_length, "float32"), 1.0))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                **self._listener_config(),
                "speller_units": self.speller_units,
                "embedding_dim": self.embedding_dim,
                "attention_units": self.attention_units,
                "location_filters": self.location_filters,
                "location_kernel": self.location_kernel,
                "ctc_weight": self.ctc_weight,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before the feature floors / the band edge existed: trained without them.
        return cls(**{"feature_floors": False, "max_frequency": None, **config})
