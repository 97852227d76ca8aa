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
from zoo.data.subwords import SUBWORD_LEVELS, SubwordCodec
from zoo.data.tokenization import LEVELS as WORD_LEVELS
from zoo.data.tokenization import WordCodec
from zoo.data.vocabulary import BOS_ID, EOS_ID, Vocabulary
from zoo.metrics import translation_metrics
from zoo.tasks.base import TextTask, write_table
from zoo.tasks.settings import TOKEN_LEVELS, TRANSLATION

TEXT_CONFIG = "text.json"
# Bucket edges (in tokens) of length-bucketed batches: a batch is padded up to the next edge,
# so a compiled step sees at most this many shapes per side.
BUCKET_BOUNDARIES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)

Codec = WordCodec | SubwordCodec


class EmptyInputError(ValueError):
    """An empty (or whitespace-only) text was given where a sentence is needed."""


def fit_codec(
    texts: list[str], level: str, lowercase: bool, max_vocab_size: int, min_count: int, seed: int
) -> Codec:
    """A word/char vocabulary or a SentencePiece model of `texts`."""
    if level in SUBWORD_LEVELS:
        if min_count != 1:
            raise ValueError(
                f"`min_count` applies to word and char vocabularies; a {level} (SentencePiece) "
                "vocabulary is sized by `max_vocab_size` alone. Leave min_count at 1."
            )
        return SubwordCodec.fit(texts, level, lowercase, max_vocab_size, seed)
    if level not in WORD_LEVELS:
        raise ValueError(f"`token_level` must be one of {TOKEN_LEVELS}, received {level!r}.")
    return WordCodec.fit(texts, level, lowercase, max_vocab_size, min_count)


def load_codec(directory: Path, config: dict, side: str) -> Codec:
    if config["level"] in SUBWORD_LEVELS:
        return SubwordCodec.load(directory, config)
    return WordCodec.load(directory, {"vocabulary": f"{side}_vocab.txt", **config})


