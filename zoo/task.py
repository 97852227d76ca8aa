"""What the training loop, tuning and export need to know about a task.

Each task (`zoo.translation.TranslationTask`, `zoo.classification.ClassificationTask`) says
how its data loads, how text becomes ids (its pipeline), how its models compile, and how a
trained model is evaluated; `zoo.training` runs the rest the same way for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import keras


class Task(Protocol):
    settings: dict[str, Any]  # the task's own defaults for training settings
    objective: str  # validation metric that tuning maximizes
    monitor: tuple[str, str]  # (metric, "min" | "max") for checkpoints and early stopping

    def default_settings(self, data: str) -> dict[str, Any]: ...
    def load_data(self, data: str, seed: int) -> Any: ...
    def fit_pipeline(self, corpus: Any, training: dict[str, Any]) -> Any: ...
    def load_pipeline(self, run: Path) -> Any: ...
    def model_sizes(self, pipeline: Any) -> dict[str, int]: ...
    def compile(self, model: keras.Model, training: dict[str, Any]) -> None: ...
    def datasets(self, pipeline: Any, corpus: Any, training: dict[str, Any]) -> tuple: ...
    def examples(self, corpus: Any) -> list[str]: ...
    def evaluate(
        self, run: Path, model: keras.Model, pipeline: Any, corpus: Any, training: dict
    ) -> dict[str, Any]: ...


class TextTask:
    """The parts text tasks share: data splits to batches, Adam with clipping, a loss on logits."""

    settings: dict[str, Any] = {}
    monitor = ("val_loss", "min")

    def default_settings(self, data: str) -> dict[str, Any]:
        return {}

    def datasets(self, pipeline: Any, corpus: Any, training: dict[str, Any]) -> tuple:
        """Shuffled training batches and validation batches of the pipeline's ids."""
        batch_size = training["batch_size"]
        return (
            pipeline.dataset(corpus.train, batch_size, shuffle=True, seed=training["seed"]),
            pipeline.dataset(corpus.validation, batch_size),
        )

    def compile_with(self, model: keras.Model, training: dict[str, Any], **metrics: Any) -> None:
        model.compile(
            optimizer=keras.optimizers.Adam(
                training["learning_rate"], clipnorm=training["clipnorm"]
            ),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            **metrics,
        )


def load_trained_model(run_dir: str | Path) -> keras.Model:
    """The `model.keras` of a finished training run, with errors that say what to do."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(
            f"Run directory {run_dir} does not exist; `zoo train NAME` creates one under "
            "runs/NAME/."
        )
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no trained model (model.keras); the run has not finished. "
            "Rerun its `zoo train` command to resume it."
        )
    return keras.saving.load_model(model_path, compile=False)
