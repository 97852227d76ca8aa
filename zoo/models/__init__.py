"""Model families: one Keras module per family, and the registered entries of each
(`zoo/models/entries/<family>.py`, plain Python).

Importing `zoo.models` registers every entry and imports no Keras: the family modules load
when a model is first built, or when a class is named here (`zoo.models.Seq2Seq`).
`load_keras_classes()` imports them all, so that a `.keras` file naming one loads.
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo.models.entries import classifier, forecaster, seq2seq, speech  # noqa: F401  (registers)

# The families, explicitly (no folder scan): a new family adds its module here and an entries
# module above.
FAMILIES = {
    "Seq2Seq": "zoo.models.seq2seq",
    "TextClassifier": "zoo.models.classifier",
    "Forecaster": "zoo.models.forecaster",
    "CTCRecognizer": "zoo.models.speech",
    "ListenAttendSpell": "zoo.models.speech",
}


def load_keras_classes() -> None:
    """Imports every family module, registering its Keras-serializable classes."""
    for module in dict.fromkeys(FAMILIES.values()):
        importlib.import_module(module)


def __getattr__(name: str) -> Any:
    if name in FAMILIES:
        return getattr(importlib.import_module(FAMILIES[name]), name)
    raise AttributeError(f"module 'zoo.models' has no attribute {name!r}")


__all__ = [*FAMILIES, "load_keras_classes"]
