"""An attention-wrapped recurrent cell: what `tfa.seq2seq.AttentionWrapper` was, for Keras 3."""

import keras
from keras import ops

from zoo.layers.base_attention import BaseAttention, check_choice, check_positive_int
from zoo.layers.location_sensitive_attention import LocationSensitiveAttention

ATTEND = ("after", "before")


@keras.saving.register_keras_serializable(package="lstm_zoo")
class AttentionCell(keras.layers.Layer):
    """A recurrent cell that attends over a memory at every step.

    It wraps any Keras RNN cell (`LSTMCell`, `GRUCell`, `StackedRNNCells`...) with one of the
    zoo's attention layers, and works in `keras.layers.RNN(cell, return_sequences=True)` for
    teacher forcing as well as called step by step for decoding, on every backend.

    With `attend="after"` (TensorFlow Addons' `AttentionWrapper`; Luong et al. 2015) a step
    runs the cell, attends from its new output `h_t` to the memory, and outputs
    `a_t = tanh(W [h_t; c_t])` (or the context `c_t` alone if `attention_size` is `None`); with
    `input_feeding`, `a_{t-1}` is concatenated to the step's input. With `attend="before"`
    (Bahdanau et al. 2015) a step attends from the previous cell output `h_{t-1}` first and
    feeds the context to the cell with the input; the output is formed the same way.

    The memory travels in the state, so the cell needs no setup call and a model built with
    it is an ordinary Keras model: `initial_state(memory, memory_mask, cell_state)` gives the
    first state, in this order:
    `[cell_state, feedback, alignment, memory, keys, memory_mask]`, where `feedback` is
    `a_{t-1}` ("after"; zeros at first) or `h_{t-1}` ("before"; at first the output of
    `cell_state`, e.g. the encoder's final state, as Bahdanau's first query is), `alignment`
    the last step's attention weights (`alignment(state)` reads it) and `keys` the memory as
    the attention layer prepares it, once per sequence. A decoder searched by `zoo.decoding`
    can keep the memory out of its search state (the search tiles it once instead of
    reordering it at every step) and call `step()` with it; without input feeding,
    `attend_all()` computes teacher forcing for all steps at once.

    Args:
        cell: A Keras RNN cell (anything `keras.layers.RNN` takes).
        attention: A zoo attention layer (`LuongAttention`, `BahdanauAttention`,
            `LocationSensitiveAttention`, which reads the previous step's weights from the
            state).
        attention_size: Units of the attentional output `tanh(W [h; c])`; `None`: the output
            is the context.
        input_feeding: With `attend="after"`, whether the previous output is fed to the cell
            with the input (Luong's input feeding; tfa's default).
        attend: `"after"` or `"before"`: whether a step attends from the cell's new output or
            from its previous one.
        attention_bias: Whether `W` of the attentional output has a bias (Bahdanau's output
            layer has one; tfa's and Luong's do not).
        context_first: Whether the attentional output reads `[c_t; h_t]` (as Luong et al.
            write it) instead of tfa's `[h_t; c_t]`; the same model either way, the order only
            matters to weights trained in the other one.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: `[batch, features]`, one step's input.
        states: The state list `initial_state` returns (and each step passes on).
        training: Passed to the wrapped cell (dropout).

    Returns:
        `(output [batch, output_size], new_states)`.

    Example:

    >>> from zoo.layers import LuongAttention
    >>> memory = keras.random.normal((2, 5, 8))
    >>> mask = ops.convert_to_tensor([[True] * 5, [True, True, True, False, False]])
    >>> cell = AttentionCell(keras.layers.LSTMCell(8), LuongAttention("general"), 6)
    >>> decoder = keras.layers.RNN(cell, return_sequences=True)
    >>> start = cell.initial_state(memory, mask)
    >>> outputs = decoder(keras.random.normal((2, 3, 4)), initial_state=start)
    >>> tuple(outputs.shape)
    (2, 3, 6)
    """

    def __init__(
        self,
        cell,
        attention,
        attention_size=None,
        input_feeding=True,
        attend="after",
        attention_bias=False,
        context_first=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not hasattr(cell, "state_size") or not callable(cell):
            raise ValueError(
                f"`cell` must be a Keras RNN cell (e.g. keras.layers.LSTMCell), received {cell!r}."
            )
        if not isinstance(attention, BaseAttention):
            raise ValueError(
                "`attention` must be one of the zoo's attention layers (e.g. "
                f"zoo.layers.LuongAttention), received {attention!r}."
            )
        check_positive_int("attention_size", attention_size, allow_none=True)
        check_choice("attend", attend, ATTEND)
        for arg, value in (
            ("input_feeding", input_feeding),
            ("attention_bias", attention_bias),
            ("context_first", context_first),
        ):
            if not isinstance(value, bool):
                raise ValueError(f"`{arg}` must be True or False, received {value!r}.")
        self.cell = cell
        self.attention = attention
        self.attention_size = attention_size
        self.input_feeding = input_feeding
        self.attend = attend
        self.attention_bias = attention_bias
        self.context_first = context_first
        self.memory_shape = None  # [Ts, dim] of the memory, known once a state is made
        if attention_size is not None:
            self.attention_layer = keras.layers.Dense(
                attention_size,
                activation="tanh",
                use_bias=attention_bias,
                name="attention_layer",
                dtype=self.dtype_policy,
            )

    # -- sizes -------------------------------------------------------------------------------

    @property
    def cell_output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is None:
            size = self.cell.state_size
            size = size[0] if isinstance(size, (list, tuple)) else size
        return size

    @property
    def output_size(self):
        if self.attention_size is not None:
            return self.attention_size
        if self.memory_shape is None:
            raise ValueError(
                "With attention_size=None the output is the context, whose size is the "
                "memory's: call initial_state(memory, ...) first, or set attention_size."
            )
        return self.memory_shape[-1]

    @property
    def feedback_size(self):
        return self.output_size if self.attend == "after" else self.cell_output_size

    @property
    def state_size(self):
        # The memory's entries have no fixed size (they are [batch, Ts, ...]).
        return [self.cell.state_size, self.feedback_size, None, None, None, None]

    # -- state ------------------------------------------------------------------------------

    def initial_state(self, memory, memory_mask=None, cell_state=None, alignment=None):
        """The first state for `memory` `[batch, Ts, dim]` (and its boolean mask
        `[batch, Ts]`); `cell_state` (e.g. the encoder's final state) starts the wrapped
        cell, zeros by default; `alignment` `[batch, Ts]` is the "previous" weights the first
        step of a location-sensitive attention sees (zeros by default)."""
        memory = ops.convert_to_tensor(memory)
        if len(memory.shape) != 3:
            raise ValueError(f"`memory` must be [batch, Ts, dim], received shape {memory.shape}.")
        batch, steps = ops.shape(memory)[0], ops.shape(memory)[1]
        if memory_mask is None:
            memory_mask = ops.ones([batch, steps], "bool")
        self.memory_shape = tuple(memory.shape[1:])
        if not self.attention.built:
            self._build_attention(tuple(memory.shape))
        if cell_state is None:
            cell_state = self.cell.get_initial_state(batch_size=batch)
        if self.attend == "before":
            feedback = self.cell_output_of(cell_state)
        else:
            feedback = ops.zeros([batch, self.feedback_size], self.compute_dtype)
        if alignment is None:
            alignment = ops.zeros([batch, steps], self.compute_dtype)
        alignment = ops.cast(alignment, self.compute_dtype)
        keys = self.attention.prepare_keys(memory)
        mask = ops.cast(memory_mask, self.compute_dtype)  # states are floats in keras.layers.RNN
        return [cell_state, feedback, alignment, memory, keys, mask]

    def cell_output_of(self, cell_state):
        """The output a state of the wrapped cell stands for: its `h` (the top cell's, for
        `StackedRNNCells`), as Keras' LSTM, GRU and SimpleRNN cells output their new `h`."""
        if isinstance(self.cell, keras.layers.StackedRNNCells):
            cell_state = cell_state[-1]
        while isinstance(cell_state, (list, tuple)):
            cell_state = cell_state[0]
        return cell_state

    @staticmethod
    def alignment(states):
        """The attention weights of the step that produced `states`, `[batch, Ts]`."""
        return states[2]

    # -- Keras anatomy ----------------------------------------------------------------------

    def build(self, input_shape):
        self._build(input_shape, None)

    def build_with_memory(self, input_shape, memory_shape):
        """Builds for step inputs `[batch, features]` and a memory `[batch, Ts, dim]`, so that
        a model can create every weight before it sees a memory."""
        self.memory_shape = tuple(memory_shape[1:])
        self._build(input_shape, memory_shape)

    def _build(self, input_shape, memory_shape):
        feature = input_shape[-1]
        if self.attend == "before" or self.input_feeding:
            if self.attend == "before" and memory_shape is None and self.memory_shape is None:
                raise ValueError(
                    "An attend='before' cell feeds the context to its cell: call "
                    "initial_state(memory, ...) before the cell is built."
                )
            extra = self.feedback_size if self.attend == "after" else self._memory_dim(memory_shape)
            feature = feature + extra
        # Built already when deserialized with their own build configs.
        if not self.cell.built:
            self.cell.build((input_shape[0], feature))
        if memory_shape is not None and not self.attention.built:
            self._build_attention(memory_shape)
        if self.attention_size is not None and not self.attention_layer.built:
            context = self._memory_dim(memory_shape)
            self.attention_layer.build((input_shape[0], self.cell_output_size + context))
        self.built = True

    def _memory_dim(self, memory_shape):
        if memory_shape is not None:
            return memory_shape[-1]
        if self.memory_shape is None:
            raise ValueError(
                "The memory's size is unknown: call initial_state(memory, ...) before the "
                "cell runs."
            )
        return self.memory_shape[-1]

    def _build_attention(self, memory_shape):
        query = (memory_shape[0], self.cell_output_size)
        self.attention.build([query, tuple(memory_shape)])

    def get_build_config(self):
        config = super().get_build_config() or {}
        return {**config, "memory_shape": [None, *self.memory_shape]}

    def build_from_config(self, config):
        self.build_with_memory(config["input_shape"], tuple(config["memory_shape"]))

    def call(self, inputs, states, training=None):
        cell_state, feedback, alignment, memory, keys, mask = states
        output, cell_state, feedback, weights = self.step(
            inputs, cell_state, feedback, memory, keys, ops.cast(mask, "bool"), alignment, training
        )
        return output, [cell_state, feedback, weights, memory, keys, mask]

    def step(
        self,
        inputs,
        cell_state,
        feedback,
        memory,
        keys,
        memory_mask,
        alignment=None,
        training=None,
    ):
        """One step with the memory given apart from the state (`memory_mask` boolean;
        `alignment`, the previous weights, only read by a location-sensitive attention):
        `(output, cell_state, feedback, weights [batch, Ts])`. `call` is this step with the
        memory read from the state."""
        if self.attend == "before":
            context, weights = self.attend_to(feedback, memory, keys, memory_mask, alignment)
            cell_input = ops.concatenate([inputs, ops.cast(context, inputs.dtype)], axis=-1)
        elif self.input_feeding:
            cell_input = ops.concatenate([inputs, ops.cast(feedback, inputs.dtype)], axis=-1)
        else:
            cell_input = inputs
        cell_output, cell_state = self.cell(cell_input, cell_state, training=training)
        if self.attend == "after":
            context, weights = self.attend_to(cell_output, memory, keys, memory_mask, alignment)
        output = self.attentional_output(cell_output, context)
        feedback = output if self.attend == "after" else cell_output
        return output, cell_state, feedback, weights

    def attend_to(self, query, memory, keys, memory_mask, alignment=None):
        """`(context, weights)` of queries `[batch, dim]` or `[batch, Tq, dim]` over the memory
        (`keys` prepared by `initial_state`; `alignment`: the previous weights, for a
        location-sensitive attention)."""
        location = {}
        if isinstance(self.attention, LocationSensitiveAttention):
            location["previous_weights"] = alignment
        return self.attention(
            [query, memory, keys],
            mask=[None, memory_mask],
            return_attention_scores=True,
            keys_prepared=True,
            **location,
        )

    def attentional_output(self, cell_output, context):
        """`tanh(W [h; c])` (`[c; h]` with `context_first`), or the context alone."""
        if self.attention_size is None:
            return context
        parts = [context, cell_output] if self.context_first else [cell_output, context]
        return self.attention_layer(ops.concatenate(parts, axis=-1))

    def attend_all(self, cell_outputs, states):
        """Teacher forcing in one batched call where no step's input depends on the
        attention (`attend="after"`, no input feeding): given the wrapped cell's outputs for
        every step `[batch, T, units]` (e.g. from a fused `keras.layers.LSTM` over the inputs,
        cuDNN on a GPU) and the state `initial_state` made, returns `(outputs [batch, T,
        size], weights [batch, T, Ts])`, what `keras.layers.RNN(cell)` computes step by
        step."""
        if (
            self.attend != "after"
            or self.input_feeding
            or isinstance(self.attention, LocationSensitiveAttention)
        ):
            raise ValueError(
                "attend_all() needs attend='after', input_feeding=False and an attention that "
                "does not read the previous weights: otherwise each step depends on the "
                "previous step's attention. Run the cell in keras.layers.RNN instead."
            )
        _, _, _, memory, keys, mask = states
        context, weights = self.attend_to(cell_outputs, memory, keys, ops.cast(mask, "bool"))
        return self.attentional_output(cell_outputs, context), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": keras.saving.serialize_keras_object(self.cell),
                "attention": keras.saving.serialize_keras_object(self.attention),
                "attention_size": self.attention_size,
                "input_feeding": self.input_feeding,
                "attend": self.attend,
                "attention_bias": self.attention_bias,
                "context_first": self.context_first,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cell"] = keras.saving.deserialize_keras_object(config["cell"])
        config["attention"] = keras.saving.deserialize_keras_object(config["attention"])
        return cls(**config)
