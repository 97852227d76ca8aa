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

    def _run(self, texts, with_attention):
        text = self.translator.text
        source_tokens = text.source_tokens(texts)
        source_ids = text.encode_source(texts)
        # One padding column keeps an all-empty batch from having zero source steps.
        source_ids = tf.pad(source_ids, [[0, 0], [0, 1]])
        return source_tokens, self.translator.decode_ids(source_ids, with_attention)

    def serve(self, text):
        _, out = self._run(text, with_attention=False)  # no weights recorded: faster
        translation = self.translator.text.restore(out["translation"], text)
        return {"translation": translation, "log_prob": out["log_prob"]}

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
        pipeline = self.translator.text
        source_tokens, out = self._run(text, with_attention=True)
        target_ids = out["tokens"]
        target_tokens = tf.RaggedTensor.from_tensor(
            pipeline.target_pieces(target_ids), lengths=out["length"]
        )
        source_tokens = pipeline.restore_tokens(source_tokens, text)
        target_tokens = pipeline.restore_tokens(target_tokens, text)
        sources = tf.shape(source_tokens.to_tensor())[1]
        return {
            "translation": pipeline.restore(out["translation"], text),
            "source_tokens": source_tokens.to_tensor(default_value=""),
            "target_tokens": target_tokens.to_tensor(default_value="", shape=tf.shape(target_ids)),
            "weights": out["attention"][:, :, :sources],
        }
