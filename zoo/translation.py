"""Translation as a task: text pipelines, a `Translator` that goes from text to text, metrics.

The same TensorFlow functions turn text into ids for the training pipeline, for `predict`
and inside the exported SavedModel, so the three cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo import decoding, plots
from zoo.data import ParallelCorpus, load_translation
from zoo.data.tokenization import TokenIds, Tokenizer
from zoo.data.vocabulary import BOS_ID, Vocabulary
from zoo.metrics import translation_metrics
from zoo.task import TextTask, load_trained_model

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
        self, pairs: list[tuple[str, str]], batch_size: int, shuffle: bool = False, seed: int = 0
    ) -> tf.data.Dataset:
        """`(inputs, target_out, sample_weight)` batches; padding has weight 0."""
        sources = tf.constant([s for s, _ in pairs])
        targets = tf.constant([t for _, t in pairs])
        data = tf.data.Dataset.from_tensor_slices((sources, targets))
        if shuffle:
            data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

        def to_ids(source, target):
            target_in, target_out = self.encode_target(target)
            inputs = {"source": self.encode_source(source), "target_in": target_in}
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
        self._decode = tf.function(self.decode_ids, reduce_retracing=True)

    @classmethod
    def load(cls, run_dir: str | Path, **search) -> Translator:
        """The translator saved in a training run directory (`model.keras` + vocabularies)."""
        model = load_trained_model(run_dir)
        return cls(model, TextPipeline.load(run_dir), **search)

    def decode_ids(self, source_ids):
        result = decoding.beam_search(self.model, source_ids, **self.search)
        return {
            "translation": self.text.decode_target(result.tokens),
            "tokens": result.tokens,
            "log_prob": result.log_prob,
            "attention": result.attention,
            "length": result.length,
        }

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
            batch = self._decode(ids)["translation"].numpy()
            out += [t.decode("utf-8") for t in batch]
        return out


def source_lengths(text: TextPipeline, sources: list[str]) -> np.ndarray:
    return text.source_tokens(sources).row_lengths().numpy()


def evaluate_translator(translator: Translator, pairs: list[tuple[str, str]]) -> dict:
    """Test-set metrics of `translator` on `(source, reference)` pairs."""
    sources = [s for s, _ in pairs]
    references = [t for _, t in pairs]
    hypotheses = translator.translate_all(sources)
    return translation_metrics(hypotheses, references, source_lengths(translator.text, sources))


def save_attention_maps(translator: Translator, sources: list[str], directory: Path) -> list[Path]:
    """Heatmaps of the attention of `sources`, one PNG each (none for attention-free models)."""
    if translator.model.attention is None:
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


class TranslationTask(TextTask):
    """Translation for the training loop: parallel text, teacher forcing, BLEU and friends."""

    objective = "val_token_accuracy"
    token_level = {"dates": "char"}  # other data is word-level unless told

    def default_settings(self, data: str) -> dict:
        return {"token_level": self.token_level.get(data, "word")}

    def load_data(self, data: str, seed: int) -> ParallelCorpus:
        return load_translation(data, seed=seed)

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
        # Padding positions have sample weight 0, so the accuracy is over real tokens.
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")
        self.compile_with(model, training, weighted_metrics=[accuracy])

    def examples(self, corpus: ParallelCorpus) -> list[str]:
        return [source for source, _ in corpus.validation]

    def evaluate(
        self, run: Path, model: keras.Model, text: TextPipeline, corpus: ParallelCorpus, training
    ) -> dict:
        translator = Translator(
            model, text, beam_size=training["beam_size"], length_penalty=training["length_penalty"]
        )
        metrics = evaluate_translator(translator, corpus.test)
        sources = self.examples(corpus)[: training["attention_examples"]]
        save_attention_maps(translator, sources, run / "attention")
        return metrics
