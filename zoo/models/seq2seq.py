"""Encoder-decoder LSTMs for translation: no attention, Bahdanau, or Luong.

The decoder's step is the public `AttentionCell` around the decoder LSTMs' cells (plain cells
without attention), as in a user's own model. Search (`zoo.decoding`) calls it through
`decode_step`, the memory kept out of the search state; teacher forcing scans it over the
target where a step needs the previous step's attention (Bahdanau, Luong with input
feeding). Otherwise training runs the decoder LSTMs over the whole target at once (cuDNN on
a GPU) and `AttentionCell.attend_all` attends for all steps in one call. The attention's keys
are prepared once per source sentence (`BaseAttention.prepare_keys`).
"""

import keras
from keras import ops

from zoo.layers import AttentionCell, BahdanauAttention, LuongAttention
from zoo.layers.base_attention import check_positive_int, padding_mask
from zoo.models.bidirectional import encoder_lstm
from zoo.models.recurrence import scan_outputs

ATTENTIONS = (None, "bahdanau", "luong")
# The architecture arguments, all required (the registry's entries hold their values).
ARGUMENTS = (
    "source_vocab_size",
    "target_vocab_size",
    "embedding_dim",
    "units",
    "num_layers",
    "bidirectional",
    "dropout",
    "attention",
    "attention_units",
    "attention_score",
    "attention_window",
    "input_feeding",
    "reverse_source",
    "feed_context",
)


