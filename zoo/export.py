"""Export to TF Serving: versioned SavedModels that take raw text and return text.

    saved_models/
      models.config                      ModelServerConfig listing every exported model
      lstm_luong_nmt/
        1/                               one SavedModel per version, never overwritten
          saved_model.pb, variables/, assets/
          assets.extra/tf_serving_warmup_requests

Signatures (inputs and outputs keep these names across versions):
    translation
    serving_default: {"text": string[batch]} -> {"translation": string[batch],
                                                  "log_prob": float32[batch]}
    attention:       {"text": string[batch]} -> {"translation", "source_tokens":
                      string[batch, S], "target_tokens": string[batch, T],
                      "weights": float32[batch, T, S]} (tokens padded with "")
    classification
    serving_default: {"text": string[batch]} -> {"label": string[batch],
                                                  "probabilities": float32[batch, classes]}
    attention:       {"text": string[batch]} -> {"label", "tokens": string[batch, T],
                      "weights": float32[batch, heads, T]} (attention models only)

Normalization, tokenization (tensorflow-text kernels, linked into TF Serving), the model,
beam search and detokenization all run inside the graph. Loading needs only `tensorflow` and
`tensorflow_text`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from zoo.classification import Classifier
from zoo.translation import Translator

MODELS_CONFIG = "models.config"
WARMUP_FILE = "tf_serving_warmup_requests"
EXAMPLES_FILE = "examples.json"
DEFAULT_WARMUP = ["3 de marzo de 2015", "Samstag, 14. Juli 1990", "June 1, 2001"]


class TranslationServing:
    """The serving functions of a `Translator`: raw strings in, strings out."""

    signature = [tf.TensorSpec([None], tf.string, name="text")]

    def __init__(self, translator: Translator):
        self.translator = translator
        text = translator.text
        self.tables = [
            text.source_ids.to_id,
            text.source_ids.to_token,
            text.target_ids.to_id,
            text.target_ids.to_token,
        ]

    def archive(self) -> keras.export.ExportArchive:
        """An `ExportArchive` holding the model, the lookup tables and both signatures.

        Keras' `ExportArchive`, not a bare `tf.Module`: it lists the Keras variables so that
        the TF1 graph TF Serving loads (SavedModelBundle) restores them too.
        """
        archive = keras.export.ExportArchive()
        archive.track(self.translator.model)
        for table in self.tables:
            archive.track(table)
        archive.add_endpoint("serving_default", self.serve, input_signature=self.signature)
        archive.add_endpoint("attention", self.attention, input_signature=self.signature)
        return archive

    def _run(self, texts):
        text = self.translator.text
        source_tokens = text.source_tokens(texts)
        source_ids = text.source_ids.encode(source_tokens).to_tensor()
        # One padding column keeps an all-empty batch from having zero source steps.
        source_ids = tf.pad(source_ids, [[0, 0], [0, 1]])
        return source_tokens, self.translator.decode_ids(source_ids)

    def serve(self, text):
        _, out = self._run(text)
        return {"translation": out["translation"], "log_prob": out["log_prob"]}

    def attention(self, text):
        source_tokens, out = self._run(text)
        vocab = self.translator.text.target_ids
        target_ids = tf.cast(out["tokens"], tf.int64)
        steps = tf.sequence_mask(out["length"], tf.shape(target_ids)[1])
        target_tokens = tf.where(steps, vocab.to_token.lookup(target_ids), "")
        sources = tf.shape(source_tokens.to_tensor())[1]
        return {
            "translation": out["translation"],
            "source_tokens": source_tokens.to_tensor(default_value=""),
            "target_tokens": target_tokens,
            "weights": out["attention"][:, :, :sources],
        }


class ClassificationServing:
    """The serving functions of a `Classifier`: raw strings in, labels and probabilities out."""

    signature = [tf.TensorSpec([None], tf.string, name="text")]

    def __init__(self, classifier: Classifier):
        self.classifier = classifier
        self.tables = [classifier.text.ids.to_id, classifier.text.ids.to_token]

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()  # see TranslationServing.archive
        archive.track(self.classifier.model)
        for table in self.tables:
            archive.track(table)
        archive.add_endpoint("serving_default", self.serve, input_signature=self.signature)
        if self.classifier.model.attention is not None:
            archive.add_endpoint("attention", self.attention, input_signature=self.signature)
        return archive

    def serve(self, text):
        out = self.classifier.run_ids(self.classifier.text.encode(text))
        return {"label": out["label"], "probabilities": out["probabilities"]}

    def attention(self, text):
        tokens = self.classifier.text.tokens(text)
        out = self.classifier.run_ids(self.classifier.text.encode(text))
        length = tf.shape(tokens.to_tensor())[1]
        return {
            "label": out["label"],
            "tokens": tokens.to_tensor(default_value=""),
            "weights": out["weights"][:, :, :length],
        }


def export(
    model_or_run: Translator | Classifier | str | Path,
    root: str | Path = "saved_models",
    version: int | None = None,
    beam_size: int | None = None,
    name: str | None = None,
    warmup_texts: Sequence[str] | None = None,
) -> Path:
    """Writes a new SavedModel version for TF Serving and returns its directory.

    Args:
        model_or_run: A training run directory, a `Translator` or a `Classifier`.
        root: The model repository (`saved_models/` by default).
        version: The version number; default the next integer. An existing one is an error.
        beam_size: Beam width of the served search (translation; default: the run's).
        name: The served model name (default: the registry name).
        warmup_texts: Requests recorded in `assets.extra` so the server warms up on load.
    """
    run = None
    predictor = model_or_run
    if isinstance(predictor, Translator) and beam_size is not None:
        predictor = Translator(predictor.model, predictor.text, beam_size=beam_size)
    elif not isinstance(predictor, (Translator, Classifier)):
        run = Path(model_or_run)
        config = _run_config(run)
        if config.get("task") == "classification":
            predictor = Classifier.load(run)
        else:
            search = {"beam_size": beam_size or config["training"].get("beam_size", 4)}
            predictor = Translator.load(run, **search)
    model = predictor.model
    name = name or model.name
    warmup_texts = list(warmup_texts or _examples(run) or DEFAULT_WARMUP)
    root = Path(root)
    model_dir = root / name
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(model_dir / f".staging-{uuid.uuid4().hex}")
        staging.mkdir()
    except OSError as error:
        raise OSError(
            f"Cannot write to the export root {root}: {error.strerror}. Pass a writable --root."
        ) from None
    try:
        if version is None:
            version = max(versions(model_dir), default=0) + 1
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"`version` must be a positive integer, received {version!r}.")
        target = model_dir / str(version)
        if target.exists():
            raise FileExistsError(
                f"{target} already exists; versions are never overwritten. "
                "Omit --version to take the next one."
            )
        if isinstance(predictor, Translator):
            serving, about = TranslationServing(predictor), {"search": predictor.search}
        else:
            serving, about = ClassificationServing(predictor), {"labels": predictor.text.labels}
        with _portable_lstms(model):
            serving.archive().write_out(str(staging), verbose=False)
        write_warmup_requests(staging, name, warmup_texts)
        (staging / "assets.extra" / "zoo.json").write_text(
            json.dumps({"model": model.name, **about}, indent=2)
        )
        os.rename(staging, target)  # atomic on one filesystem; fails if target appeared
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_models_config(root)
    return target


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


def write_warmup_requests(export_dir: Path, name: str, texts: Sequence[str]) -> Path:
    """Records `PredictionLog` requests (one per text) for TF Serving's warmup on load."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    directory = Path(export_dir) / "assets.extra"
    directory.mkdir(exist_ok=True)
    path = directory / WARMUP_FILE
    with tf.io.TFRecordWriter(str(path)) as writer:
        for text in texts:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=name, signature_name="serving_default")
            )
            request.inputs["text"].CopyFrom(tf.make_tensor_proto([text], dtype=tf.string))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def load_latest(path: str | Path):
    """Loads a SavedModel from a version folder, or the newest version of a model folder."""
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        found = versions(path)
        if not found:
            raise FileNotFoundError(f"{path} holds no SavedModel (saved_model.pb) nor versions.")
        path = path / str(found[-1])
    import tensorflow_text  # noqa: F401  (registers the tokenization ops the graph uses)

    return tf.saved_model.load(str(path))


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


def _run_config(run: Path) -> dict:
    try:
        return json.loads((run / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {"training": {}}


def _examples(run: Path | None) -> list[str] | None:
    if run is None or not (run / EXAMPLES_FILE).is_file():
        return None
    return json.loads((run / EXAMPLES_FILE).read_text())
