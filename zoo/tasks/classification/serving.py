"""The serving signatures of a classification export: raw strings in, labels and probabilities
out.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.tasks.classification.predictor import Classifier


class ClassificationServing:
    """The serving functions of a `Classifier`: raw strings in, labels and probabilities out.

    serving_default: {"text": string[batch]} -> {"label": string[batch],
                                                 "probabilities": float32[batch, classes]}
    attention:       {"text": string[batch]} -> {"label", "tokens": string[batch, T],
                      "weights": float32[batch, heads, T]} (attention models only)
    """

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