@keras.saving.register_keras_serializable(package="lstm_zoo")
class Seq2Seq(keras.Model):
    """An LSTM encoder-decoder with optional attention.

    - `attention=None`: the encoder's final states start the decoder (Sutskever et al. 2014);
      with `feed_context` the encoder's summary also enters every decoder step and the output
      layer (Cho et al. 2014's RNN Encoder-Decoder, the baseline of Bahdanau et al. 2015).
    - `attention="bahdanau"`: at step `t` the previous decoder state attends over the encoder
      outputs (additive score) and the context is fed into the LSTM with the previous target
      token; the output layer sees the new state and the context (Bahdanau et al. 2015).
    - `attention="luong"`: the new decoder state attends (dot / general / concat score,
      optionally local-p) and `h~_t = tanh(W_c [c_t; h_t])` predicts the token; with input
      feeding `h~_t` also enters the next step (Luong et al. 2015).

    Args:
        source_vocab_size: Number of source token ids (id 0 is padding).
        target_vocab_size: Number of target token ids (id 0 is padding).
        embedding_dim: Size of the token embeddings.
        units: LSTM size of the decoder (and of each encoder direction).
        num_layers: Number of stacked LSTM layers in the encoder and in the decoder.
        bidirectional: Whether the encoder is a BiLSTM (its final states are mapped to the
            decoder's initial states by a learned `tanh` layer).
        dropout: Dropout rate on embeddings, between encoder layers and before the output
            layer.
        attention: `None`, `"bahdanau"` or `"luong"`.
        attention_units: Hidden size of the additive / concat scores (default: `units`).
        attention_score: Luong score, `"dot"`, `"general"` or `"concat"`.
        attention_window: Luong local-p half-width `D`; `None` for global attention.
        input_feeding: Luong input feeding.
        reverse_source: Whether the encoder reads each source sentence from its last token to
            its first (Sutskever et al. 2014): the decoder then starts next to the source's
            first words. Helps most without attention; the attention memory stays in source
            order. Needs right padding (the zoo's tokenizers pad on the right) and a
            unidirectional encoder.
        feed_context: Without attention only: whether the summary `c` of the source (the top
            encoder layer's final output, both directions' with a BiLSTM) is concatenated to
            every decoder input and to the output layer's input, so that no step has to
            carry the source through the recurrence alone (Cho et al. 2014).

    Call arguments:
        inputs: Dict with `"source"` (`int[batch, Ts]`) and `"target_in"` (`int[batch, Tt]`,
            the target shifted right, starting with `<s>`).
        training: Whether dropout is active.

    Returns:
        Logits `[batch, Tt, target_vocab_size]`.
    """

    def __init__(
        self,
        source_vocab_size,
        target_vocab_size,
        embedding_dim,
        units,
        num_layers,
        bidirectional,
        dropout,
        attention,
        attention_units,
        attention_score,
        attention_window,
        input_feeding,
        reverse_source,
        feed_context,
        **kwargs,
    ):
        super().__init__(**kwargs)
        sizes = (source_vocab_size, target_vocab_size, embedding_dim, units, num_layers)
        for arg, value in zip(ARGUMENTS[:5], sizes, strict=True):
            check_positive_int(arg, value)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), received dropout={dropout!r}.")
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {ATTENTIONS}, received attention={attention!r}."
            )
        if reverse_source and bidirectional:
            raise ValueError(
                "`reverse_source=True` needs a unidirectional encoder: a bidirectional one "
                "already reads the source both ways. Set bidirectional=False or "
                "reverse_source=False."
            )
        if feed_context and attention is not None:
            raise ValueError(
                "`feed_context=True` is for the model without attention: an attention model "
                f"already gives each step a context of its own. Received attention={attention!r}; "
                "set feed_context=False."
            )
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.attention = attention
        self.attention_units = attention_units
        self.attention_score = attention_score
        self.attention_window = attention_window
        self.input_feeding = bool(input_feeding) and attention == "luong"
        self.reverse_source = bool(reverse_source)
        self.feed_context = bool(feed_context)

        # -- layers ------------------------------------------------------------------------
        self.source_embedding = keras.layers.Embedding(
            source_vocab_size,
            embedding_dim,
            mask_zero=True,
            name="source_embedding",
            dtype=self.dtype_policy,
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocab_size, embedding_dim, name="target_embedding", dtype=self.dtype_policy
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, name="embedding_dropout", dtype=self.dtype_policy
        )
        self.encoder_layers = [
            encoder_lstm(units, i, self.bidirectional, self.reverse_source, self.dtype_policy)
            for i in range(num_layers)
        ]
        self.encoder_dropout = keras.layers.Dropout(
            dropout, name="encoder_dropout", dtype=self.dtype_policy
        )
        self.bridges = []
        if self.bidirectional:
            self.bridges = [
                keras.layers.Dense(
                    units, activation="tanh", name=f"bridge_{i}", dtype=self.dtype_policy
                )
                for i in range(2 * num_layers)
            ]
        self.decoder_layers = [
            keras.layers.LSTM(
                units,
                return_sequences=True,
                return_state=True,
                name=f"decoder_lstm_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(num_layers)
        ]
        # The decoder LSTMs run whole on the fused training path; their cells, wrapped with
        # the attention, are the step. The attention and its output layer are also kept as
        # `attention_layer` / `attentional`, where `.keras` files hold them.
        cells = self.decoder_layers[0].cell
        if num_layers > 1:  # (a stack of one would drop a level of its state's nesting)
            cells = keras.layers.StackedRNNCells(
                [lstm.cell for lstm in self.decoder_layers], name="decoder_cells"
            )
        self.attention_layer = None
        self.attentional = None
        if attention is None:
            self.step_cell = cells
        else:
            if attention == "bahdanau":
                self.attention_layer = BahdanauAttention(
                    attention_units or units, name="attention", dtype=self.dtype_policy
                )
            else:
                self.attention_layer = LuongAttention(
                    attention_score,
                    window=attention_window,
                    units=attention_units,
                    name="attention",
                    dtype=self.dtype_policy,
                )
            # Bahdanau: attend from the previous state, then run the cells on the context;
            # Luong: attend from the new state, h~ = tanh(W_c [c; h]), fed back if asked.
            bahdanau = attention == "bahdanau"
            self.step_cell = AttentionCell(
                cells,
                self.attention_layer,
                attention_size=units,
                input_feeding=self.input_feeding,
                attend="before" if bahdanau else "after",
                attention_bias=bahdanau,
                context_first=not bahdanau,
                name="decoder_cell",
                dtype=self.dtype_policy,
            )
            self.attentional = self.step_cell.attention_layer
        self.output_dropout = keras.layers.Dropout(
            dropout, name="output_dropout", dtype=self.dtype_policy
        )
        self.output_projection = keras.layers.Dense(
            target_vocab_size, name="output_projection", dtype=self.dtype_policy
        )
        self.build()

    @property
    def memory_dim(self):
        return 2 * self.units if self.bidirectional else self.units

    @property
    def output_dim(self):
        """Size of what the output layer reads: the decoder output (and the summary)."""
        return self.units + (self.memory_dim if self.feed_context else 0)

    @property
    def fused(self):
        """Whether teacher forcing can run the decoder LSTMs over the whole target at once."""
        return not self.input_feeding and self.attention in (None, "luong")

    def build(self, input_shape=None):
        # Every size follows from the config; sublayers are built here, outside the decoding
        # loops, where creating variables is not allowed.
        if self.built:
            return
        self.source_embedding.build((None, None))
        self.target_embedding.build((None, None))
        features = self.embedding_dim
        for lstm in self.encoder_layers:
            lstm.build((None, None, features))
            features = self.memory_dim
        for bridge in self.bridges:
            bridge.build((None, 2 * self.units))
        step_input = self.embedding_dim
        if self.attention == "bahdanau":
            step_input += self.memory_dim
        if self.input_feeding:
            step_input += self.units
        if self.feed_context:
            step_input += self.memory_dim
        for lstm in self.decoder_layers:
            lstm.build((None, None, step_input))
            step_input = self.units
        if self.attention is not None:
            self.step_cell.build_with_memory(
                (None, self.embedding_dim), (None, None, self.memory_dim)
            )
        self.output_projection.build((None, self.output_dim))
        self.built = True

    # -- encoder / decoder ---------------------------------------------------------------

    def encode(self, source, training=False):
        """Returns `(memory, memory_mask [B, Ts], initial decoder state)`.

        `memory` is a dict: the encoder outputs `"values"` `[B, Ts, D]` and, with attention,
        their `"keys"` as the attention layer prepares them; with `feed_context`, the source's
        `"summary"` `[B, D]`. The decoder state is the cells' `[h, c]` (a list of them with
        several layers), with attention `[that, feedback]` (the `AttentionCell`'s state less
        the memory).
        """
        mask = padding_mask(source)
        x = self.embedding_dropout(self.source_embedding(source), training=training)
        final_states = []
        for i, lstm in enumerate(self.encoder_layers):
            if i > 0:
                x = self.encoder_dropout(x, training=training)
            x, *states = lstm(x, mask=mask, training=training)
            if self.reverse_source:
                # Keras returns a backwards pass's outputs last token first; with right
                # padding, flipping them back puts each output at its token's position.
                x = ops.flip(x, axis=1)
            final_states.append(states)
        layer_states = []  # one [h, c] per decoder layer
        for i, states in enumerate(final_states):
            if self.bidirectional:  # [h_fw, c_fw, h_bw, c_bw] -> decoder (h, c)
                h = self.bridges[2 * i](ops.concatenate([states[0], states[2]], axis=-1))
                c = self.bridges[2 * i + 1](ops.concatenate([states[1], states[3]], axis=-1))
                layer_states.append([h, c])
            else:
                layer_states.append(list(states))
        cell_state = layer_states if self.num_layers > 1 else layer_states[0]
        memory = {"values": x}
        if self.feed_context:
            top = final_states[-1]
            memory["summary"] = (
                ops.concatenate([top[0], top[2]], axis=-1) if self.bidirectional else top[0]
            )
        if self.attention is None:
            return memory, mask, cell_state
        # The attention cell's state, less the memory (kept apart: the search tiles it once).
        cell_state, feedback, _, _, memory["keys"], _ = self.step_cell.initial_state(
            x, mask, cell_state
        )
        return memory, mask, [cell_state, feedback]

    def _step(self, embedded, state, memory, memory_mask):
        """One decoder step from embedded tokens `[B, E]`: `(output, state, weights [B, Ts])`."""
        if self.attention is not None:
            cell_state, feedback = state
            output, cell_state, feedback, weights = self.step_cell.step(
                embedded, cell_state, feedback, memory["values"], memory["keys"], memory_mask
            )
            return output, [cell_state, feedback], weights
        x = embedded
        if self.feed_context:
            x = ops.concatenate([x, memory["summary"]], axis=-1)
        x, state = self.step_cell(x, state)
        if self.feed_context:
            x = ops.concatenate([x, memory["summary"]], axis=-1)
        # No attention: zero weights keep one output structure for every variant.
        return x, state, ops.zeros_like(ops.cast(memory_mask, x.dtype))

    def decode_step(self, tokens, state, memory, memory_mask):
        """Inference step: `tokens [B]` -> `(logits [B, V], new state, weights [B, Ts])`."""
        output, state, weights = self._step(
            self.target_embedding(tokens), state, memory, memory_mask
        )
        return self.output_projection(output), state, weights

    def decode_sequence(self, target_in, state, memory, memory_mask, training=False):
        """Teacher-forced decoding: `(logits [B, Tt, V], weights [B, Tt, Ts])`."""
        embedded = self.embedding_dropout(self.target_embedding(target_in), training=training)
        decode = self._decode_fused if self.fused else self._decode_steps
        outputs, weights = decode(embedded, state, memory, memory_mask, training)
        logits = self.output_projection(self.output_dropout(outputs, training=training))
        return logits, weights

    def _decode_fused(self, embedded, state, memory, memory_mask, training=False):
        """All steps at once: `(outputs [B, Tt, output_dim], weights [B, Tt, Ts])`."""
        steps = ops.shape(embedded)[1]
        summary = None
        if self.feed_context:  # the same summary beside every target token
            summary = ops.repeat(memory["summary"][:, None, :], steps, axis=1)
            embedded = ops.concatenate([embedded, summary], axis=-1)
        cell_state = state if self.attention is None else state[0]
        layer_states = cell_state if self.num_layers > 1 else [cell_state]
        x = embedded
        for lstm, initial in zip(self.decoder_layers, layer_states, strict=True):
            x, _, _ = lstm(x, initial_state=initial, training=training)
        if self.attention is None:
            if summary is not None:
                x = ops.concatenate([x, summary], axis=-1)
            weights = ops.zeros_like(ops.cast(memory_mask, x.dtype))[:, None, :]
            return x, ops.repeat(weights, steps, axis=1)
        cell_states = [*state, None, memory["values"], memory["keys"], memory_mask]
        return self.step_cell.attend_all(x, cell_states)

    def _decode_steps(self, embedded, state, memory, memory_mask, training=False):
        """One `decode_step` after another: `(outputs [B, Tt, units], weights [B, Tt, Ts])`."""

        def step(state, embedded_t):
            output, state, weights = self._step(embedded_t, state, memory, memory_mask)
            return state, (output, weights)

        dtype = self.compute_dtype
        outputs, weights = scan_outputs(
            step, state, ops.transpose(embedded, (1, 0, 2)), dtypes=(dtype, dtype)
        )
        return ops.transpose(outputs, (1, 0, 2)), ops.transpose(weights, (1, 0, 2))

    def call(self, inputs, training=False):
        memory, memory_mask, state = self.encode(inputs["source"], training=training)
        logits, _ = self.decode_sequence(
            inputs["target_in"], state, memory, memory_mask, training=training
        )
        return logits

    # -- config --------------------------------------------------------------------------

    def get_config(self):
        return {**super().get_config(), **{arg: getattr(self, arg) for arg in ARGUMENTS}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
