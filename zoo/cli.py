"""The `zoo` command: list | describe | train | tune | evaluate | export | predict."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: quiet start-up

EXPECTED_ERRORS = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    NotImplementedError,
    OSError,
    RuntimeError,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except EXPECTED_ERRORS as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; rerun the same command to resume training.", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="lstm-zoo: LSTM models with attention, ready to train and serve."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("list", help="list the registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    p.add_argument("--task", help="only models of this task")
    p.add_argument("--markdown", action="store_true", help="print the README's model table")
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser("describe", help="show a model's spec and defaults")
    p.add_argument("name")
    p.set_defaults(handler=cmd_describe)

    p = commands.add_parser("train", help="train a model; rerun the same command to resume")
    p.add_argument("name", help="registered model name (see `zoo list`)")
    p.add_argument("--data", help="dataset name or path to a data file (default: the model's)")
    p.add_argument("--epochs", type=int, help="maximum number of epochs")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--hparams", help="JSON file of hyperparameters (e.g. best_hparams.json)")
    p.add_argument("--runs-root", default="runs", help="where run directories go (default: runs)")
    p.add_argument("--run-dir", help="use (or resume) exactly this run directory")
    p.add_argument("--new", action="store_true", help="start a new run even if one is unfinished")
    add_set_option(p, "override one hyperparameter (JSON value), e.g. --set units=256")
    p.set_defaults(handler=cmd_train)

    p = commands.add_parser("tune", help="search hyperparameters with keras-tuner")
    p.add_argument("name", help="registered model name (see `zoo list`)")
    p.add_argument("--data", help="dataset name or path to a data file (default: the model's)")
    p.add_argument("--tuner", default="random", choices=["random", "bayesian", "hyperband"])
    p.add_argument("--max-trials", type=int, default=10)
    p.add_argument("--epochs-per-trial", type=int, default=3)
    p.add_argument("--dir", help="search state and best_hparams.json (default: runs/tune/NAME)")
    p.add_argument("--overwrite", action="store_true", help="start over instead of continuing")
    p.add_argument("--chief", metavar="HOST:PORT", help="serve the search to workers")
    p.add_argument("--worker", metavar="HOST:PORT", help="run trials for the chief at HOST:PORT")
    p.add_argument("--worker-id", help="a name unique among the workers")
    add_set_option(p, "fix one setting instead of searching it, e.g. --set units=64")
    p.set_defaults(handler=cmd_tune)

    p = commands.add_parser("evaluate", help="print (or recompute) a run's test metrics")
    p.add_argument("run_dir")
    p.add_argument("--data", help="score on this dataset's test split or file instead")
    p.add_argument("--beam-size", type=int)
    p.set_defaults(handler=cmd_evaluate)

    p = commands.add_parser("export", help="export a run as a new TF Serving version")
    p.add_argument("run_dir", help="a run directory written by `zoo train`")
    p.add_argument("--root", default="saved_models", help="model repository (saved_models)")
    p.add_argument("--version", type=int, help="version number (default: the next one)")
    p.add_argument("--beam-size", type=int, help="beam width served (default: the run's)")
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("predict", help="translate or classify text with a run or an export")
    p.add_argument("run_dir", help="a run directory, or an exported SavedModel (or its model dir)")
    p.add_argument("texts", nargs="+", help="texts to translate or classify")
    p.add_argument("--beam-size", type=int, help="beam width (translation runs)")
    p.add_argument("--attention-png", help="save the first text's attention map here")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=cmd_predict)
    return parser


def add_set_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)


def parse_set(items: Sequence[str]) -> dict:
    """`["units=64", "attention_score=dot"]` -> `{"units": 64, "attention_score": "dot"}`."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, received {item!r}.")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    return settings


def cmd_list(args: argparse.Namespace) -> None:
    import zoo

    if args.markdown:
        print(model_table(zoo.list_models(args.pattern, task=args.task)))
        return
    for name in zoo.list_models(args.pattern, task=args.task):
        spec = zoo.spec(name)
        print(f"{name:28s} {spec.task:15s} {spec.attention:10s} {spec.description}")


