"""What a task declares about its training settings (`TaskSettings`).

Each task declares its own in `zoo/tasks/<task>/settings.py`, plain Python apart from the task's
TensorFlow modules, so that `zoo describe` and the checks of `--set` values need no backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class TaskSettings:
    """A task's training settings.

    Attributes:
        defaults: The task's settings and their defaults, beyond the ones every task has
            (`zoo.settings.COMMON_SETTINGS`, whose defaults it may change too).
        choices: Settings that take one of a few values, and those values.
        may_be_zero: Integer settings for which 0 is allowed (it means "none" or "off").
        sized_by_data: Model arguments the data fixes, each with what to set instead; setting
            one is refused rather than silently overridden.
        by_data: Defaults that depend on the dataset (a dataset name -> settings).
    """

    defaults: Mapping[str, Any]
    choices: Mapping[str, tuple] = field(default_factory=dict)
    may_be_zero: frozenset[str] = frozenset()
    sized_by_data: Mapping[str, str] = field(default_factory=dict)
    by_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def for_data(self, data: str) -> dict[str, Any]:
        return dict(self.by_data.get(data, {}))
