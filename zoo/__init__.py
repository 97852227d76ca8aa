"""lstm-zoo: LSTM networks with attention for Keras 3.

`import zoo` needs only keras and one backend: the layers, the models, the registry and the
decoding run on TensorFlow, JAX or PyTorch. Reading the registry (`list_models`, `spec`)
needs no backend at all; training, evaluation and export (which use TensorFlow's data and
SavedModel tools) import it when they are used.

>>> import zoo
>>> zoo.list_models("*_nmt")
['lstm_bahdanau_nmt', 'lstm_luong_fast_nmt', 'lstm_luong_nmt', 'lstm_nmt']
>>> model = zoo.get("lstm_luong_nmt", units=64)
>>> model.units
64
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.version import __version__

if TYPE_CHECKING:
    from zoo.registry import ModelSpec


def list_models(pattern: str = "*", task: str | None = None) -> list[str]:
    """Sorted registered names matching the shell-style `pattern` (and `task`, if given)."""
    from zoo import catalog

    return catalog.list_models(pattern, task=task)


def spec(name: str) -> ModelSpec:
    """The `ModelSpec` registered under `name`; unknown names raise, naming close matches."""
    from zoo import catalog

    return catalog.spec(name)


def get(name: str, **overrides: Any) -> Any:
    """Builds the `keras.Model` registered under `name`, `overrides` replacing its defaults."""
    from zoo import catalog

    return catalog.get(name, **overrides)


def register(name: str, **metadata: Any) -> Any:
    """Registers a model builder under `name` (a decorator); see `zoo.registry.register`."""
    from zoo import catalog

    return catalog.register(name, **metadata)


def train(name: str, data: str | None = None, **kwargs: Any) -> Path:
    """Trains and evaluates registered model `name`; see `zoo.training.train`.

    Returns the run directory."""
    from zoo.training import train as train_model

    return train_model(name, data, **kwargs)


def evaluate(
    run: str | Path, data: str | None = None, include_training_span: bool = False, **options: Any
) -> dict[str, Any]:
    """A finished run's test metrics, or its metrics on `data`; see `zoo.evaluation.evaluate`."""
    from zoo.evaluation import evaluate as evaluate_run

    return evaluate_run(run, data, include_training_span, **options)


def export(run_or_predictor: Any, root: str | Path = "saved_models", **kwargs: Any) -> Path:
    """Exports a training run (or a predictor) as a new TF Serving version under `root`.

    See `zoo.serving.export` for the arguments; it imports TensorFlow.
    """
    from zoo.serving import export as export_saved_model

    return export_saved_model(run_or_predictor, root, **kwargs)


__all__ = [
    "__version__",
    "evaluate",
    "export",
    "get",
    "list_models",
    "register",
    "spec",
    "train",
]
