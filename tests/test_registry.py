import inspect

import keras
import numpy as np
import pytest
from helpers import to_numpy

import zoo
from zoo import registry
from zoo.tasks import TASK_NAMES, task_examples


def tiny(name):
    return zoo.get(name, **task_examples(zoo.spec(name).task).TINY_MODEL)


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
    model = zoo.get(
        "lstm_luong_nmt", **task_examples("translation").TINY_MODEL, attention_score="dot"
    )
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
    examples = task_examples(zoo.spec(name).task)
    model = tiny(name)
    batch = examples.example_batch()
    logits = model(batch)
    assert tuple(logits.shape) == examples.output_shape(model.get_config())
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(reloaded(batch)), to_numpy(logits), rtol=1e-6)


@pytest.mark.parametrize("name", zoo.list_models())
def test_the_model_class_has_no_defaults_of_its_own(name):
    # keras-hub's rule for backbones: every architecture argument is stated by whoever builds
    # the class, so a class built by hand cannot silently differ from the registry's entry.
    spec = zoo.spec(name)
    assert spec.task in TASK_NAMES
    sizes = task_examples(spec.task).TINY_MODEL
    model = zoo.get(name, **sizes)
    cls = type(model)
    arguments = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind is not p.VAR_KEYWORD
    ]
    assert [p.name for p in arguments if p.default is not p.empty] == []
    config = model.get_config()
    # The entry states every argument; the class built from them is the entry's model.
    assert {p.name for p in arguments} <= set(spec.defaults) | set(config)
    for key, value in {**spec.defaults, **sizes}.items():
        assert config[key] == value, key
    by_hand = cls(**{p.name: config[p.name] for p in arguments}, name=name)
    assert by_hand.get_config() == config
    with pytest.raises(TypeError, match="missing"):
        cls(**sizes)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_model_has_a_recipe(name):
    from pathlib import Path

    recipe = Path(__file__).parents[1] / zoo.spec(name).recipe
    assert recipe.is_file(), f"{recipe} is missing"
    assert f'"{name}"' in recipe.read_text()
