"""What every recipe script does after stating its setup: train, report, demo.

Recipes (`recipes/<model>.py`) document the paper's setup and state only what they change
from the registry entry's defaults; this module holds the shared steps so the scripts stay
short and identical in behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def run_recipe(
    name: str,
    doc: str,
    changes: dict[str, Any] | None = None,
    argv: Sequence[str] | None = None,
    data: str | None = None,
) -> Path:
    """Trains `name` with its defaults and `changes` (command-line flags override), prints the
    test metrics and a demo. `data`: the recipe's dataset (default: the entry's).

    Returns:
        The run directory.
    """
    import zoo
    from zoo.evaluation import format_metrics
    from zoo.settings import load_hparams, resolve_settings
    from zoo.startup import start_tensorflow_quietly
    from zoo.tasks import get_task, task_settings

    spec = zoo.spec(name)  # resolved once, handed on
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=data or spec.default_data, help="dataset or file")
    parser.add_argument("--epochs", type=int, help="maximum number of epochs")
    parser.add_argument("--seed", type=int, help="initialization seed (default 0)")
    parser.add_argument("--split-seed", type=int, help="seed of the data split (default 0)")
    parser.add_argument("--hparams", help="JSON file overriding the recipe's hyperparameters")
    parser.add_argument("--runs-root", default="runs")
    parser.add_argument("--new", action="store_true", help="do not resume an unfinished run")
    args = parser.parse_args(argv)
    # As quiet as the CLI: TensorFlow's GPU probing on a machine without one is dropped.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start_tensorflow_quietly()

    settings = {**(changes or {}), **(load_hparams(args.hparams) if args.hparams else {})}
    for key in ("epochs", "seed", "split_seed"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    model_args, training = resolve_settings(spec, args.data, settings)
    print(f"{name}: {spec.description}")
    # Sizes the data fixes (vocabularies, labels, features) are only known once it is read:
    # printing the entry's placeholders for them would mislead.
    sized_by_data = task_settings(spec.task).sized_by_data
    shown = {k: v for k, v in {**spec.defaults, **model_args}.items() if k not in sized_by_data}
    from_data = f" ({', '.join(sorted(sized_by_data))}: from the data)" if sized_by_data else ""
    print(f"model: {json.dumps(shown)}{from_data}")
    print(f"training: {json.dumps(training)}")
    run = zoo.train(spec, args.data, runs_root=args.runs_root, resume=not args.new, **settings)
    print(f"run: {run}")
    print(format_metrics(run, zoo.evaluate(run)))
    task = get_task(spec.task)
    inputs = task.demo_inputs(args.data)
    if inputs:
        predictor = task.load_predictor(run)
        for i, row in enumerate(task.predict(predictor, inputs)):
            print(f"  {task.format_row(row)}")
            png = task.plot_attention(predictor, inputs[i], run / f"demo_attention_{i}.png")
            if png:
                print(f"    attention map: {png}")
    return run
