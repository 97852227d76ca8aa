"""Task metrics, computed with the field's reference implementations (sacrebleu for BLEU/chrF,
jiwer for CER/WER) or, for forecasts, in numpy from their textbook definitions (Hyndman &
Athanasopoulos, FPP3)."""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
import numpy as np
import sacrebleu

# Upper edges of the source-length buckets (tokens); the last bucket is open-ended.
LENGTH_BUCKETS = (10, 20, 30, 40, 60)
# Utterance lengths in words (lowest, highest) for CER / WER by length.
WORD_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, None))


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of hypotheses identical to their reference."""
    _check_aligned(hypotheses, references)
    return sum(h == r for h, r in zip(hypotheses, references, strict=True)) / len(references)


def translation_metrics(
    hypotheses: Sequence[str],
    references: Sequence[str],
    source_lengths: Sequence[int],
    buckets: Sequence[int] = LENGTH_BUCKETS,
) -> dict:
    """Exact match, corpus BLEU and chrF, and the same by source-length bucket.

    Returns:
        `{"exact_match", "bleu", "chrf", "count", "by_source_length": [{"bucket", "count",
        "exact_match", "bleu", "chrf"}, ...]}`; empty buckets are left out.
    """
    _check_aligned(hypotheses, references)
    if len(source_lengths) != len(references):
        raise ValueError("`source_lengths` must have one entry per reference.")
    result = _scores(hypotheses, references)
    result["by_source_length"] = []
    lower = 0
    for upper in (*buckets, None):
        members = [
            i for i, n in enumerate(source_lengths) if n >= lower and (upper is None or n < upper)
        ]
        if members:
            label = f"{lower}-{upper - 1}" if upper is not None else f"{lower}+"
            scores = _scores([hypotheses[i] for i in members], [references[i] for i in members])
            result["by_source_length"].append({"bucket": label, **scores})
        lower = upper
    return result


def _scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    return {
        "count": len(references),
        "exact_match": exact_match(hypotheses, references),
        "bleu": sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score,
        "chrf": sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score,
    }


def speech_metrics(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """CER and WER (jiwer), exact match, and the same by utterance length in words.

    Returns:
        `{"cer", "wer", "exact_match", "count", "by_length": {"1": {...}, "2": ..., "3-4": ...,
        "5+": ...}}`; empty buckets are left out.
    """
    _check_aligned(hypotheses, references)
    result = _error_rates(hypotheses, references)
    words = [len(r.split()) for r in references]
    result["by_length"] = {}
    for low, high in WORD_BUCKETS:
        members = [i for i, n in enumerate(words) if n >= low and (high is None or n <= high)]
        if members:
            label = f"{low}+" if high is None else f"{low}" if low == high else f"{low}-{high}"
            result["by_length"][label] = _error_rates(
                [hypotheses[i] for i in members], [references[i] for i in members]
            )
    return result


def _error_rates(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    return {
        "cer": float(jiwer.cer(list(references), list(hypotheses))),
        "wer": float(jiwer.wer(list(references), list(hypotheses))),
        "exact_match": exact_match(hypotheses, references),
        "count": len(references),
    }


def _check_aligned(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses for {len(references)} references; they must pair up."
        )
    if not references:
        raise ValueError("No references to score against.")


def classification_metrics(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict:
    """Accuracy, macro-F1, per-label precision / recall / F1 and the confusion matrix.

    The confusion matrix is `confusion[true][predicted]`, counts, in `labels` order. A label
    never predicted and never true gets F1 0 (it is still part of the macro average).
    """
    _check_aligned(predicted, truth)
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t]][index[p]] += 1
    per_label = {}
    for i, label in enumerate(labels):
        true_positive = confusion[i][i]
        predicted_count = sum(row[i] for row in confusion)
        true_count = sum(confusion[i])
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / true_count if true_count else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "count": true_count}
    return {
        "count": len(truth),
        "accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth),
        "macro_f1": sum(v["f1"] for v in per_label.values()) / len(labels),
        "per_label": per_label,
        "labels": list(labels),
        "confusion_matrix": confusion,
    }


def forecast_metrics(
    actual: np.ndarray,
    point: np.ndarray,
    scale: float | np.ndarray,
    quantiles: np.ndarray | None = None,
    levels: Sequence[float] = (),
) -> dict:
    """Point and probabilistic accuracy of forecasts `[windows, horizon]`.

    Args:
        actual: The observed values.
        point: The point forecasts.
        scale: MASE's denominator, the in-sample MAE of a seasonal naive forecast: one, or
            one per window (`[windows, 1]`: each series of a panel in its own scale).
        quantiles: Optional quantile forecasts `[windows, horizon, len(levels)]`.
        levels: The quantiles' probabilities, increasing.

    Returns:
        `{"count", "mae", "rmse", "smape" (percent), "mase", "mae_by_lead" (one per step)}` and
        with quantiles also `"pinball"` (mean over levels) and `"coverage"`, the share of
        actual values inside the outermost quantiles, whose nominal level is `"interval"`.
    """
    actual, point = np.asarray(actual, "float64"), np.asarray(point, "float64")
    if actual.shape != point.shape or actual.ndim != 2 or not actual.size:
        raise ValueError(
            f"actual {actual.shape} and point {point.shape} must be the same non-empty "
            "[windows, horizon] shape."
        )
    error = point - actual
    result = {
        "count": int(actual.shape[0]),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "smape": float(
            100 * np.mean(2 * np.abs(error) / np.maximum(np.abs(actual) + np.abs(point), 1e-12))
        ),
        "mase": float(np.mean(np.abs(error) / scale)),
        "mae_by_lead": [float(v) for v in np.mean(np.abs(error), axis=0)],
    }
    if quantiles is not None:
        quantiles = np.asarray(quantiles, "float64")
        levels_array = np.asarray(levels, "float64")
        residual = actual[..., None] - quantiles
        pinball = np.maximum(levels_array * residual, (levels_array - 1) * residual)
        inside = (actual >= quantiles[..., 0]) & (actual <= quantiles[..., -1])
        result.update(
            {
                "pinball": float(np.mean(pinball)),
                "coverage": float(np.mean(inside)),
                "interval": float(levels_array[-1] - levels_array[0]),
            }
        )
    return result
