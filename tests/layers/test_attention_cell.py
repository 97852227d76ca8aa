"""AttentionCell: hand-computed steps, masks, keras.layers.RNN, serialization, and a user's own
model built from the public blocks, trained, saved, reloaded and beam-searched."""

import itertools
import math

import keras
import numpy as np
import pytest
from helpers import to_numpy
from keras import ops

from zoo.data.vocabulary import BOS_ID, EOS_ID
from zoo.decoding import beam_search
from zoo.layers import AttentionCell, LocationSensitiveAttention, LuongAttention

MEMORY = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
MASK = np.array([[True, True, True, True], [True, True, False, False]])


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_a_step_attends_after_the_cell_as_luong_and_tfa_do():
    cell = AttentionCell(keras.layers.SimpleRNNCell(3), LuongAttention("dot"), attention_size=2)
    state = cell.initial_state(MEMORY, MASK)
    x = np.ones((2, 5), "float32")
    output, new_state = cell(x, state)
    # By hand: the cell reads [x; a_0 = 0], h = tanh(W x + U h_0 + b); dot scores over the
    # unmasked memory; a = tanh(W_a [h; c]).
    kernel, recurrent, bias = (to_numpy(w) for w in cell.cell.weights)
    h = np.tanh(np.concatenate([x, np.zeros((2, 2), "float32")], 1) @ kernel + bias)
    scores = np.einsum("bd,btd->bt", h, MEMORY)
    scores[~MASK] = -np.inf
    weights = softmax(scores)
    context = np.einsum("bt,btd->bd", weights, MEMORY)
    a = np.tanh(np.concatenate([h, context], 1) @ to_numpy(cell.attention_layer.kernel))
    np.testing.assert_allclose(to_numpy(output), a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(AttentionCell.alignment(new_state)), weights, atol=1e-6)
    assert np.all(to_numpy(AttentionCell.alignment(new_state))[1, 2:] == 0)  # masked: exactly 0
    np.testing.assert_allclose(to_numpy(new_state[1]), a, rtol=1e-5)  # fed to the next step
    assert recurrent.shape == (3, 3)


