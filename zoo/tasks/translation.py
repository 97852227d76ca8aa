"""Translation as a task: text pipelines, a `Translator` from text to text, BLEU and friends,
and the serving signatures of its exports.

The same TensorFlow functions turn text into ids for the training pipeline, for `predict`
and inside the exported SavedModel, so the three cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo import decoding, plots
from zoo.data import TRANSLATION_DATASETS, ParallelCorpus, load_translation, read_parallel_tsv
from zoo.data.tokenization import TokenIds, Tokenizer
from zoo.data.vocabulary import BOS_ID, Vocabulary
from zoo.metrics import translation_metrics
from zoo.tasks.base import TextTask, write_table

SOURCE_VOCAB = "source_vocab.txt"
TARGET_VOCAB = "target_vocab.txt"
TEXT_CONFIG = "text.json"


class EmptyInputError(ValueError):
    """An empty (or whitespace-only) text was given where a sentence is needed."""


@dataclass
class TextPipeline:
    """Tokenizers and vocabularies of both sides, and how long a source may be."""

    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    max_source_length: int = 200

    def __post_init__(self):
        self.source_ids = TokenIds(self.source_vocab)
        self.target_ids = TokenIds(self.target_vocab)

    @classmethod
    def fit(
        cls,
        pairs: list[tuple[str, str]],
        level: str = "char",
        lowercase: bool = False,
        max_vocab_size: int = 16_000,
        max_source_length: int = 200,
        min_count: int = 1,
    ) -> TextPipeline:
        """Builds both vocabularies from training pairs."""
        source_tokenizer = Tokenizer(level, lowercase)
        target_tokenizer = Tokenizer(level, lowercase)
        sources = source_tokenizer.split([s for s, _ in pairs]).to_list()
        targets = target_tokenizer.split([t for _, t in pairs]).to_list()
        decode = lambda rows: [[token.decode("utf-8") for token in row] for row in rows]  # noqa: E731
        return cls(
            source_tokenizer,
            target_tokenizer,
            Vocabulary.build(decode(sources), max_size=max_vocab_size, min_count=min_count),
            Vocabulary.build(decode(targets), max_size=max_vocab_size, min_count=min_count),
            max_source_length,
        )

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        self.source_vocab.save(directory / SOURCE_VOCAB)
        self.target_vocab.save(directory / TARGET_VOCAB)
        config = {
            "source": self.source_tokenizer.get_config(),
            "target": self.target_tokenizer.get_config(),
            "max_source_length": self.max_source_length,
        }
        (directory / TEXT_CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> TextPipeline:
        directory = Path(directory)
        config = json.loads((directory / TEXT_CONFIG).read_text())
        return cls(
            Tokenizer(**config["source"]),
            Tokenizer(**config["target"]),
            Vocabulary.load(directory / SOURCE_VOCAB),
            Vocabulary.load(directory / TARGET_VOCAB),
            config["max_source_length"],
        )

    def source_tokens(self, texts) -> tf.RaggedTensor:
        return self.source_tokenizer.split(texts)[:, : self.max_source_length]

    def encode_source(self, texts) -> tf.Tensor:
        """`string[batch]` -> `int32[batch, Ts]`, 0-padded."""
        return self.source_ids.encode(self.source_tokens(texts)).to_tensor()

    def encode_target(self, texts) -> tuple[tf.Tensor, tf.Tensor]:
        """`string[batch]` -> decoder inputs (`<s>` + ids) and outputs (ids + `</s>`)."""
        ids = self.target_ids.encode(self.target_tokenizer.split(texts), append_eos=True)
        target_out = ids.to_tensor()
        bos = tf.fill([tf.shape(target_out)[0], 1], BOS_ID)
        target_in = tf.concat([bos, target_out[:, :-1]], axis=1)
        return target_in, target_out

    def decode_target(self, ids) -> tf.Tensor:
        return self.target_ids.decode(ids, self.target_tokenizer.separator)

    def dataset(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        pad_to_multiple: int = 1,
    ) -> tf.data.Dataset:
        """`(inputs, target_out, sample_weight)` batches; padding has weight 0.

        With `pad_to_multiple=N`, source and target lengths are padded up to a multiple of N,
        so a compiled (XLA) step sees a bounded set of shapes instead of one per batch.
        """
        sources = tf.constant([s for s, _ in pairs])
        targets = tf.constant([t for _, t in pairs])
        data = tf.data.Dataset.from_tensor_slices((sources, targets))
        if shuffle:
            data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

        def pad(ids):
            extra = -tf.shape(ids)[1] % pad_to_multiple
            return tf.pad(ids, [[0, 0], [0, extra]])

        def to_ids(source, target):
            target_in, target_out = (pad(ids) for ids in self.encode_target(target))
            inputs = {"source": pad(self.encode_source(source)), "target_in": target_in}
            return inputs, target_out, tf.cast(target_out != 0, tf.float32)

        return data.batch(batch_size).map(to_ids, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


class Translator:
    """A trained `Seq2Seq` model with its text pipeline: `translate(["..."])` gives text.

    Args:
        model: A `zoo.models.Seq2Seq`.
        text: The `TextPipeline` it was trained with.
        beam_size: Beam width; 1 is greedy search.
        length_penalty, max_length_ratio, max_length_offset: See `zoo.decoding.beam_search`.
    """

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
        # One trace for every batch size and source length.
        ids = tf.TensorSpec([None, None], tf.int32)
        self._decode = tf.function(self.decode_ids, input_signature=[ids])
        self._decode_text = tf.function(
            lambda source_ids: self.decode_ids(source_ids, with_attention=False),
            input_signature=[ids],
        )

    @property
    def pipeline(self) -> TextPipeline:
        """What `Task.predictor` takes with the model (the text pipeline)."""
        return self.text

    @classmethod
    def load(cls, run_dir: str | Path, **search) -> Translator:
        """The translator of a training run: its model, vocabularies and search settings.

        Keyword arguments (e.g. `beam_size=1`) replace the search settings the run used.
        """
        return TASK.load_predictor(Path(run_dir), **search)

    def decode_ids(self, source_ids, with_attention: bool = True):
        """The search's result for `int[batch, Ts]` ids, with the translations as text."""
        result = decoding.beam_search(
            self.model, source_ids, return_attention=with_attention, **self.search
        )
        out = {
            "translation": self.text.decode_target(result.tokens),
            "tokens": result.tokens,
            "log_prob": result.log_prob,
            "length": result.length,
        }
        if with_attention:
            out["attention"] = result.attention
        return out

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
        source_tokens = [
            [t.decode("utf-8") for t in row] for row in self.text.source_tokens(texts).to_list()
        ]
        out = self._decode(self.text.encode_source(texts))
        translations = [t.decode("utf-8") for t in out["translation"].numpy()]
        attention = out["attention"].numpy()
        lengths = out["length"].numpy()
        tokens = out["tokens"].numpy()
        target_tokens = [
            [self.text.target_vocab.tokens[i] for i in row[:n]]
            for row, n in zip(tokens, lengths, strict=True)
        ]
        return {
            "translation": translations,
            "log_prob": out["log_prob"].numpy(),
            "source_tokens": source_tokens,
            "target_tokens": target_tokens,
            "attention": [
                attention[i, : lengths[i], : len(source_tokens[i])] for i in range(len(texts))
            ],
        }

    def translate_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        """Translations only, in batches."""
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            ids = self.text.encode_source(texts[start : start + batch_size])
            batch = self._decode_text(ids)["translation"].numpy()
            out += [t.decode("utf-8") for t in batch]
        return out


