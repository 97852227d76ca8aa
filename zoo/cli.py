"""The `zoo` command: list | describe | train | tune | evaluate | translate | export | predict."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from zoo.cli_arguments import build_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: quiet start-up

# Errors that name the problem and the fix: printed as one line, no traceback.
EXPECTED_ERRORS = (ValueError, OSError, NotImplementedError, RuntimeError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("list", "describe"):  # the others run TensorFlow (tasks, export)
        from zoo.startup import start_tensorflow_quietly

        start_tensorflow_quietly()
    try:
        return HANDLERS[args.command](args) or 0
    except BrokenPipeError:  # `zoo list | head`: the reader stopped; no error to report
        # Python flushes stdout again at exit; pointing it at /dev/null keeps that quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # the shell's code for a command ended by SIGPIPE
    except EXPECTED_ERRORS as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; rerun the same command to resume training.", file=sys.stderr)
        return 130


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
        from zoo.catalog import markdown_table

        print(markdown_table(zoo.list_models(args.pattern, task=args.task)))
        return
    for name in zoo.list_models(args.pattern, task=args.task):
        spec = zoo.spec(name)
        print(f"{name:28s} {spec.task:15s} {spec.attention:10s} {spec.description}")


def cmd_describe(args: argparse.Namespace) -> None:
    import zoo
    from zoo.settings import resolve_settings
    from zoo.tasks import task_settings

    spec = zoo.spec(args.name)
    from zoo.presets import for_command

    preset, preset_data = for_command(args.name, args.preset)
    model_args, training = resolve_settings(spec, preset_data or spec.default_data, preset)
    # Sizes the data decides are shown as such, not as the entry's placeholders.
    from_data = task_settings(spec.task).sized_by_data
    model = {k: "from the data" if k in from_data else v for k, v in spec.defaults.items()}
    model.update(model_args)
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
                "model": model,
                **({"preset": args.preset} if args.preset else {}),
                "training": training,
                "search_space": {k: str(v) for k, v in spec.search_space.items()},
            },
            indent=2,
        )
    )


def cmd_train(args: argparse.Namespace) -> None:
    from zoo.distribute import is_chief, parse_tf_config
    from zoo.presets import for_command
    from zoo.training import load_hparams, train

    preset, preset_data = for_command(args.name, args.preset)
    given = {**(load_hparams(args.hparams) if args.hparams else {}), **parse_set(args.set)}
    settings = {**preset, **given}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    if args.time_budget is not None:
        from zoo.schedules import parse_duration

        settings["time_budget"] = parse_duration(args.time_budget)
    if args.seed is not None:
        settings["seed"] = args.seed
    run = train(
        args.name,
        args.data or preset_data,
        validation_data=args.validation_data,
        test_data=args.test_data,
        runs_root=args.runs_root,
        run_dir=args.run_dir,
        resume=not args.new,
        distribution=args.distribute,
        devices=args.devices,
        init_from=args.init_from,
        **settings,
    )
    if args.distribute == "multi-worker" and not is_chief(parse_tf_config(os.getenv("TF_CONFIG"))):
        return  # the chief evaluates and reports
    print_metrics(run)


def cmd_tune(args: argparse.Namespace) -> None:
    from zoo.schedules import parse_duration
    from zoo.tuning import tune

    best = tune(
        args.name,
        args.data,
        validation_data=args.validation_data,
        tuner=args.tuner,
        max_trials=args.max_trials,
        epochs_per_trial=args.epochs_per_trial,
        directory=args.dir,
        overwrite=args.overwrite,
        chief=args.chief,
        worker=args.worker,
        worker_id=args.worker_id,
        connect_timeout=args.connect_timeout,
        distribution=args.distribute,
        devices=args.devices,
        **parse_set(args.set),
        **({"time_budget": parse_duration(args.time_budget)} if args.time_budget else {}),
    )
    if best is not None:
        print(f"train with it: zoo train {args.name} --hparams {best}")


def predict_options(args: argparse.Namespace) -> dict:
    """The predictor options given on the command line (`--beam-size`, `--words`)."""
    options = {"beam_size": args.beam_size, "words": getattr(args, "words", None)}
    return {key: value for key, value in options.items() if value is not None}


def refuse_options_for_export(args: argparse.Namespace) -> None:
    if predict_options(args):
        raise ValueError(
            "--beam-size and --words apply to run directories; an export fixes its own "
            "(export again with them)."
        )


def cmd_evaluate(args: argparse.Namespace) -> None:
    import zoo
    from zoo.evaluation import format_metrics

    metrics = zoo.evaluate(
        args.run_dir, args.data, args.include_training_span, **predict_options(args)
    )
    if "written_to" in metrics:
        print(f"scored {metrics['count']} examples of {metrics['data']}")
    if "not_scored" in metrics:
        print(f"{metrics['data']}: {metrics['not_scored']}")
    else:
        print(f"run: {args.run_dir}")
    print(format_metrics(args.run_dir, metrics))
    if "written_to" in metrics:
        print(f"predictions and metrics: {metrics['written_to']}")


def cmd_translate(args: argparse.Namespace) -> None:
    from zoo.file_translation import n_best_lines, translate_file
    from zoo.serving import exported_predictor, is_saved_model

    path = Path(args.run_dir)
    if is_saved_model(path):
        refuse_options_for_export(args)
        task, translator = exported_predictor(path)
    else:
        task = run_task(path)
        if task.name == "translation":
            translator = task.load_predictor(path, **predict_options(args))
    if task.name != "translation":
        raise ValueError(
            f"zoo translate takes a translation model; {path} is a {task.name} model "
            "(use zoo predict)."
        )
    job = {"model": str(path.resolve()), **predict_options(args)}
    translate = translator.translate_all
    if args.n_best is not None:
        job["n_best"] = args.n_best
        translate = n_best_lines(translator, args.n_best)
    count = translate_file(translate, args.input, args.output, job, args.batch_size, args.overwrite)
    print(f"translated {count} lines into {args.output}")


def cmd_export(args: argparse.Namespace) -> None:
    from zoo.serving import export

    path = export(args.run_dir, root=args.root, version=args.version, **predict_options(args))
    print(f"exported {path}")
    print(f"TF Serving config: {Path(args.root) / 'models.config'}")


def cmd_predict(args: argparse.Namespace) -> None:
    from zoo.serving import exported_predictor, is_saved_model

    path = Path(args.run_dir)
    if is_saved_model(path):
        refuse_options_for_export(args)
        task, predictor = exported_predictor(path)
    else:
        task = run_task(path)
        predictor = task.load_predictor(path, **predict_options(args))
    inputs = args.inputs + args.csv
    if not inputs:
        raise ValueError(f"Give the {task.input_name} inputs to predict for.")
    task.check_inputs(inputs)
    rows = task.predict(predictor, inputs)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(task.format_row(row))
    if args.attention_png:
        png = task.plot_attention(predictor, inputs[0], Path(args.attention_png))
        message = f"attention map: {png}" if png else "this model has no attention to draw"
        print(message, file=sys.stderr)


def run_task(run_dir: Path):
    """The task of a run directory."""
    from zoo.runs import read_run_config
    from zoo.tasks import get_task

    return get_task(read_run_config(run_dir)["task"])


def print_metrics(run: Path) -> None:
    import zoo
    from zoo.evaluation import format_metrics

    print(f"run: {run}")
    print(format_metrics(run, zoo.evaluate(run)))


HANDLERS = {
    "list": cmd_list,
    "describe": cmd_describe,
    "train": cmd_train,
    "tune": cmd_tune,
    "evaluate": cmd_evaluate,
    "translate": cmd_translate,
    "export": cmd_export,
    "predict": cmd_predict,
}


if __name__ == "__main__":
    sys.exit(main())