def model_table(names: Sequence[str]) -> str:
    """The registry as a Markdown table (the README's model table is this output)."""
    import zoo

    rows = [
        "| model | task | attention | baseline twin | paper | default data | recipe |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        s = zoo.spec(name)
        twin = f"`{s.twin}`" if s.twin else "-"
        rows.append(
            f"| `{name}` | {s.task} | {s.attention} | {twin} | {s.paper} | `{s.default_data}` "
            f"| [{s.recipe}]({s.recipe}) |"
        )
    return "\n".join(rows)


def cmd_describe(args: argparse.Namespace) -> None:
    import zoo

    spec = zoo.spec(args.name)
    print(
        json.dumps(
            {
                "name": spec.name,
                "task": spec.task,
                "attention": spec.attention,
                "twin": spec.twin,
                "paper": spec.paper,
                "default_data": spec.default_data,
                "recipe": spec.recipe,
                "description": spec.description,
                "defaults": dict(spec.defaults),
            },
            indent=2,
        )
    )


def cmd_train(args: argparse.Namespace) -> None:
    from zoo.training import load_hparams, train

    settings = {**(load_hparams(args.hparams) if args.hparams else {}), **parse_set(args.set)}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    run = train(
        args.name,
        args.data,
        runs_root=args.runs_root,
        run_dir=args.run_dir,
        resume=not args.new,
        **settings,
    )
    print_metrics(run)


def cmd_tune(args: argparse.Namespace) -> None:
    from zoo.tuning import tune

    best = tune(
        args.name,
        args.data,
        tuner=args.tuner,
        max_trials=args.max_trials,
        epochs_per_trial=args.epochs_per_trial,
        directory=args.dir,
        overwrite=args.overwrite,
        chief=args.chief,
        worker=args.worker,
        worker_id=args.worker_id,
        **parse_set(args.set),
    )
    if best is not None:
        print(f"train with it: zoo train {args.name} --hparams {best}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    run = Path(args.run_dir)
    if args.data is None and args.beam_size is None:
        print_metrics(run)
        return
    config = json.loads((run / "config.json").read_text())
    seed = config["training"]["seed"]
    if config.get("task") == "classification":
        from zoo.classification import Classifier, evaluate_classifier
        from zoo.data import load_classification

        corpus = load_classification(args.data or config["data"], seed=seed)
        metrics = evaluate_classifier(Classifier.load(run), corpus.test)
    else:
        from zoo.data import load_translation
        from zoo.translation import Translator, evaluate_translator

        beam_size = args.beam_size or config["training"]["beam_size"]
        corpus = load_translation(args.data or config["data"], seed=seed)
        metrics = evaluate_translator(Translator.load(run, beam_size=beam_size), corpus.test)
    print(format_metrics(metrics))


def cmd_export(args: argparse.Namespace) -> None:
    from zoo.export import export

    path = export(args.run_dir, root=args.root, version=args.version, beam_size=args.beam_size)
    print(f"exported {path}")
    print(f"TF Serving config: {Path(args.root) / 'models.config'}")


def cmd_predict(args: argparse.Namespace) -> None:
    from zoo.export import is_saved_model

    for i, text in enumerate(args.texts):
        if not text.strip():
            raise ValueError(f"Text {i + 1} is empty: give a sentence to translate.")
    if is_saved_model(args.run_dir):
        predict_saved_model(args)
        return
    if run_task(args.run_dir) == "classification":
        predict_classifier(args)
        return
    from zoo.translation import Translator

    search = {} if args.beam_size is None else {"beam_size": args.beam_size}
    translator = Translator.load(args.run_dir, **search)
    out = translator.translate(args.texts)
    if args.attention_png:
        from zoo.plots import attention_heatmap

        attention_heatmap(
            out["attention"][0],
            out["source_tokens"][0],
            out["target_tokens"][0],
            args.attention_png,
            title=f"{args.texts[0]} -> {out['translation'][0]}",
        )
    if args.json:
        rows = [
            {"text": t, "translation": tr, "log_prob": float(lp)}
            for t, tr, lp in zip(args.texts, out["translation"], out["log_prob"], strict=True)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for text, translation in zip(args.texts, out["translation"], strict=True):
            print(f"{text}\t{translation}")
    if args.attention_png:
        print(f"attention map: {args.attention_png}", file=sys.stderr)


def run_task(run_dir: str) -> str:
    """The task of a run directory (translation for runs that predate the `task` key)."""
    try:
        return json.loads((Path(run_dir) / "config.json").read_text()).get("task", "translation")
    except (OSError, json.JSONDecodeError):
        return "translation"


def predict_classifier(args: argparse.Namespace) -> None:
    from zoo.classification import Classifier

    if args.beam_size is not None:
        raise ValueError("--beam-size applies to translation models.")
    classifier = Classifier.load(args.run_dir)
    out = classifier.classify(args.texts)
    if args.attention_png and classifier.model.attention is not None:
        from zoo.plots import attention_heatmap

        heads = [f"head {h + 1}" for h in range(out["attention"][0].shape[0])]
        attention_heatmap(
            out["attention"][0], out["tokens"][0], heads, args.attention_png, "", "token", "head"
        )
        print(f"attention map: {args.attention_png}", file=sys.stderr)
    rows = [
        {
            "text": text,
            "label": label,
            "probabilities": dict(zip(classifier.text.labels, map(float, p), strict=True)),
        }
        for text, label, p in zip(args.texts, out["label"], out["probabilities"], strict=True)
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['text']}\t{row['label']}\t{max(row['probabilities'].values()):.3f}")


def predict_saved_model(args: argparse.Namespace) -> None:
    """Queries an exported SavedModel the way TF Serving would (its signatures)."""
    import tensorflow as tf

    from zoo.export import load_latest

    if args.beam_size is not None:
        raise ValueError("--beam-size applies to run directories; an export fixes its beam.")
    loaded = load_latest(args.run_dir)
    texts = tf.constant(args.texts)
    out = loaded.signatures["serving_default"](text=texts)
    if "label" in out:  # a classifier
        labels = [label.decode("utf-8") for label in out["label"].numpy()]
        rows = [
            {"text": t, "label": label, "probabilities": p.tolist()}
            for t, label, p in zip(args.texts, labels, out["probabilities"].numpy(), strict=True)
        ]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for row in rows:
                print(f"{row['text']}\t{row['label']}\t{max(row['probabilities']):.3f}")
        return
    translations = [t.decode("utf-8") for t in out["translation"].numpy()]
    if args.attention_png:
        from zoo.plots import attention_heatmap

        att = loaded.signatures["attention"](text=texts[:1])
        source = [t.decode("utf-8") for t in att["source_tokens"].numpy()[0] if t]
        target = [t.decode("utf-8") for t in att["target_tokens"].numpy()[0] if t]
        weights = att["weights"].numpy()[0][: len(target), : len(source)]
        attention_heatmap(weights, source, target, args.attention_png, title=translations[0])
    if args.json:
        rows = [
            {"text": t, "translation": tr, "log_prob": float(lp)}
            for t, tr, lp in zip(args.texts, translations, out["log_prob"].numpy(), strict=True)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for text, translation in zip(args.texts, translations, strict=True):
            print(f"{text}\t{translation}")


def print_metrics(run: Path) -> None:
    path = Path(run) / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: the run has not finished (rerun its `zoo train` command)."
        )
    metrics = json.loads(path.read_text())
    print(f"run: {run}")
    print(format_metrics(metrics))


def format_metrics(metrics: dict) -> str:
    """A few readable lines of a run's test metrics, whatever its task."""
    if "accuracy" in metrics:
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


if __name__ == "__main__":
    sys.exit(main())
