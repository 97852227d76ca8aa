"""Translation's test metrics (BLEU, chrF, exact match, BLEU by source length) and the attention
maps a run draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo import plots
from zoo.metrics import translation_metrics
from zoo.runs import write_table
from zoo.tasks.translation.pipeline import TextPipeline
from zoo.tasks.translation.predictor import Translator


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
