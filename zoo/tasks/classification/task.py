"""Text classification as a task: labelled text, cross-entropy, accuracy / macro-F1, attention
explanations; the hooks `zoo.training`, `zoo.serving` and the CLI call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from zoo import plots
from zoo.data import (
    CLASSIFICATION_DATASETS,
    LabelledCorpus,
    load_classification,
    read_labelled_file,
)
from zoo.tasks.base import TextTask, compiles_steps
from zoo.tasks.classification.explanations import integrated_gradients, save_explanations
from zoo.tasks.classification.pipeline import LabelPipeline
from zoo.tasks.classification.predictor import Classifier, ExportedClassifier
from zoo.tasks.classification.scoring import evaluate_classifier
from zoo.tasks.classification.serving import ClassificationServing
from zoo.tasks.classification.settings import SETTINGS


class ClassificationTask(TextTask):
    """Labelled text, cross-entropy, accuracy / macro-F1, attention explanations."""

    name = "classification"
    declared = SETTINGS
    objective = ("val_accuracy", "max")
    # Validation loss keeps rising on these small sets while accuracy still improves.
    monitor = ("val_accuracy", "max")
    demo_texts = {
        "rt-polarity": [
            "A gripping, beautifully acted thriller that never lets go.",
            "Tedious, clumsy and far too long; the jokes fall flat.",
        ]
    }

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> LabelledCorpus:
        return load_classification(
            data, seed=settings["split_seed"], validation=validation, test=test
        )

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        if data in CLASSIFICATION_DATASETS:
            return load_classification(data, seed=settings["split_seed"]).test
        return read_labelled_file(data)

    def fit_pipeline(self, corpus: LabelledCorpus, training: dict) -> LabelPipeline:
        return LabelPipeline.fit(
            corpus.train,
            lowercase=training["lowercase"],
            max_vocab_size=training["max_vocab_size"],
            max_length=training["max_source_length"],
            min_count=training["min_count"],
        )

    def load_pipeline(self, run: Path) -> LabelPipeline:
        return LabelPipeline.load(run)

    def model_sizes(self, text: LabelPipeline) -> dict:
        return {"vocab_size": len(text.vocab), "num_classes": len(text.labels)}

    def datasets(self, text: LabelPipeline, corpus: LabelledCorpus, training: dict) -> tuple:
        """Shuffled training batches and validation batches; for a compiled step (JAX, or
        `jit_compile`) padded to a few lengths chosen from the training texts, so that it
        compiles a few times rather than once per batch length."""
        batch_size = training["batch_size"]
        edges = ()
        if compiles_steps(training):
            edges = text.padding_edges(corpus.train, batch_size, training["seed"])
            print(f"Padding from the data: texts padded to {list(edges)} tokens")
        return (
            text.dataset(
                corpus.train, batch_size, shuffle=True, seed=training["seed"], edges=edges
            ),
            text.dataset(corpus.validation, batch_size, edges=edges),
        )

    def compile(self, model: keras.Model, training: dict) -> None:
        self.compile_with(
            model,
            training,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )  # jit_compile "auto": XLA on JAX (and on TensorFlow with a GPU)

    def evaluate(
        self, run: Path, model: keras.Model, text: LabelPipeline, corpus: LabelledCorpus, training
    ) -> dict:
        classifier = Classifier(model, text)
        metrics = self.score(classifier, corpus.test, run / self.predictions_file)
        texts = [t for t, _ in corpus.test[: training["attention_examples"]]]
        save_explanations(classifier, texts, run / "attention")
        return metrics

    def score(
        self, classifier: Classifier, examples: list, predictions: Path | None = None
    ) -> dict:
        return evaluate_classifier(classifier, examples, predictions)

    def format_metrics(self, metrics: dict) -> str:
        lines = [
            f"test: accuracy {metrics['accuracy']:.2%}  macro-F1 {metrics['macro_f1']:.3f}  "
            f"({metrics['count']} examples)"
        ]
        labels = metrics["labels"]
        width = max(len(label) for label in labels)
        lines.append(f"  confusion (rows: true, columns: predicted {labels})")
        for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
            lines.append(f"  {label:>{width}s}: {row}")
        return "\n".join(lines)

    def predictor(self, model: keras.Model, text: LabelPipeline, options: Mapping) -> Classifier:
        return Classifier(model, text)

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedClassifier:
        return ExportedClassifier(loaded, about["labels"])

    def predict(self, classifier: Classifier | ExportedClassifier, texts: list[str]) -> list[dict]:
        out = classifier.classify(texts)
        return [
            {
                "text": text,
                "label": label,
                "probabilities": dict(zip(classifier.labels, map(float, p), strict=True)),
            }
            for text, label, p in zip(texts, out["label"], out["probabilities"], strict=True)
        ]

    def format_row(self, row: dict) -> str:
        return f"{row['text']}\t{row['label']}\t{max(row['probabilities'].values()):.3f}"

    def plot_attention(self, classifier, text: str, path: Path) -> Path | None:
        out = classifier.classify([text])
        weights = out["attention"][0]
        title = f"predicted {out['label'][0]}"
        shown = weights if weights.size else None
        if isinstance(classifier, Classifier):  # the model is here: attributions too
            (attributions,) = integrated_gradients(classifier, [text])
            return plots.explanation(out["tokens"][0], attributions, path, title, shown)
        if shown is None:
            return None  # an exported max-pooling baseline: nothing to draw
        heads = [f"head {h + 1}" for h in range(weights.shape[0])]
        return plots.attention_heatmap(
            weights, out["tokens"][0], heads, path, title, "token", "head"
        )

    def serving_archive(self, classifier: Classifier) -> keras.export.ExportArchive:
        return ClassificationServing(classifier).archive()

    def about(self, classifier: Classifier) -> dict:
        return {"labels": classifier.text.labels}


TASK = ClassificationTask()
