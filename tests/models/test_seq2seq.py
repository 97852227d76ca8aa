import keras
import numpy as np
import pytest
from helpers import to_numpy

from zoo.models import Seq2Seq

SOURCE = np.array([[5, 6, 7, 8], [9, 10, 0, 0]])
TARGET_IN = np.array([[2, 4, 5, 6], [2, 6, 7, 0]])
VARIANTS = {
    "plain": {"attention": None},
    "bahdanau_bi_2layers": {"attention": "bahdanau", "bidirectional": True, "num_layers": 2},
    "luong_general": {"attention": "luong"},
    "luong_dot_no_feeding": {
        "attention": "luong",
        "attention_score": "dot",
        "input_feeding": False,
    },
    "luong_local": {"attention": "luong", "attention_window": 1},
    "plain_reversed": {"attention": None, "reverse_source": True},
    "luong_reversed_2layers": {"attention": "luong", "reverse_source": True, "num_layers": 2},
    "plain_context": {"attention": None, "feed_context": True},
    "plain_context_bi_2layers": {
        "attention": None,
        "feed_context": True,
        "bidirectional": True,
        "num_layers": 2,
    },
}


# Every architecture argument, stated: the class has no defaults of its own (the registry's
# entries hold them).
TINY = {
    "source_vocab_size": 20,
    "target_vocab_size": 9,
    "embedding_dim": 6,
    "units": 8,
    "num_layers": 1,
    "bidirectional": False,
    "dropout": 0.0,
    "attention": None,
    "attention_units": None,
    "attention_score": "general",
    "attention_window": None,
    "input_feeding": True,
    "reverse_source": False,
    "feed_context": False,
}


def tiny(**kwargs):
    return Seq2Seq(**{**TINY, **kwargs})


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_teacher_forcing_equals_step_by_step_decoding(name):
    # Training (scan over the sequence) and inference (one decode_step at a time) must agree,
    # or what is trained is not what is decoded.
    model = tiny(**VARIANTS[name])
    logits = to_numpy(model({"source": SOURCE, "target_in": TARGET_IN}))
    memory, mask, state = model.encode(SOURCE)
    for t in range(TARGET_IN.shape[1]):
        step_logits, state, _ = model.decode_step(TARGET_IN[:, t], state, memory, mask)
        np.testing.assert_allclose(to_numpy(step_logits), logits[:, t], rtol=1e-4, atol=1e-5)


FUSED = {
    "plain_2layers": {"attention": None, "num_layers": 2},
    "luong_general": {"attention": "luong", "input_feeding": False},
    "luong_concat_2layers": {
        "attention": "luong",
        "attention_score": "concat",
        "input_feeding": False,
        "num_layers": 2,
    },
    "luong_local": {"attention": "luong", "attention_window": 1, "input_feeding": False},
    "plain_context_2layers": {"attention": None, "feed_context": True, "num_layers": 2},
}


@pytest.mark.parametrize("name", sorted(FUSED))
def test_the_fused_training_path_equals_the_step_path(name):
    model = tiny(**FUSED[name])
    assert model.fused
    memory, mask, state = model.encode(SOURCE)
    embedded = model.target_embedding(TARGET_IN)
    fused, fused_weights = model._decode_fused(embedded, state, memory, mask)
    steps, step_weights = model._decode_steps(embedded, state, memory, mask)
    np.testing.assert_allclose(to_numpy(fused), to_numpy(steps), atol=1e-5)
    np.testing.assert_allclose(to_numpy(fused_weights), to_numpy(step_weights), atol=1e-5)


def test_only_step_dependent_attention_takes_the_step_path():
    assert not tiny(attention="luong").fused  # input feeding needs the previous step
    assert not tiny(attention="bahdanau").fused  # attends from the previous state
    assert tiny(attention=None).fused


@pytest.mark.parametrize("name", ["bahdanau_bi_2layers", "luong_general", "luong_reversed_2layers"])
def test_attention_weights_ignore_source_padding(name):
    model = tiny(**VARIANTS[name])
    memory, mask, state = model.encode(SOURCE)
    _, weights = model.decode_sequence(TARGET_IN, state, memory, mask)
    w = to_numpy(weights)
    assert w.shape == (2, 4, 4)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[1, :, 2:] == 0.0)


@pytest.mark.parametrize("reverse_source", [False, True])
def test_source_padding_does_not_change_the_output(reverse_source):
    model = tiny(attention="luong", reverse_source=reverse_source)
    padded = np.concatenate([SOURCE, np.zeros((2, 3), "int64")], axis=1)
    a = model({"source": SOURCE, "target_in": TARGET_IN})
    b = model({"source": padded, "target_in": TARGET_IN})
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)


def test_dropout_only_in_training():
    model = tiny(attention="luong", dropout=0.5)
    inputs = {"source": SOURCE, "target_in": TARGET_IN}
    np.testing.assert_array_equal(to_numpy(model(inputs)), to_numpy(model(inputs)))
    assert not np.allclose(to_numpy(model(inputs, training=True)), to_numpy(model(inputs)))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"attention": "cosine"}, "attention"),
        ({"units": 0}, "units"),
        ({"num_layers": -1}, "num_layers"),
        ({"dropout": 1.5}, "dropout"),
        ({"reverse_source": True, "bidirectional": True}, "reverse_source"),
        ({"feed_context": True, "attention": "luong"}, "feed_context"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tiny(**kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"attention_window": 2, "bidirectional": True}, {"reverse_source": True}]
)
def test_config_round_trip(kwargs):
    model = tiny(attention="luong", **kwargs)
    clone = Seq2Seq.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert keras.saving.get_registered_name(Seq2Seq) == "lstm_zoo>Seq2Seq"


