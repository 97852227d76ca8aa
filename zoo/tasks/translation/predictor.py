"""Translators: a trained `Seq2Seq` with its pipeline (`Translator`), and an exported SavedModel
answering the same way (`ExportedTranslator`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo import decoding
from zoo.tasks.translation.pipeline import EmptyInputError, TextPipeline


class Translator:
    """A trained `Seq2Seq` model with its text pipeline: `translate(["..."])` gives text.

    Args:
        model: A `zoo.models.Seq2Seq`.
        text: The `TextPipeline` it was trained with.
        beam_size: Beam width; 1 is greedy search.
        length_penalty, max_length_ratio, max_length_offset: See `zoo.decoding.beam_search`.
    """

    task_name = "translation"  # what `zoo.export` exports it as

    def __init__(
        self,
        model: keras.Model,
        text: TextPipeline,
        beam_size: int = 4,
        length_penalty: float = 0.6,
        max_length_ratio: float = 1.5,
        max_length_offset: int = 10,
    ):
        self.model = model
        self.text = text
        self.search = {
            "beam_size": beam_size,
            "length_penalty": length_penalty,
            "max_length_ratio": max_length_ratio,
            "max_length_offset": max_length_offset,
        }
        self._n_best_decoders: dict = {}  # n -> a compiled n-best search, made when asked
        # Text in, text out, one trace for every batch size and source length: on TensorFlow
        # one graph from strings to strings (run eagerly, the text ops cost ten times the
        # search at batch 1), elsewhere TF graphs around the backend's compiled search.
        self._translate_texts = self._text_function(self.translations)
        self._annotate_texts = self._text_function(self.annotations, with_attention=True)

    @property
    def pipeline(self) -> TextPipeline:
        """What `Task.predictor` takes with the model (the text pipeline)."""
        return self.text

    @classmethod
    def load(cls, run_dir: str | Path, **search) -> Translator:
        """The translator of a training run: its model, vocabularies and search settings.

        Keyword arguments (e.g. `beam_size=1`) replace the search settings the run used.
        """
        from zoo.tasks import get_task

        return get_task("translation").load_predictor(Path(run_dir), **search)

    def decode_ids(self, source_ids, with_attention: bool = True, as_text: bool = True):
        """The search's result for `int[batch, Ts]` ids (`tokens`, `log_prob`, `length`, and
        `attention` if asked), with the translations as text unless `as_text=False`."""
        result = decoding.beam_search(
            self.model, source_ids, return_attention=with_attention, **self.search
        )
        out = search_result(result, with_attention)
        if as_text:
            out["translation"] = self.text.decode_target(result.tokens)
        return out

    def translations(self, texts, result) -> dict:
        """The search's `result` for `texts` (`string[batch]`) as text, placeholders restored:
        `translation` `string[batch]` and `log_prob` (graph ops: the export serves them)."""
        translation = self.text.decode_target(result["tokens"])
        return {"translation": self.text.restore(translation, texts),
                "log_prob": result["log_prob"]}  # fmt: skip

    def annotations(self, texts, result) -> dict:
        """`translations` with the tokens shown on the attention maps: `source_tokens` and
        `target_tokens` (ragged `string[batch, (tokens)]`, placeholders restored), the
        `attention` weights `[batch, T, Ts]` and each output's `length` (`</s>` included)."""
        pieces = self.text.target_pieces(result["tokens"])
        target_tokens = tf.RaggedTensor.from_tensor(pieces, lengths=result["length"])
        return {
            **self.translations(texts, result),
            "source_tokens": self.text.restore_tokens(self.text.source_tokens(texts), texts),
            "target_tokens": self.text.restore_tokens(target_tokens, texts),
            "attention": result["attention"],
            "length": result["length"],
        }

    def _text_function(self, finish, with_attention: bool = False):
        """`string[batch]` -> `finish(texts, search result)`: one `tf.function` on TensorFlow;
        on JAX / PyTorch the backend's compiled search between two TF graphs (the text ops)."""
        strings = tf.TensorSpec([None], tf.string)
        if keras.backend.backend() == "tensorflow":

            def run(texts):
                ids = self.text.encode_source(texts)
                return finish(texts, self.decode_ids(ids, with_attention, as_text=False))

            # The search is keras.ops control flow throughout: autograph would only spend
            # seconds rewriting its source (a quarter of a small run's evaluation). Keras
            # traces the export's signatures without it too.
            return tf.function(run, input_signature=[strings], autograph=False)
        encode = tf.function(self.text.encode_source, input_signature=[strings])
        search = decoding.compiled_search(
            self.model, return_attention=with_attention, **self.search
        )
        finish = tf.function(finish, reduce_retracing=True)

        def run(texts):
            out = search_result(search(encode(texts).numpy()), with_attention)
            return finish(texts, {k: tf.constant(v) for k, v in out.items()})

        return run

    def translate(self, texts: list[str] | str) -> dict:
        """Translations of `texts`, with log-probabilities and attention maps.

        Returns:
            A dict with `translation` (list of str), `log_prob` (float32 array), and per
            sentence `source_tokens` / `target_tokens` (lists of str) and `attention`
            (`[len(target_tokens), len(source_tokens)]` array).
        """
        if isinstance(texts, str):
            texts = [texts]
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise EmptyInputError(
                    f"Text {i} is empty: give a sentence to translate, received {text!r}."
                )
        out = self._annotate_texts(tf.constant(texts))
        source_tokens = [[t.decode("utf-8") for t in row] for row in out["source_tokens"].to_list()]
        target_tokens = [[t.decode("utf-8") for t in row] for row in out["target_tokens"].to_list()]
        attention, lengths = out["attention"].numpy(), out["length"].numpy()
        return {
            "translation": [t.decode("utf-8") for t in out["translation"].numpy()],
            "log_prob": out["log_prob"].numpy(),
            "source_tokens": source_tokens,
            "target_tokens": target_tokens,
            "attention": [
                attention[i, : lengths[i], : len(source_tokens[i])] for i in range(len(texts))
            ],
        }

    def n_best_ids(self, source_ids, n: int):
        """The `n` best hypotheses of `int[batch, Ts]` ids, as text (`string[batch * n]`,
        masked placeholders not yet restored) with their `score` and `log_prob`
        (`float32[batch, n]`); the beam is widened to `n` if narrower."""
        result = decoding.beam_search(
            self.model, source_ids, return_attention=False, n_best=n, **self._n_best_search(n)
        )
        return self._n_best_text(result, n)

    def _n_best_search(self, n: int) -> dict:
        """The search settings, with the beam widened to `n` if narrower."""
        return {**self.search, "beam_size": max(self.search["beam_size"], n)}

    def _n_best_text(self, result, n: int) -> dict:
        tokens = tf.convert_to_tensor(result.tokens)
        flat = tf.reshape(tokens, [-1, tf.shape(tokens)[-1]]) if n > 1 else tokens
        score = tf.convert_to_tensor(result.score)
        log_prob = tf.convert_to_tensor(result.log_prob)
        if n == 1:
            score, log_prob = score[:, None], log_prob[:, None]
        return {"translation": self.text.decode_target(flat), "score": score, "log_prob": log_prob}

    def n_best(self, texts: list[str], n: int, batch_size: int = 256) -> list[list[dict]]:
        """The `n` best translations of each text, best first, each a dict of `translation`,
        `score` (what the search ranks by: log-probability over the length penalty) and
        `log_prob`. The beam is widened to `n` if narrower."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` (--n-best) must be an integer >= 1, received {n!r}.")
        decode = self._n_best_decoders.get(n)
        if decode is None:
            decode = self._n_best_decoders[n] = self._n_best_decoder(n)
        out: list[list[dict]] = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            result = decode(self.text.encode_source(chunk))
            sources = [text for text in chunk for _ in range(n)]  # each text's n rows
            restored = self.text.restore(result["translation"], sources).numpy()
            out += hypothesis_lists(
                restored.reshape(len(chunk), n), result["score"].numpy(),
                result["log_prob"].numpy(), n,
            )  # fmt: skip
        return out

    def _n_best_decoder(self, n: int):
        if keras.backend.backend() == "tensorflow":
            ids = tf.TensorSpec([None, None], tf.int32)
            return tf.function(
                lambda source_ids: self.n_best_ids(source_ids, n), [ids], autograph=False
            )
        search = self._n_best_search(n)
        run = decoding.compiled_search(self.model, return_attention=False, n_best=n, **search)
        return lambda source_ids: self._n_best_text(run(np.asarray(source_ids)), n)

    def translate_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        """Translations only, in batches."""
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            translations = self._translate_texts(tf.constant(chunk))["translation"]
            out += [t.decode("utf-8") for t in translations.numpy()]
        return out


class ExportedTranslator:
    """A translation SavedModel queried through its signatures, answering like `Translator`."""

    def __init__(self, loaded: Any):
        self.loaded = loaded

    def translate_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        """Translations only, in batches (the `serving_default` signature)."""
        serve = self.loaded.signatures["serving_default"]
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            batch = serve(text=tf.constant(texts[start : start + batch_size]))["translation"]
            out += [t.decode("utf-8") for t in batch.numpy()]
        return out

    def n_best(self, texts: list[str], n: int, batch_size: int = 256) -> list[list[dict]]:
        """The `n` best translations of each text (the `n_best` signature), like
        `Translator.n_best`; an export holds as many as its beam."""
        if "n_best" not in self.loaded.signatures:
            raise ValueError(
                "This export has no n_best signature (exported before n-best lists); export "
                "the run again, or translate its run directory."
            )
        serve = self.loaded.signatures["n_best"]
        out: list[list[dict]] = []
        for start in range(0, len(texts), batch_size):
            answer = serve(text=tf.constant(texts[start : start + batch_size]))
            held = answer["translations"].shape[1]
            if n > held:
                raise ValueError(
                    f"This export keeps {held} hypotheses (its beam); ask for at most {held}, "
                    "or export the run with a wider --beam-size."
                )
            out += hypothesis_lists(
                answer["translations"].numpy(), answer["scores"].numpy(),
                answer["log_probs"].numpy(), n,
            )  # fmt: skip
        return out

    def translate(self, texts: list[str] | str) -> dict:
        if isinstance(texts, str):
            texts = [texts]
        out = self.loaded.signatures["attention"](text=tf.constant(texts))
        source = [[t.decode("utf-8") for t in row if t] for row in out["source_tokens"].numpy()]
        target = [[t.decode("utf-8") for t in row if t] for row in out["target_tokens"].numpy()]
        weights = out["weights"].numpy()
        served = self.loaded.signatures["serving_default"](text=tf.constant(texts))
        return {
            "translation": [t.decode("utf-8") for t in served["translation"].numpy()],
            "log_prob": served["log_prob"].numpy(),
            "source_tokens": source,
            "target_tokens": target,
            "attention": [
                weights[i, : len(target[i]), : len(source[i])] for i in range(len(texts))
            ],
        }


def search_result(decoded: decoding.Decoded, with_attention: bool) -> dict:
    """A search's `tokens`, `log_prob` and `length` (and `attention` if asked) as a dict."""
    out = {"tokens": decoded.tokens, "log_prob": decoded.log_prob, "length": decoded.length}
    if with_attention:
        out["attention"] = decoded.attention
    return out


def hypothesis_lists(translations, scores, log_probs, n: int) -> list[list[dict]]:
    """`[batch, >= n]` arrays (translations as UTF-8 bytes) -> per text, its `n` best as
    dicts of `translation`, `score` and `log_prob`."""
    return [
        [
            {"translation": text.decode("utf-8"), "score": float(score), "log_prob": float(lp)}
            for text, score, lp in zip(row[:n], row_scores[:n], row_log_probs[:n], strict=True)
        ]
        for row, row_scores, row_log_probs in zip(translations, scores, log_probs, strict=True)
    ]
