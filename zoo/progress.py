"""Progress that reaches any log: Keras draws its progress bar only on a terminal, and in a
file or a pipe prints one line per epoch, so an epoch of minutes looked like a hang.

`ProgressLines` prints, when output is not a terminal, an estimate of the epoch's and the
run's time after the first steps, then a line every `interval` seconds with the step, the rate,
the loss and the epoch's ETA.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

import keras


def duration(seconds: float) -> str:
    """`75` -> `"1 min 15 s"`, `4000` -> `"1 h 06 min"`."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressLines(keras.callbacks.Callback):
    """Progress lines for logs (see the module's docstring).

    Args:
        interval: Seconds between progress lines.
        estimate_after: Steps of the first epoch after which the time estimate is printed,
            from the rate of its second half (the first steps include compiling).
        clock: Seconds from a monotonic clock (a scripted one in tests).
        stream: Where the lines go.
    """

    def __init__(
        self,
        interval: float = 30.0,
        estimate_after: int = 20,
        clock: Callable[[], float] = time.monotonic,
        stream: TextIO | None = None,
    ):
        super().__init__()
        if interval <= 0 or estimate_after < 1:
            raise ValueError("`interval` must be > 0 and `estimate_after` >= 1.")
        self.interval = interval
        self.estimate_after = estimate_after
        self.clock = clock
        self.stream = stream
        self.estimated = False

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_start = self.last = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        done = batch + 1
        steps = self.params.get("steps")
        elapsed = max(now - self.epoch_start, 1e-9)
        rate = done / elapsed
        # The first steps compile the model: the estimate times the ones after them.
        if done == max(1, self.estimate_after // 2):
            self.warm = (now, done)
        if not self.estimated and done >= self.estimate_after and steps:
            self.estimated = True
            since, warm_done = getattr(self, "warm", (self.epoch_start, 0))
            steady = (done - warm_done) / max(now - since, 1e-9)
            epochs = self.params.get("epochs", 1) - self.epoch
            self._print(
                f"  estimate: {steps} steps an epoch at {steady:.2f} steps/s, about "
                f"{duration(steps / steady)} an epoch and {duration(epochs * steps / steady)} "
                f"for the {epochs} epoch(s) left (early stopping may end it sooner)"
            )
        if now - self.last < self.interval:
            return
        self.last = now
        loss = (logs or {}).get("loss")
        text = f"  epoch {self.epoch + 1}/{self.params.get('epochs', '?')}: step {done}"
        text += f"/{steps}" if steps else ""
        text += f", {rate:.2f} steps/s"
        text += f", loss {float(loss):.4f}" if loss is not None else ""
        if steps:
            text += f", epoch ETA {duration((steps - done) / rate)}"
        self._print(text)
