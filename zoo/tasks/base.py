"""What a task tells the rest of the zoo: the `Task` base class, and the parts text tasks share.

A task is asked, never special-cased: `zoo.training` fits any registered model through its
task, `zoo.tuning` searches it, `zoo.serving` exports it, the CLI and the recipes print and
predict with it. A new task is a folder `zoo/tasks/<task>/` whose `task.py` subclasses `Task`,
fills in what it needs and ends with `TASK = MyTask()`; `zoo.tasks.TASK_NAMES` lists it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from zoo.runs import read_run_config
from zoo.tasks.settings import TaskSettings


class Task:
    """The task-specific half of training, evaluation, prediction and serving.

    Attributes:
        name: The task's registry name.
        declared: The task's training settings (`zoo.tasks.settings.TaskSettings`: defaults,
            choices, settings the data fixes...), declared where no TensorFlow is needed.
        objective: `(validation metric, "min" | "max")` that tuning optimizes.
        monitor: `(metric, "min" | "max")` for the best checkpoint and early stopping.
        predict_options: Options a predictor accepts (e.g. `beam_size`); others are refused.
        input_name: What one input is called in messages ("text", "file", ...).
        predictions_file: The file `score` writes the predictions to, beside the metrics.
    """

    name: str = ""
    declared: TaskSettings = TaskSettings(defaults={})
    objective: tuple[str, str] = ("val_loss", "min")
    monitor: tuple[str, str] = ("val_loss", "min")
    predict_options: tuple[str, ...] = ()
    input_name: str = "input"
    predictions_file: str = "test_predictions.tsv"

    @property
    def settings(self) -> Mapping[str, Any]:
        """The task's training settings and their defaults (`declared.defaults`)."""
        return self.declared.defaults

    # -- data ------------------------------------------------------------------------------

    def load_data(
        self,
        data: str,
        settings: Mapping[str, Any],
        validation: str | None = None,
        test: str | None = None,
    ) -> Any:
        """A dataset name or file as a corpus with `name`, `train`, `validation`, `test`.

        `settings` are the run's training settings (`split_seed`, and the task's own, such as
        a forecaster's window sizes). `validation` / `test`: the user's own held-out files,
        used instead of sets cut from `data` (a task that cannot take them raises)."""
        raise NotImplementedError

    def settings_from_data(self, corpus: Any) -> dict[str, Any]:
        """Training settings `corpus` decided (a forecaster's window sizes left at 0, the
        seasonal periods found): recorded in the run's config and printed."""
        return {}

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> Any:
        """Examples to score: a named dataset's test split, or the whole of a user's file."""
        raise NotImplementedError

    def examples(self, corpus: Any) -> list:
        """Raw validation inputs (JSON values), for warmup requests and demos."""
        raise NotImplementedError

    def demo_inputs(self, data: str | None) -> list:
        """Inputs a recipe shows predictions for after training on `data` (may be empty);
        `None`: inputs any model of the task takes."""
        return []

    # -- training --------------------------------------------------------------------------

    def fit_pipeline(self, corpus: Any, training: dict[str, Any]) -> Any:
        """The input pipeline (vocabularies, labels, scaling) fitted on `corpus.train`."""
        raise NotImplementedError

    def load_pipeline(self, run: Path) -> Any:
        """The pipeline saved in `run`; `FileNotFoundError` if it holds none."""
        raise NotImplementedError

    def model_sizes(self, pipeline: Any) -> dict[str, Any]:
        """Model arguments that follow from the data (vocabulary sizes, classes...)."""
        return {}

    def compile(self, model: keras.Model, training: dict[str, Any]) -> None:
        raise NotImplementedError

    def datasets(self, pipeline: Any, corpus: Any, training: dict[str, Any]) -> tuple:
        """`(training batches, validation batches)` for `Model.fit`."""
        raise NotImplementedError

    def initialize(
        self, model: keras.Model, pipeline: Any, corpus: Any, training: dict[str, Any]
    ) -> None:
        """Sets weights that start from the data before training (a resumed run's saved
        weights replace them). None by default."""

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, run: Path, model: keras.Model, pipeline: Any, corpus: Any, training: dict
    ) -> dict[str, Any]:
        """Test metrics of a trained model; also writes the run's test predictions
        (`predictions_file`) and attention plots."""
        predictor = self.predictor(model, pipeline, training)
        return self.score(predictor, corpus.test, run / self.predictions_file)

    def score(self, predictor: Any, examples: Any, predictions: Path | None = None) -> dict:
        """The task's metrics of `predictor` on `examples` (JSON-able, with `count`); with
        `predictions`, also writes every input, its reference and the prediction there."""
        raise NotImplementedError

    def format_metrics(self, metrics: dict[str, Any]) -> str:
        """A few readable lines of `score`'s result."""
        raise NotImplementedError

    # -- prediction ------------------------------------------------------------------------

    def predictor(self, model: keras.Model, pipeline: Any, options: Mapping[str, Any]) -> Any:
        """A predictor from a trained model; `options` may hold training settings too."""
        raise NotImplementedError

    def load_predictor(self, run: Path, **options: Any) -> Any:
        """The predictor of a finished run, with `options` (see `predict_options`)."""
        self.check_options(options)
        config = read_run_config(run)
        model = load_trained_model(run)
        pipeline = self.load_pipeline(Path(run))
        return self.predictor(model, pipeline, {**config["training"], **options})

    def exported_predictor(self, loaded: Any, about: dict[str, Any]) -> Any:
        """A predictor over a loaded SavedModel, answering like `predictor`'s."""
        raise NotImplementedError

    def check_options(self, options: Mapping[str, Any]) -> None:
        for key, value in options.items():
            if key not in self.predict_options:
                raise ValueError(f"`{key}` does not apply to {self.name} models.")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{key}` must be a positive integer, received {value!r}.")

    def check_inputs(self, inputs: Sequence[Any]) -> None:
        """Raises `ValueError` naming the first input the predictor cannot take."""

    def predict(self, predictor: Any, inputs: list) -> list[dict[str, Any]]:
        """One JSON-able row per input."""
        raise NotImplementedError

    def format_row(self, row: dict[str, Any]) -> str:
        """One line of `predict`'s output for people."""
        raise NotImplementedError

    def plot_attention(self, predictor: Any, item: Any, path: Path) -> Path | None:
        """Saves the attention of one input as a PNG; `None` for models without attention."""
        return None

    # -- serving ---------------------------------------------------------------------------

    def serving_archive(self, predictor: Any) -> keras.export.ExportArchive:
        """The SavedModel's content: the model, its tables and the serving signatures."""
        raise NotImplementedError

    def about(self, predictor: Any) -> dict[str, Any]:
        """What an export records about itself beyond model and task (labels, search...)."""
        return {}

    def warmup_inputs(self, examples: list) -> list[dict[str, Any]]:
        """`serving_default` inputs (name -> array-like) for TF Serving's warmup file."""
        raise NotImplementedError


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
    from zoo.models import load_keras_classes

    load_keras_classes()  # the classes model.keras names, e.g. Seq2Seq

    try:
        return keras.saving.load_model(model_path, compile=False)
    except (OSError, ValueError, TypeError, zipfile.BadZipFile) as error:
        reason = (str(error).splitlines() or [""])[0][:300]  # Keras appends whole configs
        raise ValueError(
            f"{model_path} cannot be loaded ({type(error).__name__}: {reason}): "
            f"{_why_unloadable(run_dir, model_path)} Or train the model again (`zoo train` with "
            f"the settings in {run_dir / 'config.json'})."
        ) from None


def _why_unloadable(run_dir: Path, model_path: Path) -> str:
    """Tells a file saved by other versions of Keras or lstm-zoo (TypeError: a class this
    installation does not have) from a damaged one, by the versions the run recorded."""
    from zoo.version import __version__ as zoo_version

    try:
        with zipfile.ZipFile(model_path) as archive:
            saved_keras = json.loads(archive.read("metadata.json"))["keras_version"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return "the file is damaged (cut short or overwritten)."
    try:
        saved_zoo = read_run_config(run_dir).get("zoo_version", "unknown")
    except (OSError, ValueError):
        saved_zoo = "unknown"
    if (saved_keras, saved_zoo) != (keras.__version__, zoo_version):
        return (
            f"it was saved by Keras {saved_keras} and lstm-zoo {saved_zoo}, and this is Keras "
            f"{keras.__version__} and lstm-zoo {zoo_version}: load it with the versions it was "
            "saved by."
        )
    return f"the file is damaged, or its classes differ from lstm-zoo {zoo_version}'s."


def compiles_steps(training: Mapping[str, Any]) -> bool:
    """Whether the training step is XLA-compiled: `jit_compile`, and always on JAX, whose
    Keras trainer runs an uncompiled step op by op (an epoch of `dates` took over 10 minutes
    instead of under one)."""
    return bool(training.get("jit_compile", False)) or keras.backend.backend() == "jax"


class TextTask(Task):
    """What text tasks share: text inputs, batches from the pipeline, Adam with clipping.

    Attributes:
        demo_texts: Inputs to show predictions for, by the dataset a model was trained on.
    """

    input_name = "text"
    demo_texts: Mapping[str, list[str]] = {}

    def demo_inputs(self, data: str | None) -> list[str]:
        if data is None:  # any model of the task: the first dataset's
            return next(iter(self.demo_texts.values()), [])
        return list(self.demo_texts.get(data, []))

    def datasets(self, pipeline: Any, corpus: Any, training: dict[str, Any]) -> tuple:
        """Shuffled training batches and validation batches of the pipeline's ids."""
        batch_size = training["batch_size"]
        return (
            pipeline.dataset(corpus.train, batch_size, shuffle=True, seed=training["seed"]),
            pipeline.dataset(corpus.validation, batch_size),
        )

    def compile_with(self, model: keras.Model, training: dict[str, Any], **kwargs: Any) -> None:
        model.compile(
            optimizer=keras.optimizers.Adam(
                training["learning_rate"], clipnorm=training["clipnorm"]
            ),
            **kwargs,
        )

    def examples(self, corpus: Any) -> list[str]:
        return [example[0] for example in corpus.validation]

    def check_inputs(self, inputs: Sequence[Any]) -> None:
        for i, text in enumerate(inputs):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"Text {i + 1} is empty: give a non-empty text to a {self.name} model, "
                    f"received {text!r}."
                )

    def warmup_inputs(self, examples: list) -> list[dict[str, Any]]:
        return [{"text": [text]} for text in examples]