def source_lengths(text: TextPipeline, sources: list[str]) -> np.ndarray:
    return text.source_tokens(sources).row_lengths().numpy()


def evaluate_translator(
    translator: Translator, pairs: list[tuple[str, str]], predictions: Path | None = None
) -> dict:
    """Test-set metrics of `translator` on `(source, reference)` pairs; with `predictions`,
    also writes `source<TAB>reference<TAB>hypothesis` lines there."""
    sources = [s for s, _ in pairs]
    references = [t for _, t in pairs]
    hypotheses = translator.translate_all(sources)
    if predictions is not None:
        write_table(predictions, ["source", "reference", "hypothesis"],
                    zip(sources, references, hypotheses, strict=True))  # fmt: skip
    return translation_metrics(hypotheses, references, source_lengths(translator.text, sources))


def save_attention_maps(translator: Translator, sources: list[str], directory: Path) -> list[Path]:
    """Heatmaps of the attention of `sources`, one PNG each (none for attention-free models)."""
    if translator.model.attention is None or not sources:
        return []
    directory.mkdir(exist_ok=True)
    out = translator.translate(sources)
    return [
        plots.attention_heatmap(
            out["attention"][i],
            out["source_tokens"][i],
            out["target_tokens"][i],
            directory / f"example_{i}.png",
            title=f"{sources[i]} -> {out['translation'][i]}",
        )
        for i in range(len(sources))
    ]


