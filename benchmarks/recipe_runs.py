"""A recipe trained as users run it (`python recipes/<model>.py --new`), in a subprocess: its
test metrics and the training speed `zoo train` printed. Shared by the studies that compare
one setting of a whole recipe against another (precision, backend, seeds)."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from timing import machine

ROOT = Path(__file__).parents[1]
# Keras' progress line for an epoch: "... - 41ms/step - loss: ..."
STEP_TIME = re.compile(r" - (\d+(?:\.\d+)?)(ms|s)/step")


class RecipeRun:
    """`python recipes/<name>.py --seed S --new` started in its own runs folder, optionally
    with hyperparameters (`--hparams`), extra environment (`KERAS_BACKEND`) and pinned to one
    CPU core (so that two runs side by side do not take each other's core)."""

    def __init__(
        self,
        name: str,
        runs_root: Path,
        *,
        seed: int = 0,
        hparams: dict | None = None,
        env: dict[str, str] | None = None,
        core: int | None = None,
    ) -> None:
        self.name = name
        self.runs_root = Path(runs_root)
        self.runs_root.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--seed", str(seed),
                   "--new", "--runs-root", str(self.runs_root)]  # fmt: skip
        if hparams:
            path = self.runs_root / "hparams.json"
            path.write_text(json.dumps(hparams))
            command += ["--hparams", str(path)]
        pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, preexec_fn=pin,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        # Read and timed as it ends, not when `result` is called: side by side, one run is
        # waited for while the other is already done.
        self._output: list[str] = []
        self._waiter = threading.Thread(target=self._wait, args=(started,), daemon=True)
        self._waiter.start()

    def _wait(self, started: float) -> None:
        self._output.append(self.process.communicate()[0])
        self.seconds = time.perf_counter() - started

    def result(self) -> dict:
        """Waits for the recipe; its metrics.json, the median ms/step over the epochs after the
        first (which also traces or compiles), every epoch's, and the recipe's seconds."""
        self._waiter.join()
        out = self._output[0]
        if self.process.returncode:
            raise RuntimeError(f"{self.name} failed ({self.process.returncode}):\n{out[-3000:]}")
        steps = [float(v) * (1.0 if unit == "ms" else 1000.0) for v, unit in STEP_TIME.findall(out)]
        if len(steps) < 2:
            raise RuntimeError(f"{self.name} printed fewer than two epochs:\n{out[-3000:]}")
        run = max((self.runs_root / self.name).iterdir())  # the newest run
        return {
            "ms_per_step": statistics.median(steps[1:]),
            "first_epoch_ms_per_step": steps[0],
            "epoch_ms_per_step": steps,
            "epochs": len(steps),
            "recipe_seconds": self.seconds,
            "metrics": json.loads((run / "metrics.json").read_text()),
        }


def run_study(out: Path, names: list[str], measure: Callable[[str, Path], dict]) -> dict:
    """`measure(name, scratch folder)` for each model, merged into the JSON report at `out`
    (written after each model, so a long study keeps what it finished); returns the report."""
    report = json.loads(out.read_text()) if out.is_file() else {}
    report["machine"] = machine()
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            report[name] = measure(name, Path(scratch) / name)
            out.write_text(json.dumps(report, indent=2) + "\n")
            print(f"{name} done", file=sys.stderr, flush=True)
    return report
