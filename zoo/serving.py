"""Export to TF Serving: versioned SavedModels that take raw inputs and return predictions.

    saved_models/
      models.config                      ModelServerConfig listing every exported model
      lstm_luong_nmt/
        1/                               one SavedModel per version, never overwritten
          saved_model.pb, variables/, assets/
          assets.extra/tf_serving_warmup_requests
          assets.extra/zoo.json          model, task, and what the task records (labels...)

The signatures are the task's (`Task.serving_archive`: `zoo.tasks.translation`,
`zoo.tasks.classification`); tokenization and decoding run inside the graph, so loading needs
only `tensorflow` and `tensorflow_text`. This module does what is the same for every task:
versions, atomic writes, `models.config`, warmup requests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.runs import read_json, read_run_config
from zoo.tasks import get_task
from zoo.tasks.base import Task

MODELS_CONFIG = "models.config"
WARMUP_FILE = "tf_serving_warmup_requests"
ABOUT_FILE = "zoo.json"
EXAMPLES_FILE = "examples.json"


def export(
    run_or_predictor: Any,
    root: str | Path = "saved_models",
    version: int | None = None,
    name: str | None = None,
    warmup: Sequence[Any] | None = None,
    **options: Any,
) -> Path:
    """Writes a new SavedModel version for TF Serving and returns its directory.

    Args:
        run_or_predictor: A training run directory, or a task's predictor (e.g. a
            `zoo.tasks.translation.Translator`: what `Task.predictor` returns).
        root: The model repository (`saved_models/` by default).
        version: The version number; default the next integer. An existing one is an error.
        name: The served model name (default: the registry name).
        warmup: Raw inputs recorded in `assets.extra` so the server warms up on load
            (default: the run's validation examples, else the task's demo inputs).
        **options: Predictor options of the task (e.g. `beam_size=1` for translation;
            default: the run's).
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "A TF Serving export is a TensorFlow SavedModel, traced on the TensorFlow backend; "
            f"this is {keras.backend.backend()!r}. Export with KERAS_BACKEND=tensorflow (a run "
            "trained on JAX exports from its model.keras as it is)."
        )
    # The task comes from the run's config or from the predictor's own kind, never from the
    # Keras model's name (which a user may have chosen).
    if isinstance(run_or_predictor, (str, os.PathLike)):
        run = Path(run_or_predictor)
        config = read_run_config(run)
        task = get_task(config.get("task", ""))
        predictor = task.load_predictor(run, **options)
        warmup = warmup or _examples(run) or task.demo_inputs(config.get("data"))
    else:
        predictor = run_or_predictor
        if not hasattr(predictor, "task_name"):
            raise ValueError(
                "zoo.export takes a run directory or a task's predictor (a Translator, "
                f"Classifier, ForecastPredictor or SpeechRecognizer), received {predictor!r}."
            )
        task = get_task(predictor.task_name)
        if options:
            task.check_options(options)
            predictor = task.predictor(predictor.model, predictor.pipeline, options)
        warmup = warmup or task.demo_inputs(None)
    model = predictor.model
    if not warmup:
        raise ValueError("Give `warmup` inputs: TF Serving warms the model up with them.")
    name = check_name(name or model.name)
    bad_version = isinstance(version, bool) or not isinstance(version, int) or version < 1
    if version is not None and bad_version:
        raise ValueError(f"`version` must be a positive integer, received {version!r}.")
    root = Path(root)
    model_dir = root / name
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(model_dir)
        staging = Path(model_dir / f".staging-{os.getpid()}-{uuid.uuid4().hex}")
        staging.mkdir()
    except OSError as error:
        raise OSError(
            f"Cannot write to the export root {root}: {error.strerror}. Pass a writable --root."
        ) from None
    try:
        if version is not None:
            _check_free(model_dir / str(version))
        with _portable_lstms(model):
            task.serving_archive(predictor).write_out(str(staging), verbose=False)
        write_warmup_requests(staging, name, task.warmup_inputs(list(warmup)))
        about = {"model": model.name, "task": task.name, **task.about(predictor)}
        (staging / "assets.extra" / ABOUT_FILE).write_text(json.dumps(about, indent=2))
        target = _move_into_place(staging, model_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_models_config(root)
    return target


def check_name(name: str) -> str:
    """A served model name: letters, digits, `_` and `-` (a folder and a models.config entry)."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise ValueError(
            f"Model name {name!r} cannot be served: use letters, digits, '_' and '-' only "
            "(it names a folder under the export root and an entry of models.config)."
        )
    return name


def _check_free(target: Path) -> None:
    if target.is_dir():
        raise FileExistsError(
            f"{target} already exists; versions are never overwritten. "
            "Omit --version to take the next one."
        )
    if target.exists():
        raise FileExistsError(
            f"{target} is a file, not a SavedModel version, and stands where the version would "
            "go; move it away or choose another --version."
        )


def _move_into_place(staging: Path, model_dir: Path, version: int | None) -> Path:
    """Renames the staged export to its version folder; with no version asked for, takes the
    next free one, also when another export takes a number at the same time."""
    while True:
        number = version or max(_taken(model_dir), default=0) + 1
        target = model_dir / str(number)
        if version is not None:
            _check_free(target)
        try:
            os.rename(staging, target)  # atomic on one filesystem; fails if target is not empty
            return target
        except OSError:
            if version is not None or not target.exists():
                raise
            # Another export took this number first: take the next one.


def _taken(model_dir: Path) -> list[int]:
    """Version numbers in use, including files that stand where a version would go."""
    return [int(p.name) for p in model_dir.iterdir() if p.name.isdigit()]


def remove_stale_staging(model_dir: Path) -> None:
    """Removes the staging folders of exports whose process is gone (killed mid-export)."""
    for staging in model_dir.glob(".staging-*"):
        pid = staging.name.split("-")[1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def versions(model_dir: Path) -> list[int]:
    """The integer version folders of a served model, as TF Serving sees them."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def write_models_config(root: str | Path) -> Path:
    """Rewrites `root/models.config` (ModelServerConfig text) listing every exported model."""
    root = Path(root).resolve()
    entries = []
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if versions(model_dir):
            entries.append(
                "  config {\n"
                f'    name: "{model_dir.name}"\n'
                f'    base_path: "{model_dir}"\n'
                '    model_platform: "tensorflow"\n'
                "  }\n"
            )
    path = root / MODELS_CONFIG
    staging = root / f".{MODELS_CONFIG}.{uuid.uuid4().hex}"
    staging.write_text("model_config_list {\n" + "".join(entries) + "}\n")
    os.replace(staging, path)
    return path


def write_warmup_requests(
    export_dir: Path, name: str, requests: Sequence[Mapping[str, Any]]
) -> Path:
    """Records `PredictionLog` requests (input name -> value each) for TF Serving's warmup."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    directory = Path(export_dir) / "assets.extra"
    directory.mkdir(exist_ok=True)
    path = directory / WARMUP_FILE
    with tf.io.TFRecordWriter(str(path)) as writer:
        for inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=name, signature_name="serving_default")
            )
            for key, value in inputs.items():
                value = np.asarray(value)
                dtype = tf.string if value.dtype.kind in "OUS" else tf.as_dtype(value.dtype)
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value, dtype=dtype))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def load_latest(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Loads a SavedModel from a version folder, or the newest version of a model folder.

    Returns:
        The loaded SavedModel and its `assets.extra/zoo.json` (model, task, ...).
    """
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        found = versions(path)
        if not found:
            raise FileNotFoundError(f"{path} holds no SavedModel (saved_model.pb) nor versions.")
        path = path / str(found[-1])
    about_path = path / "assets.extra" / ABOUT_FILE
    try:
        about = json.loads(about_path.read_text())
    except (OSError, json.JSONDecodeError):
        raise ValueError(
            f"{about_path} is missing or damaged: {path} was not exported by `zoo export`."
        ) from None
    import tensorflow_text  # noqa: F401  (registers the tokenization ops the graph uses)

    return tf.saved_model.load(str(path)), about


def exported_predictor(path: str | Path) -> tuple[Task, Any]:
    """`(task, predictor)` of an export: the predictor answers like the run's own."""
    loaded, about = load_latest(path)
    task = get_task(about["task"])
    return task, task.exported_predictor(loaded, about)


def is_saved_model(path: str | Path) -> bool:
    path = Path(path)
    return (path / "saved_model.pb").is_file() or bool(versions(path))


@contextlib.contextmanager
def _portable_lstms(model: keras.Model) -> Iterator[None]:
    """Traces the encoder LSTMs without cuDNN kernels, so the export serves on CPU and GPU."""
    lstms = []
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.LSTM):
            lstms.append((layer, layer.use_cudnn))
            layer.use_cudnn = False
    try:
        yield
    finally:
        for layer, setting in lstms:
            layer.use_cudnn = setting


def _examples(run: Path) -> list | None:
    if not (run / EXAMPLES_FILE).is_file():
        return None
    return read_json(run / EXAMPLES_FILE)
