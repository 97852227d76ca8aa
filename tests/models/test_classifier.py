import numpy as np
import pytest
from helpers import to_numpy

from zoo.models import TextClassifier

IDS = np.array([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])


# Every architecture argument, stated: the class has no defaults of its own.
TINY = {
    "vocab_size": 20,
    "num_classes": 3,
    "embedding_dim": 6,
    "units": 5,
    "num_layers": 1,
    "dropout": 0.3,
    "pooling": "max",
    "attention_units": 64,
    "heads": 1,
    "penalty": 0.0,
    "hidden_units": 64,
}


def tiny(**kwargs):
    return TextClassifier(**{**TINY, **kwargs})


@pytest.mark.parametrize("pooling, heads", [("max", 1), ("attention", 1), ("attention", 3)])
def test_padding_does_not_change_the_logits(pooling, heads):
    model = tiny(pooling=pooling, heads=heads)
    padded = np.concatenate([IDS, np.zeros((2, 4), "int64")], axis=1)
    np.testing.assert_allclose(to_numpy(model(IDS)), to_numpy(model(padded)), rtol=1e-5, atol=1e-6)


def test_attention_weights_skip_padding_and_sum_to_one():
    model = tiny(pooling="attention", heads=2)
    _, weights = model.classify(IDS)
    w = to_numpy(weights)
    assert w.shape == (2, 2, 5)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[0, :, 3:] == 0.0)


def test_empty_text_gives_finite_logits():
    for pooling in ("max", "attention"):
        logits = to_numpy(tiny(pooling=pooling)(np.zeros((1, 3), "int64")))
        assert np.all(np.isfinite(logits))


def test_structured_penalty_reaches_the_loss():
    model = tiny(pooling="attention", heads=3, penalty=1.0)
    model(IDS)
    assert len(model.losses) == 1 and float(to_numpy(model.losses[0])) > 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"pooling": "mean"}, "pooling"),
        ({"units": 0}, "units"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tiny(**kwargs)
