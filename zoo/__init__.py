"""lstm-zoo: LSTM networks with attention for Keras 3.

>>> import zoo
>>> zoo.list_models("*_nmt")
['lstm_bahdanau_nmt', 'lstm_luong_nmt', 'lstm_nmt']
>>> model = zoo.get("lstm_luong_nmt", units=64)
"""

__version__ = "0.1.0"

from zoo import models as _models  # noqa: F401  (registers the built-in entries)
from zoo.export import export
from zoo.registry import ModelSpec, get, list_models, register, spec

__all__ = ["ModelSpec", "__version__", "export", "get", "list_models", "register", "spec"]
