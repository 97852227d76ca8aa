"""The registry with the zoo's own entries in it: where `zoo.get`, `zoo.spec`, the commands
and the recipes look names up.

`zoo.registry` is a leaf that holds whatever was registered; importing `zoo.models` registers
the built-in families' entries (plain Python: no Keras starts until a model is built).
"""

from __future__ import annotations

from zoo import models  # noqa: F401  (registers the built-in entries)
from zoo.registry import ModelSpec, get, list_models, register, spec


def as_spec(model: ModelSpec | str) -> ModelSpec:
    """`model` itself, or the spec registered under the name `model`.

    Commands resolve a name once, here, and hand the `ModelSpec` on."""
    return model if isinstance(model, ModelSpec) else spec(model)


__all__ = ["ModelSpec", "as_spec", "get", "list_models", "register", "spec"]
