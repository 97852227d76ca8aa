"""Text classification's test metrics: accuracy, macro-F1 and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

from zoo.metrics import classification_metrics
from zoo.runs import write_table
from zoo.tasks.classification.predictor import Classifier


def evaluate_classifier(
    classifier: Classifier, examples: list[tuple[str, str]], predictions: Path | None = None
) -> dict:
    """Accuracy, macro-F1 and the confusion matrix of `classifier` on `(text, label)` pairs;
    with `predictions`, also writes `text<TAB>label<TAB>predicted` lines there."""
    labels = classifier.text.labels
    truth = [label for _, label in examples]
    classifier.text.label_ids(truth, where="test set: ")
    texts = [text for text, _ in examples]
    predicted = classifier.classify_all(texts)
    if predictions is not None:
        write_table(predictions, ["text", "label", "predicted"],
                    zip(texts, truth, predicted, strict=True))  # fmt: skip
    return classification_metrics(truth, predicted, labels)
