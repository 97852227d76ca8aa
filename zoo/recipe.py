"""What every recipe script does after stating its hyperparameters: train, report, demo.

Recipes (`recipes/<model>.py`) hold the paper's setup; this module holds the shared steps so
the scripts stay short and identical in behaviour.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEMO_TEXTS = {
    "dates": ["3 de marzo de 2015", "Samstag, 14. Juli 1990", "2031年12月1日"],
    "rt-polarity": [
        "A gripping, beautifully acted thriller that never lets go.",
        "Tedious, clumsy and far too long; the jokes fall flat.",
    ],
}


def run_recipe(
    name: str, hparams: dict[str, Any], doc: str, argv: Sequence[str] | None = None
) -> Path:
    """Trains `name` with `hparams` (command-line flags override), prints metrics and a demo.

    Returns:
        The run directory.
    """
    import zoo
    from zoo.cli import print_metrics
    from zoo.training import load_hparams, train

    spec = zoo.spec(name)
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=spec.default_data, help="dataset name or file path")
    parser.add_argument("--epochs", type=int, default=hparams.get("epochs"))
    parser.add_argument("--hparams", help="JSON file overriding the recipe's hyperparameters")
    parser.add_argument("--runs-root", default="runs")
    parser.add_argument("--new", action="store_true", help="do not resume an unfinished run")
    args = parser.parse_args(argv)

    settings = {**hparams, **(load_hparams(args.hparams) if args.hparams else {})}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    print(f"{name}: {spec.description}\nsettings: {json.dumps(settings)}")
    run = train(name, args.data, runs_root=args.runs_root, resume=not args.new, **settings)
    print_metrics(run)
    texts = DEMO_TEXTS.get(args.data)
    if texts:
        demo = _translation_demo if spec.task == "translation" else _classification_demo
        demo(run, texts)
    return run


def _translation_demo(run: Path, texts: list[str]) -> None:
    from zoo.plots import attention_heatmap
    from zoo.translation import Translator

    translator = Translator.load(run)
    out = translator.translate(texts)
    for i, (text, translation) in enumerate(zip(texts, out["translation"], strict=True)):
        print(f"  {text!r} -> {translation!r}")
        if translator.model.attention is not None:
            png = attention_heatmap(
                out["attention"][i],
                out["source_tokens"][i],
                out["target_tokens"][i],
                run / f"demo_attention_{i}.png",
                title=f"{text} -> {translation}",
            )
            print(f"    attention map: {png}")


def _classification_demo(run: Path, texts: list[str]) -> None:
    from zoo.classification import Classifier, save_explanations

    classifier = Classifier.load(run)
    out = classifier.classify(texts)
    for text, label, probabilities in zip(texts, out["label"], out["probabilities"], strict=True):
        print(f"  {text!r} -> {label} ({probabilities.max():.0%})")
    for path in save_explanations(classifier, texts, run / "demo_attention"):
        print(f"    explanation: {path}")
