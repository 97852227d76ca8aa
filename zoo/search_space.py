"""Search spaces declared as data: which values a setting may take, not what its default is.

A registered entry declares `search_space={"units": Choice([64, 128, 256]), ...}`; the default
of every searched setting is the entry's own default (model argument or training setting), so
`keras_tuner.HyperParameters()` with nothing drawn gives exactly the default model. Nothing
here imports keras-tuner: `draw` receives the `HyperParameters` object.

>>> space = {"units": Choice([64, 128]), "dropout": Float(0.0, 0.4, step=0.1)}
>>> check_space(space, {"units": 128, "dropout": 0.1}, "my_model")
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    """One of `values`."""

    values: Sequence[Any]

    def draw(self, hp: Any, name: str, default: Any) -> Any:
        return hp.Choice(name, list(self.values), default=default)

    def allows(self, value: Any) -> bool:
        return value in self.values


@dataclass(frozen=True)
class Int:
    """An integer in `[low, high]`."""

    low: int
    high: int
    step: int = 1

    def draw(self, hp: Any, name: str, default: Any) -> Any:
        return hp.Int(name, self.low, self.high, step=self.step, default=default)

    def allows(self, value: Any) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True)
class Float:
    """A float in `[low, high]`, on a `step` grid or sampled on a log scale."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def draw(self, hp: Any, name: str, default: Any) -> Any:
        sampling = "log" if self.log else "linear"
        return hp.Float(
            name, self.low, self.high, step=self.step, sampling=sampling, default=default
        )

    def allows(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high + 1e-12


Parameter = Choice | Int | Float


def draw(hp: Any, space: Mapping[str, Parameter], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of one trial: each parameter of `space` drawn from `hp`."""
    return {name: parameter.draw(hp, name, defaults[name]) for name, parameter in space.items()}


def check_space(space: Mapping[str, Parameter], defaults: Mapping[str, Any], model: str) -> None:
    """Raises `ValueError` unless every searched setting has a default the space allows."""
    for name, parameter in space.items():
        if name not in defaults:
            raise ValueError(f"The search space of {model!r} names {name!r}, which has no default.")
        value = defaults[name]
        if isinstance(value, float) and not math.isfinite(value) or not parameter.allows(value):
            raise ValueError(
                f"The default {name}={value!r} of {model!r} lies outside its search space "
                f"{parameter}."
            )