def test_a_step_attends_before_the_cell_as_bahdanau_does():
    cell = AttentionCell(
        keras.layers.GRUCell(3), LuongAttention("dot"), attention_size=None, attend="before"
    )
    state = cell.initial_state(MEMORY, MASK)
    output, new_state = cell(np.ones((2, 5), "float32"), state)
    # The first query is the zero previous output: every unmasked key scores 0, so the weights
    # are uniform over them.
    weights = to_numpy(AttentionCell.alignment(new_state))
    np.testing.assert_allclose(weights, [[0.25] * 4, [0.5, 0.5, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(output), np.einsum("bt,btd->bd", weights, MEMORY), atol=1e-6
    )
    assert cell.cell.kernel.shape[0] == 5 + 3  # the input and the context


@pytest.mark.parametrize("attend", ["after", "before"])
def test_keras_rnn_teacher_forcing_equals_steps_and_the_cell_reloads(attend, tmp_path):
    cell = AttentionCell(
        keras.layers.LSTMCell(6), LuongAttention("general"), attention_size=5, attend=attend
    )
    state = cell.initial_state(MEMORY, MASK)
    inputs = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    outputs, *final = layer(inputs, initial_state=state)
    step_state = state
    for t in range(3):
        step, step_state = cell(inputs[:, t], step_state)
        np.testing.assert_allclose(to_numpy(outputs[:, t]), to_numpy(step), atol=1e-5)
    np.testing.assert_allclose(to_numpy(final[2]), to_numpy(step_state[2]), atol=1e-5)
    # Serialized inside its RNN layer, and back.
    reloaded = keras.layers.RNN.from_config(layer.get_config())
    reloaded(inputs, initial_state=reloaded.cell.initial_state(MEMORY, MASK))  # builds it
    reloaded.set_weights(layer.get_weights())
    again = reloaded(inputs, initial_state=reloaded.cell.initial_state(MEMORY, MASK))
    np.testing.assert_allclose(to_numpy(again[0]), to_numpy(outputs), atol=1e-6)


def test_attending_before_starts_from_the_given_cell_states_output():
    # Bahdanau's first query is the decoder's initial state (the encoder's, bridged), not 0.
    cell = AttentionCell(keras.layers.LSTMCell(3), LuongAttention("dot"), attend="before")
    h0 = np.random.default_rng(2).normal(size=(2, 3)).astype("float32")
    state = cell.initial_state(MEMORY, MASK, [h0, np.zeros_like(h0)])
    _, new_state = cell(np.ones((2, 5), "float32"), state)
    scores = np.einsum("bd,btd->bt", h0, MEMORY)
    scores[~MASK] = -np.inf
    np.testing.assert_allclose(
        to_numpy(AttentionCell.alignment(new_state)), softmax(scores), atol=1e-6
    )


@pytest.mark.parametrize("context_first", [False, True])
def test_attend_all_is_the_rnn_without_input_feeding(context_first):
    lstm = keras.layers.LSTM(6, return_sequences=True)
    cell = AttentionCell(
        lstm.cell,
        LuongAttention("general"),
        attention_size=5,
        input_feeding=False,
        attention_bias=True,
        context_first=context_first,
    )
    inputs = np.random.default_rng(3).normal(size=(2, 4, 3)).astype("float32")
    state = cell.initial_state(MEMORY, MASK)
    stepped = keras.layers.RNN(cell, return_sequences=True)(inputs, initial_state=state)
    # The fused LSTM over the inputs, then every step's attention in one call.
    outputs, weights = cell.attend_all(lstm(inputs, initial_state=state[0]), state)
    np.testing.assert_allclose(to_numpy(outputs), to_numpy(stepped), atol=1e-5)
    assert tuple(weights.shape) == (2, 4, 4) and np.all(to_numpy(weights)[1, :, 2:] == 0)
    assert cell.attention_layer.bias is not None
    feeding = AttentionCell(keras.layers.LSTMCell(6), LuongAttention(), attention_size=5)
    with pytest.raises(ValueError, match="input_feeding=False"):
        feeding.attend_all(outputs, feeding.initial_state(MEMORY, MASK))


def test_every_argument_survives_the_config_round_trip():
    cell = AttentionCell(
        keras.layers.GRUCell(4),
        LocationSensitiveAttention(3, filters=2, kernel_size=3),
        attention_size=5,
        input_feeding=False,
        attend="before",
        attention_bias=True,
        context_first=True,
    )
    config = cell.get_config()
    again = AttentionCell.from_config(config)
    assert again.get_config() == config
    assert (again.attention_bias, again.context_first, again.attend) == (True, True, "before")
    assert isinstance(again.attention, LocationSensitiveAttention)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`cell` must be a Keras RNN cell"):
        AttentionCell(keras.layers.Dense(3), LuongAttention())
    with pytest.raises(ValueError, match="`attention` must be one of the zoo's attention layers"):
        AttentionCell(keras.layers.LSTMCell(3), keras.layers.Attention())
    with pytest.raises(ValueError, match="`attend` must be one of"):
        AttentionCell(keras.layers.LSTMCell(3), LuongAttention(), attend="during")
    cell = AttentionCell(keras.layers.LSTMCell(3), LuongAttention())
    with pytest.raises(ValueError, match=r"memory.*\[batch, Ts, dim\]"):
        cell.initial_state(np.zeros((2, 3), "float32"))


# -- a user's own model from the public blocks ---------------------------------------------

A, B, C = 4, 5, 6
VOCAB = 7  # <pad> <unk> <s> </s> a b c


@keras.saving.register_keras_serializable(package="lstm_zoo_tests")
class MyTranslator(keras.Model):
    """What a tfa.seq2seq user writes: their own embedding, encoder, GRU decoder cell with
    Luong attention, and output layer; `encode` / `decode_step` let zoo.decoding search it."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.target_vocab_size = VOCAB
        self.source_embedding = keras.layers.Embedding(VOCAB, units)
        self.encoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
        self.target_embedding = keras.layers.Embedding(VOCAB, units)
        self.cell = AttentionCell(
            keras.layers.GRUCell(units), LuongAttention("general"), attention_size=units
        )
        self.decoder = keras.layers.RNN(self.cell, return_sequences=True)
        self.output_layer = keras.layers.Dense(VOCAB)

    def encode(self, source):
        mask = ops.not_equal(source, 0)
        memory, last = self.encoder(self.source_embedding(source), mask=mask)
        return memory, mask, self.cell.initial_state(memory, mask, last)

    def decode_step(self, tokens, state, memory, memory_mask):
        output, state = self.cell(self.target_embedding(tokens), state)
        return self.output_layer(output), state, AttentionCell.alignment(state)

    def call(self, inputs):
        _, _, state = self.encode(inputs["source"])
        outputs = self.decoder(self.target_embedding(inputs["target_in"]), initial_state=state)
        return self.output_layer(outputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def reverse_task(rows=64, seed=0):
    """Copy a sequence of a/b/c reversed: a task the model can learn in a few steps."""
    rng = np.random.default_rng(seed)
    source = rng.integers(A, C + 1, size=(rows, 2)).astype("int32")
    target_out = np.concatenate([source[:, ::-1], np.full((rows, 1), EOS_ID)], 1).astype("int32")
    target_in = np.concatenate([np.full((rows, 1), BOS_ID), target_out[:, :-1]], 1).astype("int32")
    return {"source": source, "target_in": target_in}, target_out


def log_prob(model, source, hypothesis):
    target_in = np.array([(BOS_ID, *hypothesis[:-1])], "int32")
    logits = model({"source": source, "target_in": target_in})
    log_probs = to_numpy(ops.log_softmax(logits, axis=-1))[0]
    return float(sum(log_probs[i, t] for i, t in enumerate(hypothesis)))


def test_a_users_own_model_trains_saves_reloads_and_beam_searches_exactly(tmp_path):
    keras.utils.set_random_seed(0)
    model = MyTranslator()
    inputs, targets = reverse_task()
    model.compile(
        keras.optimizers.Adam(0.05),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(inputs, targets, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]  # it learns
    path = tmp_path / "mine.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(reloaded(inputs)), to_numpy(model(inputs)), atol=1e-5)

    source = np.array([[A, C]], "int32")
    result = beam_search(
        reloaded, source, beam_size=9, length_penalty=0.0, max_length_ratio=0.0,
        max_length_offset=3,
    )  # fmt: skip
    length = int(to_numpy(result.length)[0])
    found = tuple(int(t) for t in to_numpy(result.tokens)[0, :length])
    # Exhaustive search over every output of at most 3 tokens, scored by teacher forcing.
    candidates = [
        (*body, EOS_ID) for n in range(3) for body in itertools.product((A, B, C), repeat=n)
    ]
    scored = {y: log_prob(reloaded, source, y) for y in candidates}
    best = max(scored, key=scored.get)
    assert found == best == (C, A, EOS_ID)  # it learned to reverse
    assert float(to_numpy(result.log_prob)[0]) == pytest.approx(scored[best], abs=1e-4)
    assert math.isfinite(scored[best])
