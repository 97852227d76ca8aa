"""Evaluating a finished run: the test metrics it recorded, or its metrics on other data.

`zoo.evaluate(run)` is what `zoo evaluate RUN` prints and what the recipes report after
training; with `data` (or search options such as `beam_size`) the run's model is scored
again and the result is kept under `RUN/evaluations/<data>/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.runs import read_json, read_run_config, write_atomically
from zoo.tasks import get_task


def evaluate(
    run: str | Path,
    data: str | None = None,
    include_training_span: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Test metrics of a finished training run.

    Args:
        run: A run directory written by `zoo.train`.
        data: A dataset name (scored on its test split) or a file of the user's (scored
            whole; a forecaster scores a file of its own series only after the part it trained
            and validated on). `None`: the run's own test metrics, unless `options` are
            given, then the run's test split again.
        include_training_span: Forecasting: score the part of its own series a run trained
            and validated on too.
        **options: Predictor options of the run's task, e.g. `beam_size=1` for translation.

    Returns:
        The metrics (JSON-able; `count` examples scored). A new evaluation also writes them,
        with every prediction, to `run/evaluations/<data>/`.
    """
    run = Path(run)
    if data is None and not options and not include_training_span:
        return finished_metrics(run)
    config = read_run_config(run)
    task = get_task(config["task"])
    if include_training_span and task.name != "forecasting":
        raise ValueError(
            "--include-training-span is for forecasters (a series split by time); a "
            f"{task.name} run keeps its test set apart from training already."
        )
    predictor = task.load_predictor(run, **options)
    data = data or config["data"]
    training = {"split_seed": config["training"]["seed"], **config["training"]}
    training["include_training_span"] = include_training_span
    training["trained_on"] = config["data"]  # e.g. which half of a corpus split by text
    examples = task.load_test_set(data, training)
    out = run / "evaluations" / (Path(data).stem or "data")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"Cannot write {out}: {error.strerror}.") from None
    metrics = task.score(predictor, examples, out / task.predictions_file)
    metrics.update({"data": str(data), **options})
    write_atomically(out / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False))
    metrics["written_to"] = str(out)
    return metrics


def finished_metrics(run: str | Path) -> dict[str, Any]:
    """The test metrics a finished run recorded (`metrics.json`)."""
    path = Path(run) / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: the run has not finished (rerun its `zoo train` command)."
        )
    return read_json(path)


def format_metrics(run: str | Path, metrics: dict[str, Any]) -> str:
    """A few readable lines of a run's metrics, as its task writes them."""
    return get_task(read_run_config(run)["task"]).format_metrics(metrics)
