"""The model registry: named, documented builders of ready-made models.

Entries are added with the `@register(...)` decorator at the end of each family module
(`zoo/models/*.py`), in the style of timm's `@register_model`: the decorated function builds
the model from keyword arguments, and the decorator records the spec's metadata and defaults.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import keras

TASKS = ("translation", "classification", "forecasting", "speech")

_REGISTRY: dict[str, ModelSpec] = {}


@dataclass(frozen=True)
class ModelSpec:
    """What the zoo knows about one registered model.

    Attributes:
        name: Registry name, `{backbone}_{attention}_{task}`.
        task: One of `TASKS`.
        attention: The attention it uses, `"none"` for a baseline.
        twin: The no-attention baseline it is compared with (`None` for baselines).
        paper: The reference the architecture follows.
        default_data: The dataset its recipe trains on.
        builder: The function that builds the model from keyword arguments.
        defaults: The default keyword arguments (read-only).
        search_space: `f(hp) -> settings`: draws model arguments and training settings from a
            `keras_tuner.HyperParameters`, each defaulting to the spec's default, so an
            empty `HyperParameters()` gives the default model (see `zoo.tuning`).
        description: One line for tables and `zoo describe`.
    """

    name: str
    task: str
    attention: str
    twin: str | None
    paper: str
    default_data: str
    builder: Callable[..., keras.Model] = field(repr=False)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    search_space: Callable[[Any], dict[str, Any]] | None = field(default=None, repr=False)
    description: str = ""

    @property
    def recipe(self) -> str:
        """Path of the runnable recipe, relative to the repository root."""
        return f"recipes/{self.name}.py"

    def build(self, **overrides: Any) -> keras.Model:
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"Unknown argument(s) {unknown} for model {self.name!r}. "
                f"Valid arguments: {sorted(self.defaults)}."
            )
        return self.builder(**{**self.defaults, **overrides})


def register(
    name: str,
    *,
    task: str,
    attention: str,
    default_data: str,
    defaults: Mapping[str, Any],
    twin: str | None = None,
    paper: str = "",
    search_space: Callable[[Any], dict[str, Any]] | None = None,
    description: str = "",
) -> Callable[[Callable[..., keras.Model]], Callable[..., keras.Model]]:
    """Registers a model builder under `name`. Duplicate names raise `ValueError`."""
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}, received task={task!r}.")

    def decorator(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        if name in _REGISTRY:
            raise ValueError(f"A model named {name!r} is already registered.")
        _REGISTRY[name] = ModelSpec(
            name=name,
            task=task,
            attention=attention,
            twin=twin,
            paper=paper,
            default_data=default_data,
            builder=builder,
            defaults=MappingProxyType(dict(defaults)),
            search_space=search_space,
            description=description or (builder.__doc__ or "").strip().split("\n")[0],
        )
        return builder

    return decorator


def spec(name: str) -> ModelSpec:
    """The `ModelSpec` registered under `name`; unknown names raise, naming close matches."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        close += [n for n in _REGISTRY if isinstance(name, str) and name in n and n not in close]
        hint = f" Did you mean {', '.join(repr(c) for c in close[:3])}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} `zoo.list_models()` (or `zoo list`) lists them all."
        )
    return _REGISTRY[name]


def get(name: str, **overrides: Any) -> keras.Model:
    """Builds the model registered under `name`, with `overrides` replacing its defaults."""
    return spec(name).build(**overrides)


def list_models(pattern: str = "*", task: str | None = None) -> list[str]:
    """Sorted registered names matching the shell-style `pattern` (and `task`, if given)."""
    if task is not None and task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}, received task={task!r}.")
    return sorted(
        name
        for name, entry in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and (task is None or entry.task == task)
    )
