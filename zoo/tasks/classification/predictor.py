"""Classifiers: a trained `TextClassifier` with its pipeline (`Classifier`), and an exported
SavedModel answering the same way (`ExportedClassifier`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.tasks.base import load_trained_model
from zoo.tasks.classification.pipeline import LabelPipeline


class Classifier:
    """A trained `TextClassifier` with its pipeline: `classify(["..."])` gives labels."""

    task_name = "classification"  # what `zoo.export` exports it as

    def __init__(self, model: keras.Model, text: LabelPipeline):
        self.model = model
        self.text = text
        ids = tf.TensorSpec([None, None], tf.int32)  # one trace for every shape
        self._run = tf.function(self.run_ids, input_signature=[ids])

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

    def classify(self, texts: list[str] | str) -> dict:
        """Labels, probabilities and, per text, its tokens and attention `[heads, tokens]`."""
        if isinstance(texts, str):
            texts = [texts]
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"Text {i} is empty: give a text to classify, received {text!r}.")
        tokens = [[t.decode("utf-8") for t in row] for row in self.text.tokens(texts).to_list()]
        out = self._run(self.text.encode(texts))
        weights = out["weights"].numpy()
        return {
            "label": [label.decode("utf-8") for label in out["label"].numpy()],
            "probabilities": out["probabilities"].numpy(),
            "tokens": tokens,
            "attention": [weights[i, :, : len(tokens[i])] for i in range(len(texts))],
        }

    def classify_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        labels: list[str] = []
        for start in range(0, len(texts), batch_size):
            out = self._run(self.text.encode(texts[start : start + batch_size]))
            labels += [label.decode("utf-8") for label in out["label"].numpy()]
        return labels


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
