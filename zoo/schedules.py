"""How long and how fast a run trains: its learning-rate schedule and its time budget.

`lr_schedule="cosine"` decays the learning rate by epoch (`CosineDecay`). A time budget
(`zoo train NAME --time-budget 30m`) is kept by `TimeBudget`.

`TimeBudget` stops training once the budget is spent (after the step in progress; Keras then
validates that epoch, and the run finishes as any other: best weights, `model.keras`, the
evaluation, `metrics.json`). After the first epoch it knows what an epoch costs, and fits a
cosine learning-rate schedule to the epochs the budget allows, so the rate has decayed when
the time is up rather than being cut off high.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

import keras

# The clock the budget is measured on; tests replace it with a scripted one.
clock: Callable[[], float] = time.monotonic

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """`"90s"`, `"30m"`, `"1.5h"` (or a number of seconds) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*", str(text).lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(
            f"Cannot read the time budget {text!r}: give a positive duration such as 90s, 30m "
            "or 1.5h."
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


class TimeBudget(keras.callbacks.Callback):
    """Stops training when `seconds` have passed since this `fit` began.

    Args:
        seconds: The budget.
        schedule: A schedule with a settable `epochs` (the run's cosine decay), fitted to the
            epochs the budget allows once the first epoch's cost is known; or `None`.
    """

    def __init__(self, seconds: float, schedule: Any = None):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"The time budget must be > 0 seconds, received {seconds!r}.")
        self.seconds = seconds
        self.schedule = schedule
        self.spent = False

    def on_train_begin(self, logs=None):
        self.start = clock()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start, self.first_epoch = clock(), getattr(self, "first_epoch", epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.schedule is None or epoch != self.first_epoch or self.spent:
            return
        cost = max(clock() - self.epoch_start, 1e-9)
        left = self.seconds - (clock() - self.start)
        affordable = epoch + 1 + max(0, math.floor(left / cost))
        if affordable < self.schedule.epochs:
            self.schedule.epochs = affordable
            print(
                f"Time budget: an epoch takes about {cost:.0f} s, so about {affordable} epoch(s) "
                "fit; the learning rate's cosine decay now ends there."
            )

    def on_train_batch_end(self, batch, logs=None):
        if not self.spent and clock() - self.start >= self.seconds:
            self.spent = True
            self.model.stop_training = True
            print(
                f"Time budget of {self.seconds:.0f} s spent (epoch {self.first_epoch + 1} on, "
                f"step {batch + 1} of this epoch): finishing the run with its best weights."
            )


def cosine_learning_rate(base: float, epoch: int, epochs: int) -> float:
    """Cosine decay by epoch (Loshchilov & Hutter 2017, without restarts): `base` in the first
    epoch, falling towards 0 after the last of `epochs`."""
    return base * 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs))


class CosineDecay:
    """`cosine_learning_rate` as a Keras `LearningRateScheduler` schedule whose length a time
    budget may shorten (`epochs` is settable)."""

    def __init__(self, base: float, epochs: int):
        self.base, self.epochs = base, epochs

    def __call__(self, epoch: int, rate: float) -> float:
        return cosine_learning_rate(self.base, epoch, self.epochs)


def learning_rate_callbacks(training: dict, epochs: int) -> list[keras.callbacks.Callback]:
    """The `lr_schedule` setting as Keras callbacks (none for a constant rate), and the time
    budget's. The rate follows the epoch index, which a resumed run restores, so resuming keeps
    the schedule."""
    schedule = None
    if training["lr_schedule"] != "constant":
        schedule = CosineDecay(training["learning_rate"], epochs)
    budget = training.get("time_budget", 0.0)
    return [
        *([keras.callbacks.LearningRateScheduler(schedule)] if schedule else []),
        *([TimeBudget(budget, schedule)] if budget else []),
    ]
