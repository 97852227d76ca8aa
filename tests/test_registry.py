import keras
import numpy as np
import pytest
from helpers import to_numpy

import zoo
from zoo import registry

# Tiny sizes and a batch of inputs per task.
TINY = {
    "translation": {
        "source_vocab_size": 30,
        "target_vocab_size": 12,
        "embedding_dim": 8,
        "units": 8,
    },
    "classification": {"vocab_size": 30, "num_classes": 3, "embedding_dim": 8, "units": 8},
    "forecasting": {"num_features": 4, "num_known": 2, "lookback": 6, "units": 8},
    "speech": {"vocab_size": 12, "units": 8, "num_mel_bins": 16},
}
BATCH = {
    "translation": {
        "source": np.array([[5, 6, 7, 8], [9, 10, 0, 0]]),
        "target_in": np.array([[2, 4, 5], [2, 6, 0]]),
    },
    "classification": np.array([[5, 6, 7, 8], [9, 10, 0, 0]]),
    "forecasting": (
        np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32"),
        np.random.default_rng(1).normal(size=(2, 5, 2)).astype("float32"),
    ),
    "speech": {
        "audio": np.random.default_rng(2).normal(0, 0.1, size=(2, 4000)).astype("float32"),
        "audio_length": np.array([4000, 2500], "int32"),
        "target_in": np.array([[2, 4, 5], [2, 6, 0]]),
    },
}
# Speech: a CTC model's frames (4000 samples -> 26 mel frames -> 13 -> 7) or the speller's 3 steps.
OUTPUT_SHAPE = {
    "translation": (2, 3, 12),
    "classification": (2, 3),
    "forecasting": (2, 5, 3),
    "speech": {"lstm_ctc_asr": (2, 7, 12), "lstm_las_asr": (2, 3, 12)},
}


def tiny(name):
    return zoo.get(name, **TINY[zoo.spec(name).task])


def test_list_models_is_sorted_and_filters():
    names = zoo.list_models()
    assert names == sorted(names)
    assert {"lstm_nmt", "lstm_bahdanau_nmt", "lstm_luong_nmt"} <= set(names)
    assert zoo.list_models("*_nmt", task="translation") == [
        "lstm_bahdanau_nmt",
        "lstm_luong_fast_nmt",
        "lstm_luong_nmt",
        "lstm_nmt",
    ]
    assert zoo.list_models("lstm_luong_*") == ["lstm_luong_fast_nmt", "lstm_luong_nmt"]
    assert zoo.list_models(task="classification") == [
        "lstm_attention_classifier",
        "lstm_classifier",
        "lstm_selfattn_classifier",
    ]
    with pytest.raises(ValueError, match="task"):
        zoo.list_models(task="poetry")


def test_unknown_name_names_close_matches():
    with pytest.raises(ValueError, match="lstm_luong_nmt"):
        zoo.get("lstm_luong")


def test_unknown_override_lists_valid_keys():
    with pytest.raises(ValueError, match=r"Unknown argument.*'unit'.*Valid arguments.*units"):
        zoo.get("lstm_nmt", unit=3)


def test_duplicate_names_raise(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    def builder(**config):
        return keras.Sequential()

    kwargs = {"task": "translation", "attention": "none", "default_data": "dates", "defaults": {}}
    registry.register("my_model", **kwargs)(builder)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("my_model", **kwargs)(builder)


def test_spec_is_frozen():
    spec = zoo.spec("lstm_luong_nmt")
    with pytest.raises(AttributeError):
        spec.name = "other"
    with pytest.raises(TypeError):
        spec.defaults["units"] = 1


def test_overrides_reach_the_model():
    model = zoo.get("lstm_luong_nmt", **TINY["translation"], attention_score="dot")
    assert model.units == 8 and model.attention_layer.score == "dot"


# -- every registered entry -----------------------------------------------------------------


@pytest.mark.parametrize("name", zoo.list_models())
def test_spec_metadata_matches_the_model(name):
    spec = zoo.spec(name)
    model = tiny(name)
    assert model.built
    assert (model.attention or "none") == spec.attention
    assert spec.paper and spec.description and spec.default_data
    if spec.twin is not None:
        twin = zoo.spec(spec.twin)
        assert twin.attention == "none" and twin.task == spec.task
        assert twin.default_data == spec.default_data
    else:
        assert spec.attention == "none"


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_model_runs_and_round_trips_keras_file(name, tmp_path):
    task = zoo.spec(name).task
    model = tiny(name)
    logits = model(BATCH[task])
    expected = OUTPUT_SHAPE[task]
    assert tuple(logits.shape) == (expected[name] if isinstance(expected, dict) else expected)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(reloaded(BATCH[task])), to_numpy(logits), rtol=1e-6)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_model_has_a_recipe(name):
    from pathlib import Path

    recipe = Path(__file__).parents[1] / zoo.spec(name).recipe
    assert recipe.is_file(), f"{recipe} is missing"
    assert f'"{name}"' in recipe.read_text()