@dataclass
class TextPipeline:
    """How both sides' text becomes ids (a `WordCodec` or `SubwordCodec` each), and how long a
    source may be. With a joint vocabulary, `source` and `target` are the same codec."""

    source: Codec
    target: Codec
    max_source_length: int = 200

    @property
    def joint(self) -> bool:
        return self.source is self.target

    @property
    def source_vocab(self) -> Vocabulary:
        return self.source.vocabulary

    @property
    def target_vocab(self) -> Vocabulary:
        return self.target.vocabulary

    @classmethod
    def fit(
        cls,
        pairs: list[tuple[str, str]],
        level: str = "char",
        lowercase: bool = False,
        max_vocab_size: int = 16_000,
        max_source_length: int = 200,
        min_count: int = 1,
        max_target_vocab_size: int | None = None,
        joint_vocabulary: bool = False,
        seed: int = 0,
    ) -> TextPipeline:
        """Fits both sides on training pairs.

        Args:
            level: `"char"`, `"word"`, or a SentencePiece model: `"unigram"` or `"bpe"`.
            max_vocab_size: The most tokens (specials included) of each side's vocabulary.
            max_target_vocab_size: The target side's, if it differs.
            joint_vocabulary: One vocabulary fitted on both sides, used by both.
            seed: SentencePiece's sampling seed.
        """
        sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
        fit = lambda texts, size: fit_codec(texts, level, lowercase, size, min_count, seed)  # noqa: E731
        if joint_vocabulary:
            if max_target_vocab_size not in (None, max_vocab_size):
                raise ValueError(
                    "A joint vocabulary has one size: set `max_vocab_size`, not "
                    "`max_target_vocab_size`."
                )
            codec = fit(sources + targets, max_vocab_size)
            return cls(codec, codec, max_source_length)
        return cls(
            fit(sources, max_vocab_size),
            fit(targets, max_target_vocab_size or max_vocab_size),
            max_source_length,
        )

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        source = self.source.save(directory, "source")
        config = {
            "source": source,
            "target": source if self.joint else self.target.save(directory, "target"),
            "joint": self.joint,
            "max_source_length": self.max_source_length,
        }
        (directory / TEXT_CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> TextPipeline:
        directory = Path(directory)
        config = json.loads((directory / TEXT_CONFIG).read_text())
        source = load_codec(directory, config["source"], "source")
        joint = config.get("joint", False)
        target = source if joint else load_codec(directory, config["target"], "target")
        return cls(source, target, config["max_source_length"])

    @property
    def resources(self) -> list:
        """The lookup tables / tokenizer models an export tracks."""
        return self.source.resources + ([] if self.joint else self.target.resources)

    def source_tokens(self, texts) -> tf.RaggedTensor:
        return self.source.pieces(texts)[:, : self.max_source_length]

    def encode_source(self, texts) -> tf.Tensor:
        """`string[batch]` -> `int32[batch, Ts]`, 0-padded."""
        return self.source_ids(texts).to_tensor()

    def source_ids(self, texts) -> tf.RaggedTensor:
        return self.source.encode(texts)[:, : self.max_source_length]

    def encode_target(self, texts) -> tuple[tf.Tensor, tf.Tensor]:
        """`string[batch]` -> decoder inputs (`<s>` + ids) and outputs (ids + `</s>`)."""
        ids = self.target.encode(texts)
        eos = tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], EOS_ID))
        target_out = tf.concat([ids, eos], axis=1).to_tensor()
        bos = tf.fill([tf.shape(target_out)[0], 1], BOS_ID)
        target_in = tf.concat([bos, target_out[:, :-1]], axis=1)
        return target_in, target_out

    def decode_target(self, ids) -> tf.Tensor:
        return self.target.decode(ids)

    def target_pieces(self, ids) -> tf.Tensor:
        return self.target.id_to_piece(ids)

    def lengths(self, pairs: list[tuple[str, str]], batch: int = 4096) -> np.ndarray:
        """`int[len(pairs), 2]`: each pair's source and target length in tokens (no `</s>`)."""
        out = []
        for start in range(0, len(pairs), batch):
            chunk = pairs[start : start + batch]
            sources = self.source.encode([s for s, _ in chunk]).row_lengths()
            targets = self.target.encode([t for _, t in chunk]).row_lengths()
            out.append(np.stack([sources.numpy(), targets.numpy()], axis=1))
        return np.concatenate(out) if out else np.zeros([0, 2], "int64")

    def target_counts(self, texts: list[str], batch: int = 4096) -> np.ndarray:
        """`int[target vocabulary]`: how often each id is a decoder output for `texts`
        (their tokens and one `</s>` each)."""
        counts = np.zeros(len(self.target_vocab), "int64")
        for start in range(0, len(texts), batch):
            ids = self.target.encode(texts[start : start + batch]).flat_values.numpy()
            counts += np.bincount(ids, minlength=len(counts))
        counts[EOS_ID] += len(texts)
        return counts

    def dataset(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        pad_to_multiple: int = 1,
        bucket_by_length: bool = False,
    ) -> tf.data.Dataset:
        """`(inputs, target_out, sample_weight)` batches; padding has weight 0.

        With `pad_to_multiple=N`, source and target lengths are padded up to a multiple of N,
        so a compiled (XLA) step sees a bounded set of shapes instead of one per batch. With
        `bucket_by_length`, a batch holds pairs of similar length (less padding) and is padded
        up to its bucket's edge (`BUCKET_BOUNDARIES`; bounded shapes too).
        """

        def pad(ids):
            length = tf.shape(ids)[1]
            if bucket_by_length:
                edges = tf.constant(BUCKET_BOUNDARIES, tf.int32)
                edge = tf.reduce_min(tf.where(edges >= length, edges, tf.int32.max))
                padded = tf.where(edge == tf.int32.max, length, edge)
            else:
                padded = length + (-length % pad_to_multiple)
            return tf.pad(ids, [[0, 0], [0, padded - length]])

        def to_ids(source, target):
            target_in, target_out = (pad(ids) for ids in self.encode_target(target))
            inputs = {"source": pad(self.encode_source(source)), "target_in": target_in}
            return inputs, target_out, tf.cast(target_out != 0, tf.float32)

        columns = ([s for s, _ in pairs], [t for _, t in pairs])
        if bucket_by_length:
            lengths = self.lengths(pairs) + [0, 1]  # the target with its </s>
            columns += (lengths.max(axis=1).astype("int32"),)
        data = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
        if bucket_by_length:
            boundaries = [edge + 1 for edge in BUCKET_BOUNDARIES]  # length <= edge
            data = data.bucket_by_sequence_length(
                lambda source, target, length: length,
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            ).map(lambda source, target, length: (source, target))
            # Each bucket ends with a short batch; stating the count spares Keras a dataset
            # of unknown length (its "ran out of data" warning, a progress bar without total).
            sizes = np.bincount(np.digitize(columns[2], boundaries), minlength=len(boundaries) + 1)
            batches = int(np.sum(-(-sizes // batch_size)))
            data = data.apply(tf.data.experimental.assert_cardinality(batches))
        else:
            data = data.batch(batch_size)
        return data.map(to_ids, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def length_filter(
    text: TextPipeline, pairs: list[tuple[str, str]], max_source: int, max_target: int
) -> tuple[list[tuple[str, str]], int]:
    """`(pairs within the limits, how many were dropped)`; a limit of 0 is no limit."""
    if not max_source and not max_target or not pairs:
        return pairs, 0
    lengths = text.lengths(pairs)
    keep = np.ones(len(pairs), bool)
    if max_source:
        keep &= lengths[:, 0] <= max_source
    if max_target:
        keep &= lengths[:, 1] <= max_target
    return [pair for pair, k in zip(pairs, keep, strict=True) if k], int((~keep).sum())


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
        if keras.backend.backend() == "tensorflow":
            # One trace for every batch size and source length.
            ids = tf.TensorSpec([None, None], tf.int32)
            self._decode = tf.function(self.decode_ids, input_signature=[ids])
            self._decode_text = tf.function(
                lambda source_ids: self.decode_ids(source_ids, with_attention=False),
                input_signature=[ids],
            )
        else:  # the search compiled by the backend, the text ops around it in TF eager
            self._decode = self._compiled_search(with_attention=True)
            self._decode_text = self._compiled_search(with_attention=False)

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

    def _compiled_search(self, with_attention: bool):
        """`decode_ids` for the JAX and PyTorch backends (`zoo.decoding.compiled_search`)."""
        search = decoding.compiled_search(
            self.model, return_attention=with_attention, **self.search
        )

        def decode(source_ids):
            result = search(np.asarray(source_ids))
            out = {
                "translation": self.text.decode_target(tf.constant(result.tokens)),
                "tokens": tf.constant(result.tokens),
                "log_prob": tf.constant(result.log_prob),
                "length": tf.constant(result.length),
            }
            if with_attention:
                out["attention"] = tf.constant(result.attention)
            return out

        return decode

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


def compiles_steps(training: Mapping[str, Any]) -> bool:
    """Whether the training step is XLA-compiled: `jit_compile`, and always on JAX, whose
    Keras trainer runs an uncompiled step op by op (an epoch of `dates` took over 10 minutes
    instead of under one)."""
    return bool(training.get("jit_compile", False)) or keras.backend.backend() == "jax"


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

    def translate_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        """Translations only, in batches (the `serving_default` signature)."""
        serve = self.loaded.signatures["serving_default"]
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            batch = serve(text=tf.constant(texts[start : start + batch_size]))["translation"]
            out += [t.decode("utf-8") for t in batch.numpy()]
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
        return {"translation": out["translation"], "log_prob": out["log_prob"]}

    def attention(self, text):
        source_tokens, out = self._run(text, with_attention=True)
        target_ids = out["tokens"]
        steps = tf.sequence_mask(out["length"], tf.shape(target_ids)[1])
        target_tokens = tf.where(steps, self.translator.text.target_pieces(target_ids), "")
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
    declared = TRANSLATION
    objective = ("val_token_accuracy", "max")
    predict_options = ("beam_size",)
    demo_texts = {
        "dates": ["3 de marzo de 2015", "Samstag, 14. Juli 1990", "2031年12月1日"],
        "bible-es-en": [
            "Y dijo Dios: Sea la luz: y fué la luz.",
            "Bienaventurados los pacificadores: porque ellos serán llamados hijos de Dios.",
        ],
    }

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> ParallelCorpus:
        if data == "bible-es-en" and settings["split_seed"] != 0:
            raise ValueError(
                "bible-es-en holds out fixed books (zoo.data.bible.TEST_BOOKS), so `split_seed` "
                "does not apply to it; leave it at 0."
            )
        return load_translation(
            data,
            seed=settings["split_seed"],
            columns=(settings["source_column"], settings["target_column"]),
            validation=validation,
            test=test,
        )

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        columns = (settings.get("source_column", 1), settings.get("target_column", 2))
        if data in TRANSLATION_DATASETS:
            return self.load_data(data, settings).test
        path = Path(data)
        return read_parallel_tsv(path / "test.tsv" if path.is_dir() else path, *columns)

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
            max_target_vocab_size=training["max_target_vocab_size"] or None,
            joint_vocabulary=training["joint_vocabulary"],
            seed=training["seed"],
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
            jit_compile=compiles_steps(training),
        )

    def datasets(self, text: TextPipeline, corpus: ParallelCorpus, training: dict) -> tuple:
        train, validation, report = self.filtered(text, corpus, training)
        if report:
            print(f"Length filter: {report['summary']}")
        options = {
            "pad_to_multiple": 8 if compiles_steps(training) else 1,
            "bucket_by_length": training["bucket_by_length"],
        }
        batch_size = training["batch_size"]
        return (
            text.dataset(train, batch_size, shuffle=True, seed=training["seed"], **options),
            text.dataset(validation, batch_size, **options),
        )

    def initialize(
        self, model: keras.Model, text: TextPipeline, corpus: ParallelCorpus, training: dict
    ) -> None:
        """`output_bias="unigram"`: the output layer starts out predicting the training
        targets' token frequencies (add-one smoothed).

        From a zero bias, the cheapest early gain is to learn those frequencies, which a bias
        does slowly (Adam moves it ~`learning_rate` a step) and the hidden layers fast, by
        pushing their tanh units to one constant, saturated vector. Then the gradient below
        the output layer vanishes and the model predicts the same distribution whatever the
        input, for good: `lstm_bahdanau_nmt` on bible-es-en (8,000 pieces) stopped learning
        within its first 30 steps and stayed at the unigram loss for the 3 epochs it was
        watched. Starting from the frequencies leaves nothing to gain that way.
        """
        if training["output_bias"] == "zeros":
            return
        counts = text.target_counts([target for _, target in corpus.train]) + 1
        model.output_projection.bias.assign(np.log(counts / counts.sum()).astype("float32"))

    def filtered(self, text: TextPipeline, corpus: ParallelCorpus, training: dict) -> tuple:
        """`(train, validation, report)`: the pairs within the training length limits; the
        report (empty without limits) says how many of each were dropped."""
        limits = training["max_train_source_length"], training["max_train_target_length"]
        if not any(limits):
            return corpus.train, corpus.validation, {}
        train, train_dropped = length_filter(text, corpus.train, *limits)
        validation, validation_dropped = length_filter(text, corpus.validation, *limits)
        rule = " and ".join(
            f"{side} <= {limit} tokens"
            for side, limit in zip(("source", "target"), limits, strict=True)
            if limit
        )
        if not train or not validation:
            raise ValueError(
                f"No {'training' if not train else 'validation'} pair has {rule}; raise "
                "max_train_source_length / max_train_target_length (0 keeps every pair)."
            )
        report = {
            "rule": rule,
            "train_dropped": train_dropped,
            "train_kept": len(train),
            "validation_dropped": validation_dropped,
            "validation_kept": len(validation),
        }
        report["summary"] = (
            f"kept pairs with {rule}: dropped {train_dropped} of "
            f"{len(corpus.train)} training and {validation_dropped} of "
            f"{len(corpus.validation)} validation pairs (the test set is kept whole)"
        )
        return train, validation, report

    def evaluate(
        self, run: Path, model: keras.Model, text: TextPipeline, corpus: ParallelCorpus, training
    ) -> dict:
        translator = self.predictor(model, text, training)
        metrics = self.score(translator, corpus.test, run / self.predictions_file)
        _, _, report = self.filtered(text, corpus, training)
        if report:
            metrics["length_filter"] = report
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