class ExportedTranslator:
    """A translation SavedModel queried through its signatures, answering like `Translator`."""

    def __init__(self, loaded: Any):
        self.loaded = loaded

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


class TranslationServing:
    """The serving functions of a `Translator`: raw strings in, strings out.

    serving_default: {"text": string[batch]} -> {"translation": string[batch],
                                                 "log_prob": float32[batch]}
    attention:       {"text": string[batch]} -> {"translation", "source_tokens":
                      string[batch, S], "target_tokens": string[batch, T],
                      "weights": float32[batch, T, S]} (tokens padded with "")
    """

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

    def _run(self, texts, with_attention):
        text = self.translator.text
        source_tokens = text.source_tokens(texts)
        source_ids = text.source_ids.encode(source_tokens).to_tensor()
        # One padding column keeps an all-empty batch from having zero source steps.
        source_ids = tf.pad(source_ids, [[0, 0], [0, 1]])
        return source_tokens, self.translator.decode_ids(source_ids, with_attention)

    def serve(self, text):
        _, out = self._run(text, with_attention=False)  # no weights recorded: faster
        return {"translation": out["translation"], "log_prob": out["log_prob"]}

    def attention(self, text):
        source_tokens, out = self._run(text, with_attention=True)
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


class TranslationTask(TextTask):
    """Parallel text, teacher forcing, a loss per real target token, BLEU / chrF / exact match."""

    name = "translation"
    settings = {
        **TextTask.settings,
        "beam_size": 4,
        "length_penalty": 0.6,
        "token_level": "word",
        "lowercase": False,
        "max_vocab_size": 16_000,
        "min_count": 1,
        "max_source_length": 200,
        # Compile the training step with XLA; lengths are then padded to multiples of 8 so
        # it compiles once per length bucket. Off: on CPUs XLA ran these loops 2x slower.
        "jit_compile": False,
    }
    objective = ("val_token_accuracy", "max")
    predict_options = ("beam_size",)
    token_levels = {"dates": "char"}  # other data is word-level unless told
    demo_texts = {"dates": ["3 de marzo de 2015", "Samstag, 14. Juli 1990", "2031年12月1日"]}

    def data_settings(self, data: str) -> dict:
        return {"token_level": self.token_levels.get(data, "word")}

    def load_data(self, data: str, settings: Mapping[str, Any]) -> ParallelCorpus:
        return load_translation(data, seed=settings["split_seed"])

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        if data in TRANSLATION_DATASETS:
            return load_translation(data, seed=settings["split_seed"]).test
        return read_parallel_tsv(data)

    def demo_inputs(self, data: str) -> list[str]:
        return self.demo_texts.get(data, [])

    def fit_pipeline(self, corpus: ParallelCorpus, training: dict) -> TextPipeline:
        return TextPipeline.fit(
            corpus.train,
            level=training["token_level"],
            lowercase=training["lowercase"],
            max_vocab_size=training["max_vocab_size"],
            max_source_length=training["max_source_length"],
            min_count=training["min_count"],
        )

    def load_pipeline(self, run: Path) -> TextPipeline:
        return TextPipeline.load(run)

    def model_sizes(self, text: TextPipeline) -> dict:
        return {
            "source_vocab_size": len(text.source_vocab),
            "target_vocab_size": len(text.target_vocab),
        }

    def compile(self, model: keras.Model, training: dict) -> None:
        # Padding positions have sample weight 0: the loss is a mean over real target tokens
        # (so a batch with more padding weighs the same), and so is the accuracy.
        self.compile_with(
            model,
            training,
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            ),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
            jit_compile=training.get("jit_compile", False),
        )

    def datasets(self, text: TextPipeline, corpus: ParallelCorpus, training: dict) -> tuple:
        multiple = 8 if training["jit_compile"] else 1
        batch_size = training["batch_size"]
        return (
            text.dataset(corpus.train, batch_size, True, training["seed"], multiple),
            text.dataset(corpus.validation, batch_size, pad_to_multiple=multiple),
        )

    def evaluate(
        self, run: Path, model: keras.Model, text: TextPipeline, corpus: ParallelCorpus, training
    ) -> dict:
        translator = self.predictor(model, text, training)
        metrics = self.score(translator, corpus.test, run / self.predictions_file)
        sources = self.examples(corpus)[: training["attention_examples"]]
        save_attention_maps(translator, sources, run / "attention")
        return metrics

    def score(self, translator: Translator, pairs: list, predictions: Path | None = None) -> dict:
        return evaluate_translator(translator, pairs, predictions)

    def format_metrics(self, metrics: dict) -> str:
        lines = [
            f"test: exact match {metrics['exact_match']:.2%}  BLEU {metrics['bleu']:.1f}  "
            f"chrF {metrics['chrf']:.1f}  ({metrics['count']} sentences)"
        ]
        for bucket in metrics["by_source_length"]:
            lines.append(
                f"  source length {bucket['bucket']:>6s}: BLEU {bucket['bleu']:5.1f}  "
                f"exact {bucket['exact_match']:.2%}  (n={bucket['count']})"
            )
        return "\n".join(lines)

    def predictor(self, model: keras.Model, text: TextPipeline, options: Mapping) -> Translator:
        search = {k: options[k] for k in ("beam_size", "length_penalty") if k in options}
        return Translator(model, text, **search)

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedTranslator:
        return ExportedTranslator(loaded)

    def predict(self, translator: Translator | ExportedTranslator, texts: list[str]) -> list[dict]:
        out = translator.translate(texts)
        return [
            {"text": text, "translation": translation, "log_prob": float(log_prob)}
            for text, translation, log_prob in zip(
                texts, out["translation"], out["log_prob"], strict=True
            )
        ]

    def format_row(self, row: dict) -> str:
        return f"{row['text']}\t{row['translation']}"

    def plot_attention(self, translator, text: str, path: Path) -> Path | None:
        out = translator.translate([text])
        if not out["target_tokens"][0] or not np.asarray(out["attention"][0]).any():
            return None  # an attention-free model
        return plots.attention_heatmap(
            out["attention"][0],
            out["source_tokens"][0],
            out["target_tokens"][0],
            path,
            title=f"{text} -> {out['translation'][0]}",
        )

    def serving_archive(self, translator: Translator) -> keras.export.ExportArchive:
        return TranslationServing(translator).archive()

    def about(self, translator: Translator) -> dict:
        return {"search": translator.search}


TASK = TranslationTask()
