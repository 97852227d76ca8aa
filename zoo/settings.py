"""Training settings: their defaults for a model and dataset, and the checks of given values.

Plain Python over the registry and the tasks' declarations (`zoo/tasks/<task>/settings.py`): no
TensorFlow starts, so `zoo describe` answers at once and bad `--set` values fail before any
work.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from zoo.catalog import ModelSpec, as_spec
from zoo.tasks import task_settings

# Training settings every task has, and their defaults. A task adds its own and may change
# these (`zoo/tasks/<task>/settings.py`), an entry may change both (`ModelSpec.training`), and
# so may the data (`TaskSettings.by_data`); a `--hparams` JSON or `--set` changes any of them.
COMMON_SETTINGS: dict[str, Any] = {
    "epochs": 30,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "clipnorm": 1.0,
    "patience": 4,
    "seed": 0,  # initialization, dropout and batch order
    "split_seed": 0,  # the data: how a dataset is split (and generated, for `dates`)
    # Keras dtype policy of the model; softmaxes and losses stay float32 either way.
    "precision": "float32",
    # "cosine": the learning rate falls from `learning_rate` towards 0 over `epochs`.
    "lr_schedule": "constant",
    # Seconds of training after which the run finishes (0: no budget; `--time-budget 30m`).
    "time_budget": 0.0,
    # Fine-tuning (`--init-from`): layers (name prefixes) kept as the source run trained them.
    "freeze": [],
}
CHOICES = {
    "precision": ("float32", "mixed_bfloat16", "mixed_float16"),
    "lr_schedule": ("constant", "cosine"),
}


def training_defaults(model: ModelSpec | str, data: str | Path | None = None) -> dict[str, Any]:
    """The training settings `zoo train NAME --data DATA` uses when none is given."""
    spec = as_spec(model)
    declared = task_settings(spec.task)
    return {
        **COMMON_SETTINGS,
        **declared.defaults,
        **spec.training,
        **declared.for_data(str(data or spec.default_data)),
    }


def resolve_settings(
    model: ModelSpec | str, data: str | Path | None, settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(model arguments, complete training settings)` of `model` on `data`; unknown keys
    raise."""
    spec = as_spec(model)
    task = task_settings(spec.task)
    defaults = training_defaults(spec, data)
    unknown = sorted(set(settings) - set(spec.defaults) - set(defaults))
    if unknown:
        raise ValueError(
            f"Unknown hyperparameter(s) {unknown} for {spec.name!r}. Model arguments: "
            f"{sorted(set(spec.defaults) - set(task.sized_by_data))}; training settings: "
            f"{sorted(defaults)}."
        )
    fixed = sorted(set(settings) & set(task.sized_by_data))
    if fixed:
        raise ValueError(f"`{fixed[0]}` follows from the data; {task.sized_by_data[fixed[0]]}")
    model_args = {k: v for k, v in settings.items() if k in spec.defaults}
    choices = {**CHOICES, **task.choices}
    may_be_zero = MAY_BE_ZERO | task.may_be_zero
    given = {
        k: check_setting(k, v, defaults[k], choices.get(k), k in may_be_zero)
        for k, v in settings.items()
        if k in defaults
    }
    return model_args, {**defaults, **given}


# Settings that may be 0; every other integer setting must be >= 1 (tasks add their own).
MAY_BE_ZERO = frozenset({"seed", "split_seed", "patience", "attention_examples"})
POSITIVE_FLOATS = {"learning_rate", "clipnorm"}


def check_setting(
    key: str,
    value: Any,
    default: Any,
    choices: tuple | None = None,
    may_be_zero: bool | None = None,
) -> Any:
    """`value` as the type of `default`; a `ValueError` naming the setting if it cannot be.

    `choices`: the values allowed (of a list setting: its items; default: `CHOICES[key]`);
    `may_be_zero`: whether an integer setting may be 0 (default: whether `key` is in
    `MAY_BE_ZERO`).
    """
    choices = CHOICES.get(key) if choices is None else choices
    may_be_zero = key in MAY_BE_ZERO if may_be_zero is None else may_be_zero

    def fail(expected: str) -> ValueError:
        return ValueError(f"Training setting `{key}` must be {expected}, received {value!r}.")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if isinstance(default, int):
        minimum = 0 if may_be_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise fail(f"an integer >= {minimum}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        value = float(value)
        if not math.isfinite(value) or value < 0 or (key in POSITIVE_FLOATS and value == 0):
            raise fail("a finite number > 0" if key in POSITIVE_FLOATS else "a finite number >= 0")
        return value
    if isinstance(default, str) and not isinstance(value, str):
        raise fail("a string")
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail("a list of non-empty strings")
        if choices is not None and not set(value) <= set(choices):
            raise fail(f"a list of items from {list(choices)}")
        return list(value)
    if choices is not None and value not in choices:
        raise fail(f"one of {list(choices)}")
    return value


def load_hparams(path: str | Path) -> dict[str, Any]:
    """Reads a JSON object of hyperparameters (as `zoo tune` writes `best_hparams.json`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Hyperparameter file {path} does not exist.")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}.") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a JSON object of name: value pairs.")
    return values.get("hyperparameters", values)


__all__ = [
    "COMMON_SETTINGS",
    "check_setting",
    "load_hparams",
    "resolve_settings",
    "training_defaults",
]
