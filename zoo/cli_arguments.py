"""The `zoo` command's arguments: one subcommand each for list, describe, train, tune,
evaluate, translate, export and predict (`zoo.cli` runs them)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="lstm-zoo: LSTM models with attention, ready to train and serve."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("list", help="list the registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    p.add_argument("--task", help="only models of this task")
    p.add_argument("--markdown", action="store_true", help="print the README's model table")

    p = commands.add_parser("describe", help="show a model's spec and defaults")
    p.add_argument("name")
    add_preset_option(p)

    p = commands.add_parser("train", help="train a model; rerun the same command to resume")
    p.add_argument("name", help="registered model name (see `zoo list`)")
    p.add_argument("--data", help="dataset name or path to a data file (default: the model's)")
    add_held_out_options(p)
    p.add_argument("--epochs", type=int, help="maximum number of epochs")
    p.add_argument("--time-budget", metavar="DURATION", help="finish the run after e.g. 30m")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, help="initialization seed (the data split: split_seed)")
    p.add_argument("--hparams", help="JSON file of hyperparameters (e.g. best_hparams.json)")
    add_preset_option(p)
    p.add_argument(
        "--init-from",
        metavar="RUN",
        help="fine-tune: start from this finished run's weights (same model; its architecture, "
        "vocabularies and scaling are kept; --set changes training settings only)",
    )
    p.add_argument("--runs-root", default="runs", help="where run directories go (default: runs)")
    p.add_argument("--run-dir", help="use (or resume) exactly this run directory")
    p.add_argument("--new", action="store_true", help="start a new run even if one is unfinished")
    add_distribution_options(p)
    add_set_option(p, "override one hyperparameter (JSON value), e.g. --set units=256")

    p = commands.add_parser("tune", help="search hyperparameters with keras-tuner")
    p.add_argument("name", help="registered model name (see `zoo list`)")
    p.add_argument("--data", help="dataset name or path to a data file (default: the model's)")
    add_held_out_options(p, test=False)
    p.add_argument("--tuner", default="random", choices=["random", "bayesian", "hyperband"])
    p.add_argument("--max-trials", type=int, default=10)
    p.add_argument("--epochs-per-trial", type=int, default=3)
    p.add_argument("--time-budget", metavar="DURATION", help="start no trial after e.g. 2h")
    p.add_argument("--dir", help="search state and best_hparams.json (default: runs/tune/NAME)")
    p.add_argument("--overwrite", action="store_true", help="start over instead of continuing")
    p.add_argument("--chief", metavar="HOST:PORT", help="serve the search to workers")
    p.add_argument("--worker", metavar="HOST:PORT", help="run trials for the chief at HOST:PORT")
    p.add_argument("--worker-id", help="a name unique among the workers")
    waits = "seconds a worker waits for its chief (default: 120)"
    p.add_argument("--connect-timeout", type=float, default=120.0, help=waits)
    add_distribution_options(p, modes=("mirrored",))
    add_set_option(p, "fix one setting instead of searching it, e.g. --set units=64")

    p = commands.add_parser("evaluate", help="print (or recompute) a run's test metrics")
    p.add_argument("run_dir")
    p.add_argument(
        "--data",
        help="score on this dataset's test split, or on this file (a forecaster scores its "
        "own series after the part it trained on)",
    )
    p.add_argument("--beam-size", type=int, help="beam width (models that search)")
    p.add_argument(
        "--words",
        metavar="FILE",
        help="recognizers that spell (lstm_las_asr): write only the words of this list",
    )
    p.add_argument(
        "--include-training-span",
        action="store_true",
        help="forecasters: also score the part of the run's own series it trained on",
    )

    p = commands.add_parser("translate", help="translate a text file line by line")
    p.add_argument("run_dir", help="a translation run directory, or its export")
    p.add_argument("--input", required=True, metavar="FILE", help="UTF-8 text, one sentence a line")
    p.add_argument("--output", required=True, metavar="FILE", help="translations, line by line")
    p.add_argument("--beam-size", type=int, help="beam width (run directories; default: the run's)")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    p.add_argument(
        "--n-best",
        type=int,
        metavar="K",
        help="write the K best translations of each line, scored, as a JSON list",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="start --output over instead of continuing it"
    )

    p = commands.add_parser("export", help="export a run as a new TF Serving version")
    p.add_argument("run_dir", help="a run directory written by `zoo train`")
    p.add_argument("--root", default="saved_models", help="model repository (saved_models)")
    p.add_argument("--version", type=int, help="version number (default: the next one)")
    p.add_argument("--beam-size", type=int, help="beam width served (default: the run's)")
    p.add_argument(
        "--words",
        metavar="FILE",
        help="recognizers that spell (lstm_las_asr): write only the words of this list",
    )

    p = commands.add_parser("predict", help="predict with a run or an export")
    p.add_argument("run_dir", help="a run directory, or an exported SavedModel (or its model dir)")
    p.add_argument(
        "inputs",
        nargs="*",
        help="inputs of the model's task (texts; CSV files for forecasters; WAV files for "
        "recognizers)",
    )
    p.add_argument(
        "--csv",
        action="append",
        default=[],
        metavar="FILE",
        help="a forecaster's recent data: history rows, then future rows with an empty target",
    )
    p.add_argument(
        "--beam-size", type=int, help="beam width (run directories of models that search)"
    )
    p.add_argument(
        "--words",
        metavar="FILE",
        help="recognizers that spell (lstm_las_asr): write only the words of this list",
    )
    p.add_argument("--attention-png", help="save the first input's attention map here")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def add_distribution_options(
    parser: argparse.ArgumentParser, modes: Sequence[str] = ("mirrored", "multi-worker")
) -> None:
    parser.add_argument(
        "--distribute",
        choices=modes,
        help="data-parallel training: mirrored over this machine's devices"
        + (", or multi-worker over the machines of TF_CONFIG" if "multi-worker" in modes else ""),
    )
    parser.add_argument(
        "--devices",
        metavar="N|cpu:N",
        help="mirrored: the first N GPUs (default: all), or N logical CPU devices (cpu:N)",
    )


def add_held_out_options(parser: argparse.ArgumentParser, test: bool = True) -> None:
    parser.add_argument(
        "--validation-data",
        metavar="FILE",
        help="your own validation set (same format as --data; default: cut from --data; not for "
        "forecasting, which splits its series by time)",
    )
    if test:
        parser.add_argument(
            "--test-data",
            metavar="FILE",
            help="your own test set (same format as --data; default: cut from --data; not for "
            "forecasting, which splits its series by time)",
        )


def add_preset_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        help="a study's named training settings, e.g. bible-es-en (zoo/presets.py); --hparams "
        "and --set override them, and --data defaults to the study's dataset",
    )


def add_set_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)
