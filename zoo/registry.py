"""The model registry: named, documented builders of ready-made models.

Entries are added with the `@register(...)` decorator at the end of each family module
(`zoo/models/*.py`), in the style of timm's `@register_model`. The entry's `defaults` are the
one source of truth: `zoo.get(NAME)`, calling the decorated builder itself, `zoo train NAME`
and the tuner's default point all build the same model.

>>> import zoo
>>> spec = zoo.spec("lstm_nmt")
>>> spec.task, spec.twin
('translation', None)
>>> from zoo.models.seq2seq import lstm_nmt
>>> lstm_nmt().get_config() == zoo.get("lstm_nmt").get_config()
True
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import keras

from zoo.search_space import Parameter, check_space
from zoo.tasks import TASK_NAMES

_REGISTRY: dict[str, ModelSpec] = {}


@dataclass(frozen=True)
class ModelSpec:
    """What the zoo knows about one registered model.

    Attributes:
        name: Registry name, `{backbone}_{attention}_{task}`.
        task: The task it serves (see `zoo.tasks.TASK_NAMES`).
        attention: The attention it uses, `"none"` for a baseline.
        twin: The no-attention baseline it is compared with (`None` for baselines).
        paper: The reference the architecture follows.
        default_data: The dataset its recipe trains on.
        builder: The function that builds the model from keyword arguments.
        defaults: The default model arguments (read-only).
        training: Training settings this entry sets differently from its task's defaults
            (read-only), e.g. a learning rate.
        search_space: `{setting: Choice | Int | Float}` over model arguments and training
            settings (`zoo.search_space`); each searched setting defaults to its default here.
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
    training: Mapping[str, Any] = field(default_factory=dict)
    search_space: Mapping[str, Parameter] = field(default_factory=dict, repr=False)
    description: str = ""

    @property
    def recipe(self) -> str:
        """Path of the runnable recipe, relative to the repository root."""
        return f"recipes/{self.name}.py"

    def build(self, **overrides: Any) -> keras.Model:
        """The model with `overrides` replacing the defaults; unknown keys raise."""
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
    training: Mapping[str, Any] | None = None,
    twin: str | None = None,
    paper: str = "",
    search_space: Mapping[str, Parameter] | None = None,
    description: str = "",
) -> Callable[[Callable[..., keras.Model]], Callable[..., keras.Model]]:
    """Registers a model builder under `name`. Duplicate names raise `ValueError`.

    Returns a decorator whose result builds the registered model: calling it with no
    arguments gives `zoo.get(name)`, keyword arguments override the defaults.
    """
    if task not in TASK_NAMES:
        raise ValueError(f"`task` must be one of {TASK_NAMES}, received task={task!r}.")
    training = dict(training or {})
    search_space = dict(search_space or {})
    # Settings the task supplies are checked against the space where the task is loaded
    # (`zoo.tuning`); the ones stated here are checked now.
    stated = {**training, **defaults}
    check_space({k: v for k, v in search_space.items() if k in stated}, stated, name)

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
            training=MappingProxyType(training),
            search_space=MappingProxyType(search_space),
            description=description or (builder.__doc__ or "").strip().split("\n")[0],
        )

        @functools.wraps(builder)
        def build(**overrides: Any) -> keras.Model:
            return _REGISTRY[name].build(**overrides)

        return build

    return decorator


def _with_builtin_entries() -> dict[str, ModelSpec]:
    """The registry, after the zoo's own families have registered their entries."""
    import zoo.models  # noqa: F401  (explicit imports of each family; idempotent)

    return _REGISTRY


def spec(name: str) -> ModelSpec:
    """The `ModelSpec` registered under `name`; unknown names raise, naming close matches."""
    if name not in _with_builtin_entries():
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
    if task is not None and task not in TASK_NAMES:
        raise ValueError(f"`task` must be one of {TASK_NAMES}, received task={task!r}.")
    return sorted(
        name
        for name, entry in _with_builtin_entries().items()
        if fnmatch.fnmatchcase(name, pattern) and (task is None or entry.task == task)
    )
