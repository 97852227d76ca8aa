"""lstm-zoo: LSTM networks with attention for Keras 3.

`import zoo` needs only keras and one backend: the layers, the models, the registry and the
decoding run on TensorFlow, JAX or PyTorch. Training, tuning and export (which use
TensorFlow's data and SavedModel tools) import it when they are used.

>>> import zoo
>>> zoo.list_models("*_nmt")
['lstm_bahdanau_nmt', 'lstm_luong_fast_nmt', 'lstm_luong_nmt', 'lstm_nmt']
>>> model = zoo.get("lstm_luong_nmt", units=64)
>>> model.units
64
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"

_REGISTRY_API = ("ModelSpec", "get", "list_models", "register", "spec")


def __getattr__(name: str) -> Any:
    # The registry (and the Keras import it needs) loads on first use, so `zoo --help` and
    # `import zoo.cli` start at once.
    if name in _REGISTRY_API:
        from zoo import models, registry  # noqa: F401  (importing models registers the entries)

        return getattr(registry, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def export(run_or_predictor: Any, root: str | Path = "saved_models", **kwargs: Any) -> Path:
    """Exports a training run (or a predictor) as a new TF Serving version under `root`.

    See `zoo.serving.export` for the arguments; it imports TensorFlow.
    """
    from zoo.serving import export as export_saved_model

    return export_saved_model(run_or_predictor, root, **kwargs)


__all__ = ["ModelSpec", "__version__", "export", "get", "list_models", "register", "spec"]
