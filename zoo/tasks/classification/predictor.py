"""Classifiers: a trained `TextClassifier` with its pipeline (`Classifier`), and an exported
SavedModel answering the same way (`ExportedClassifier`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.decoding.compiled import backend_compiled, padded_for_compilation
from zoo.tasks.base import load_trained_model
from zoo.tasks.classification.pipeline import LabelPipeline


class Classifier:
    """A trained `TextClassifier` with its pipeline: `classify(["..."])` gives labels."""

    task_name = "classification"  # what `zoo.export` exports it as

    def __init__(self, model: keras.Model, text: LabelPipeline):
        self.model = model
        self.text = text
        if keras.backend.backend() == "tensorflow":
            ids = tf.TensorSpec([None, None], tf.int32)  # one trace for every shape
            run = tf.function(self.run_ids, input_signature=[ids], autograph=False)  # as exported
            self._scores = lambda token_ids: tuple(
                run(token_ids)[key].numpy() for key in ("probabilities", "weights")
            )
        else:  # the model in the backend's own compiled function, the text ops in TF
            self._scores = compiled_scores(model)

    @classmethod
    def load(cls, run_dir: str | Path) -> Classifier:
        """The classifier saved in a training run directory (`model.keras` + pipeline)."""
        return cls(load_trained_model(run_dir), LabelPipeline.load(run_dir))

    @property
    def pipeline(self) -> LabelPipeline:
        """What `Task.predictor` takes with the model (the label pipeline)."""
        return self.text

    @property
    def labels(self) -> list[str]:
        return self.text.labels

    def run_ids(self, token_ids):
        logits, weights = self.model.classify(token_ids)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label = tf.gather(self.text.label_names, tf.argmax(probabilities, axis=-1))
        if weights is None:
            weights = tf.zeros([tf.shape(token_ids)[0], 0, tf.shape(token_ids)[1]])
        return {"label": label, "probabilities": probabilities, "weights": weights}

    def scores(self, token_ids) -> tuple[np.ndarray, np.ndarray]:
        """`(probabilities [B, classes], attention [B, heads, T])` of `int32[B, T]` ids."""
        return self._scores(np.asarray(token_ids, "int32"))

    def classify(self, texts: list[str] | str) -> dict:
        """Labels, probabilities and, per text, its tokens and attention `[heads, tokens]`."""
        if isinstance(texts, str):
            texts = [texts]
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"Text {i} is empty: give a text to classify, received {text!r}.")
        tokens = [[t.decode("utf-8") for t in row] for row in self.text.tokens(texts).to_list()]
        probabilities, weights = self.scores(self.text.encode(texts))
        return {
            "label": [self.labels[i] for i in probabilities.argmax(axis=-1)],
            "probabilities": probabilities,
            "tokens": tokens,
            "attention": [weights[i, :, : len(tokens[i])] for i in range(len(texts))],
        }

    def classify_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        labels: list[str] = []
        for start in range(0, len(texts), batch_size):
            probabilities, _ = self.scores(self.text.encode(texts[start : start + batch_size]))
            labels += [self.labels[i] for i in probabilities.argmax(axis=-1)]
        return labels


def compiled_scores(model: keras.Model):
    """`model.classify` as the JAX or PyTorch backend runs it fast: a function from `int32[B,
    T]` ids (numpy) to `(probabilities, attention weights)` (numpy). Under JAX it is
    `jax.jit`-compiled over batches padded to a power of two and columns to a multiple of 8
    (a few shapes, not one per call; padding changes no answer, it is masked and dropped);
    under PyTorch it runs eagerly without gradients."""
    backend = keras.backend.backend()

    def run(ids):
        logits, weights = model.classify(ids)
        probabilities = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        if weights is None:  # no attention: no weights, one shape for every model
            weights = ops.zeros((ops.shape(ids)[0], 0, ops.shape(ids)[1]))
        return probabilities, ops.cast(weights, "float32")

    run = backend_compiled(run)

    def scores(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch, columns = ids.shape
        if backend == "jax":
            ids = padded_for_compilation(ids)
        probabilities, weights = (ops.convert_to_numpy(x)[:batch] for x in run(ids))
        return probabilities, weights[..., :columns]

    return scores


class ExportedClassifier:
    """A classification SavedModel queried through its signatures, answering like `Classifier`."""

    def __init__(self, loaded: Any, labels: list[str]):
        self.loaded = loaded
        self.labels = labels

    def classify(self, texts: list[str] | str) -> dict:
        if isinstance(texts, str):
            texts = [texts]
        out = self.loaded.signatures["serving_default"](text=tf.constant(texts))
        result = {
            "label": [label.decode("utf-8") for label in out["label"].numpy()],
            "probabilities": out["probabilities"].numpy(),
            "tokens": [[] for _ in texts],
            "attention": [np.zeros((0, 0), "float32") for _ in texts],
        }
        if "attention" in self.loaded.signatures:
            att = self.loaded.signatures["attention"](text=tf.constant(texts))
            weights = att["weights"].numpy()
            for i, row in enumerate(att["tokens"].numpy()):
                tokens = [t.decode("utf-8") for t in row if t]
                result["tokens"][i] = tokens
                result["attention"][i] = weights[i, :, : len(tokens)]
        return result
