"""The serving signatures of a translation export: raw strings in, strings out; tokenization
and decoding run inside the graph.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.tasks.translation.predictor import Translator


class TranslationServing:
    """The serving functions of a `Translator`: raw strings in, strings out.

    serving_default: {"text": string[batch]} -> {"translation": string[batch],
                                                 "log_prob": float32[batch]}
    attention:       {"text": string[batch]} -> {"translation", "source_tokens":
                      string[batch, S], "target_tokens": string[batch, T],
                      "weights": float32[batch, T, S]} (tokens padded with "")
    n_best:          {"text": string[batch]} -> {"translations": string[batch, K],
                      "scores": float32[batch, K], "log_probs": float32[batch, K]}, the K
                      (the beam size) best hypotheses, best first
    """

    signature = [tf.TensorSpec([None], tf.string, name="text")]

    def __init__(self, translator: Translator):
        self.translator = translator
        self.tables = translator.text.resources  # lookup tables or SentencePiece models

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
        archive.add_endpoint("n_best", self.n_best, input_signature=self.signature)
        return archive

    def _search(self, texts, with_attention):
        # One padding column keeps an all-empty batch from having zero source steps.
        source_ids = tf.pad(self.translator.text.encode_source(texts), [[0, 0], [0, 1]])
        return self.translator.decode_ids(source_ids, with_attention, as_text=False)

    def serve(self, text):
        # No weights recorded: faster.
        return self.translator.translations(text, self._search(text, with_attention=False))

    def n_best(self, text):
        pipeline = self.translator.text
        k = self.translator.search["beam_size"]
        source_ids = tf.pad(pipeline.encode_source(text), [[0, 0], [0, 1]])
        out = self.translator.n_best_ids(source_ids, k)
        restored = pipeline.restore(out["translation"], tf.repeat(text, k))
        return {
            "translations": tf.reshape(restored, [-1, k]),
            "scores": out["score"],
            "log_probs": out["log_prob"],
        }

    def attention(self, text):
        out = self.translator.annotations(text, self._search(text, with_attention=True))
        source_tokens = out["source_tokens"].to_tensor(default_value="")
        weights = out["attention"]
        return {
            "translation": out["translation"],
            "source_tokens": source_tokens,
            "target_tokens": out["target_tokens"].to_tensor(
                default_value="", shape=tf.shape(weights)[:2]
            ),
            "weights": weights[:, :, : tf.shape(source_tokens)[1]],
        }