def test_the_context_is_the_top_encoder_layers_last_real_output():
    model = tiny(attention=None, feed_context=True, num_layers=2)
    memory, _, _ = model.encode(SOURCE)
    values, summary = to_numpy(memory["values"]), to_numpy(memory["summary"])
    lengths = (SOURCE != 0).sum(axis=1)  # 4 and 2: the padded row's summary is at position 1
    np.testing.assert_allclose(summary, values[[0, 1], lengths - 1], atol=1e-6)


def test_the_context_enters_exactly_the_decoder_input_and_the_output_layer():
    # With the context's rows of the decoder LSTM's and the output layer's kernels zeroed, a
    # context-fed model must compute what the plain model with the same other weights does;
    # with them non-zero it must not.
    plain = tiny(attention=None)
    fed = tiny(attention=None, feed_context=True)
    context_dim = fed.memory_dim
    for ours, theirs in zip(fed.layers, plain.layers, strict=True):
        if ours is fed.step_cell:  # the decoder LSTM's own cell: set with the LSTM
            continue
        weights = theirs.get_weights()
        if ours.name in ("decoder_lstm_0", "output_projection"):
            kernel = weights[0]
            zeros = np.zeros((context_dim, kernel.shape[1]), kernel.dtype)
            weights[0] = np.concatenate([kernel, zeros], axis=0)
        ours.set_weights(weights)
    inputs = {"source": SOURCE, "target_in": TARGET_IN}
    np.testing.assert_allclose(to_numpy(fed(inputs)), to_numpy(plain(inputs)), atol=1e-6)
    kernel, bias = fed.output_projection.get_weights()
    kernel[-context_dim:] = 1.0
    fed.output_projection.set_weights([kernel, bias])
    assert not np.allclose(to_numpy(fed(inputs)), to_numpy(plain(inputs)), atol=1e-3)


def test_a_context_fed_model_saves_and_loads(tmp_path):
    model = tiny(attention=None, feed_context=True, bidirectional=True)
    inputs = {"source": SOURCE, "target_in": TARGET_IN}
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.feed_context and loaded.output_dim == 8 + 16
    np.testing.assert_allclose(to_numpy(loaded(inputs)), to_numpy(model(inputs)), atol=1e-6)


@pytest.mark.parametrize(
    "name", ["plain", "bahdanau_bi_2layers", "luong_general", "luong_reversed_2layers"]
)
def test_an_empty_source_gets_a_defined_output_and_changes_no_other_row(name):
    # An all-padding row must never reach the LSTMs fully masked (cuDNN rejects it).
    model = tiny(**VARIANTS[name])
    source = np.concatenate([SOURCE, np.zeros((1, 4), "int64")])
    target_in = np.concatenate([TARGET_IN, TARGET_IN[:1]])
    logits = to_numpy(model({"source": source, "target_in": target_in}))
    assert np.all(np.isfinite(logits))
    alone = to_numpy(model({"source": SOURCE, "target_in": TARGET_IN}))
    np.testing.assert_allclose(logits[:2], alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_a_reversed_encoder_reads_each_sentence_last_token_first(num_layers):
    # Sutskever et al.'s reversal: the same weights reading "a b c" with reverse_source must
    # end in the state a forward encoder reaches on "c b a", whatever the padding after it,
    # and its memory holds each token's output at that token's position.
    reversed_model = tiny(attention="luong", reverse_source=True, num_layers=num_layers)
    forward_model = tiny(attention="luong", num_layers=num_layers)
    forward_model.set_weights(reversed_model.get_weights())
    source = np.array([[5, 6, 7, 0, 0], [9, 10, 11, 12, 13]])
    flipped = np.array([[7, 6, 5, 0, 0], [13, 12, 11, 10, 9]])
    memory, _, state = reversed_model.encode(source)
    expected_memory, _, expected_state = forward_model.encode(flipped)
    state, expected_state = keras.tree.flatten(state), keras.tree.flatten(expected_state)
    for got, expected in zip(state, expected_state, strict=True):
        np.testing.assert_allclose(to_numpy(got), to_numpy(expected), atol=1e-6)
    values, expected_values = to_numpy(memory["values"]), to_numpy(expected_memory["values"])
    np.testing.assert_allclose(values[0, :3], expected_values[0, 2::-1], atol=1e-6)
    np.testing.assert_allclose(values[1], expected_values[1, ::-1], atol=1e-6)
    # and it is not what reading in order gives
    in_order = to_numpy(keras.tree.flatten(forward_model.encode(source)[2])[0])
    assert not np.allclose(to_numpy(state[0]), in_order, atol=1e-3)


def test_a_reversed_model_saves_and_loads(tmp_path):
    model = tiny(attention=None, reverse_source=True)
    inputs = {"source": SOURCE, "target_in": TARGET_IN}
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.reverse_source
    np.testing.assert_allclose(to_numpy(loaded(inputs)), to_numpy(model(inputs)), atol=1e-6)
