"""Loading a model whose BiLSTMs are built in `__init__` never hands back another layer."""

import builtins
import gc
import weakref

import keras
import numpy as np
import pytest
from keras.src.saving import serialization_lib

import zoo
from zoo.models.bidirectional import bidirectional_lstm


class ReusedAddresses:
    """`id()` as an allocator that hands a dead object's number to the next new object.

    CPython reuses the address of a freed object; which object gets it depends on when the
    garbage collector runs (layers sit in reference cycles). Here it is forced: each new
    object gets the smallest number no living object holds, after a full collection before
    each new layer, so the reuses that could happen at a layer do happen.
    """

    def __init__(self):
        self.numbers: dict[int, int] = {}
        self.free: list[int] = []
        self.next = 1

    def __call__(self, obj) -> int:
        key = builtins.id(obj)
        if key in self.numbers:
            return self.numbers[key]
        try:
            weakref.finalize(obj, self._release, key)
        except TypeError:  # not weak-referenceable: never freed while we look
            return key
        if isinstance(obj, keras.layers.Layer):
            gc.collect()
        if self.free:
            self.free.sort()
            number = self.free.pop(0)
        else:
            number, self.next = self.next, self.next + 1
        self.numbers[key] = number
        return number

    def _release(self, key: int) -> None:
        self.free.append(self.numbers.pop(key))


AUDIO = np.random.default_rng(2).normal(0, 0.1, size=(2, 4000)).astype("float32")
TARGET_IN = np.array([[2, 4, 5], [2, 6, 0]])
TOKENS = np.array([[5, 6, 7, 8], [9, 10, 0, 0]])
CASES = {
    "lstm_las_asr": (
        {"vocab_size": 12, "units": 8, "num_mel_bins": 16, "num_layers": 3},
        {"audio": AUDIO, "audio_length": np.array([4000, 2500], "int32"), "target_in": TARGET_IN},
    ),
    "lstm_attention_classifier": (
        {"vocab_size": 30, "num_classes": 3, "embedding_dim": 8, "units": 8, "num_layers": 3},
        TOKENS,
    ),
    "lstm_bahdanau_nmt": (
        {"source_vocab_size": 30, "target_vocab_size": 12, "embedding_dim": 8, "units": 8,
         "num_layers": 3, "bidirectional": True},
        {"source": TOKENS, "target_in": TARGET_IN},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_reused_address_during_loading_hands_back_no_other_layer(name, tmp_path, monkeypatch):
    settings, batch = CASES[name]
    model = zoo.get(name, **settings)
    expected = keras.ops.convert_to_numpy(model(batch))
    path = tmp_path / "model.keras"
    model.save(path)
    # serialization_lib looks `id` up in its own module before the builtins.
    monkeypatch.setattr(serialization_lib, "id", ReusedAddresses(), raising=False)
    loaded = keras.saving.load_model(path, compile=False)
    monkeypatch.undo()
    wrappers = [layer for layer in loaded._flatten_layers() if
                isinstance(layer, keras.layers.Bidirectional)]  # fmt: skip
    assert len(wrappers) == 3
    inner = [w.forward_layer for w in wrappers] + [w.backward_layer for w in wrappers]
    assert len({builtins.id(layer) for layer in inner}) == 6  # no layer is shared
    assert [w.backward_layer.go_backwards for w in wrappers] == [True] * 3
    assert not any(w.forward_layer.go_backwards for w in wrappers)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(batch)), expected, rtol=1e-6)


def test_the_wrapper_names_its_layers_as_keras_does():
    wrapper = bidirectional_lstm(4, lstm_name="lstm_x", name="bilstm", return_sequences=True)
    assert wrapper.forward_layer.name == "forward_lstm_x"
    assert wrapper.backward_layer.name == "backward_lstm_x"
    assert wrapper.backward_layer.go_backwards and wrapper.return_sequences


def test_a_seed_gives_the_weights_of_a_plain_keras_bidirectional():
    inputs = np.ones((1, 3, 2), "float32")
    keras.utils.set_random_seed(0)
    ours = bidirectional_lstm(4, name="ours", return_sequences=True)
    ours(inputs)
    keras.utils.set_random_seed(0)
    plain = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    plain(inputs)
    for a, b in zip(ours.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
