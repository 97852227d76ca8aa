"""The model registry: named, documented builders of ready-made models.

Entries are added with the `@register(...)` decorator, in the style of timm's
`@register_model`; the zoo's own are in `zoo/models/entries/<family>.py`, which
`import zoo.models` registers. The entry's `defaults` are the one source of truth:
`zoo.get(NAME)`, calling the decorated builder itself, `zoo train NAME` and the tuner's default
point all build the same model.

A leaf: it imports neither Keras nor any other part of the zoo but `zoo.search_space`, so its
metadata (names, task, paper, twin, defaults, search space) is read without a backend. Look
names up through `zoo.spec` / `zoo.get` / `zoo.list_models` (or `zoo.catalog`), which load
the built-in entries first.

>>> import zoo
>>> spec = zoo.spec("lstm_nmt")
>>> spec.task, spec.twin
('translation', None)
>>> from zoo.models.entries.seq2seq import lstm_nmt
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

from zoo.search_space import Parameter, check_space

_REGISTRY: dict[str, ModelSpec] = {}


@dataclass(frozen=True)
class ModelSpec:
    """What the zoo knows about one registered model.

    Attributes:
        name: Registry name, `{backbone}_{attention}_{task}`.
        task: The task it serves (one of `zoo.tasks.TASK_NAMES`).
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
    builder: Callable[..., Any] = field(repr=False)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    search_space: Mapping[str, Parameter] = field(default_factory=dict, repr=False)
    description: str = ""

    @property
    def recipe(self) -> str:
        """Path of the runnable recipe, relative to the repository root."""
        return f"recipes/{self.name}.py"

    def build(self, **overrides: Any) -> Any:
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
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a model builder under `name`. Duplicate names raise `ValueError`.

    Returns a decorator whose result builds the registered model: calling it with no
    arguments gives `zoo.get(name)`, keyword arguments override the defaults.
    """
    if not isinstance(task, str) or not task:
        raise ValueError(f"`task` must name a task, received task={task!r}.")
    training = dict(training or {})
    search_space = dict(search_space or {})
    # Settings the task supplies are checked against the space where the task is loaded
    # (`zoo.tuning`); the ones stated here are checked now.
    stated = {**training, **defaults}
    check_space({k: v for k, v in search_space.items() if k in stated}, stated, name)

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
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
        def build(**overrides: Any) -> Any:
            return _REGISTRY[name].build(**overrides)

        return build

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


def get(name: str, **overrides: Any) -> Any:
    """Builds the model registered under `name`, with `overrides` replacing its defaults."""
    return spec(name).build(**overrides)


def list_models(pattern: str = "*", task: str | None = None) -> list[str]:
    """Sorted registered names matching the shell-style `pattern` (and `task`, if given)."""
    tasks = sorted({entry.task for entry in _REGISTRY.values()})
    if task is not None and task not in tasks:
        raise ValueError(f"`task` must be one of {tasks}, received task={task!r}.")
    return sorted(
        name
        for name, entry in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and (task is None or entry.task == task)
    )
