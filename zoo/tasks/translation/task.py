"""Translation as a task: parallel text, teacher forcing, a loss per real target token,
BLEU / chrF / exact match; the hooks `zoo.training`, `zoo.serving` and the CLI call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import plots
from zoo.data import TRANSLATION_DATASETS, ParallelCorpus, load_translation, read_parallel_tsv
from zoo.data.padding import PaddingPlan
from zoo.data.placeholders import resolve_patterns
from zoo.data.tokenization import check_keep_whitespace
from zoo.tasks.base import TextTask, compiles_steps
from zoo.tasks.translation.pipeline import TextPipeline, length_filter
from zoo.tasks.translation.predictor import ExportedTranslator, Translator
from zoo.tasks.translation.scoring import evaluate_translator, save_attention_maps
from zoo.tasks.translation.serving import TranslationServing
from zoo.tasks.translation.settings import SETTINGS


class TranslationTask(TextTask):
    """Parallel text, teacher forcing, a loss per real target token, BLEU / chrF / exact match."""

    name = "translation"
    declared = SETTINGS
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
        # Settings the pipeline would refuse, refused before a run directory is made.
        resolve_patterns(settings["placeholders"])
        check_keep_whitespace(settings["token_level"], settings["keep_whitespace"])
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
            placeholders=training["placeholders"],
            keep_whitespace=training["keep_whitespace"],
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
        batch_size = training["batch_size"]
        padding = self.padding(text, train, training)
        if padding.source_edges:
            print(f"Padding from the data: {padding.describe()}")
        return (
            text.dataset(train, batch_size, shuffle=True, seed=training["seed"], padding=padding),
            text.dataset(validation, batch_size, padding=padding),
        )

    def padding(self, text: TextPipeline, train: list, training: dict) -> PaddingPlan:
        """How training batches are bucketed and padded (the same plan for a run's seed)."""
        return text.padding_plan(
            train,
            training["batch_size"],
            bucket_by_length=training["bucket_by_length"],
            compiled=compiles_steps(training),
            seed=training["seed"],
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
        counts = text.target_counts([target for _, target in text.mask_pairs(corpus.train)]) + 1
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
        train, _, report = self.filtered(text, corpus, training)
        if report:
            metrics["length_filter"] = report
        padding = self.padding(text, train, training)
        if padding.source_edges:  # a compiled step: its shapes and wasted steps
            metrics["padding"] = dataclasses.asdict(padding)
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
