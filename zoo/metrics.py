"""Task metrics, computed with the field's reference implementations (sacrebleu for BLEU/chrF)."""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu

# Upper edges of the source-length buckets (tokens); the last bucket is open-ended.
LENGTH_BUCKETS = (10, 20, 30, 40, 60)


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


def _check_aligned(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses for {len(references)} references; they must pair up."
        )
    if not references:
        raise ValueError("No references to score against.")
