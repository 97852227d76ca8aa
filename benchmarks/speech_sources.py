"""Speech recognition on sources training never heard: the README's per-source table.

    python benchmarks/speech_sources.py                      # trains lstm_las_asr, seeds 0-2
    python benchmarks/speech_sources.py --runs runs/lstm_las_asr/A runs/lstm_las_asr/B
    python benchmarks/speech_sources.py --merge a.json b.json   # runs scored by two processes

Each run (`recipes/<model>.py --seed S`, or finished runs given with `--runs`) is scored on its
own test set (held-out espeak-ng voices), the same utterances through an 8 kHz telephone band
(`spoken-numbers-8khz`), each other synthesizer family (`spoken-numbers-flite`,
`spoken-numbers-festival`; "in training" when the run trained on it) and the real Asterisk
prompts, all with `zoo evaluate`; then it is fine-tuned on half of the Asterisk prompts' texts
(`recipes/asterisk_fine_tuning.py`, same seed; every layer, then `--listener-only`) and scored
on the other half, before and after.
CER / WER per source and per kind of utterance go to `benchmarks/results/speech_sources.json`;
a Markdown table (mean and range over the runs) is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parents[1]
OUT = ROOT / "benchmarks" / "results" / "speech_sources.json"
SOURCES = ("spoken-numbers-8khz", "spoken-numbers-flite", "spoken-numbers-festival")


def grouped_metrics(transcripts: Path, group) -> dict:
    """`zoo.metrics.speech_metrics` per group of a `test_transcripts.tsv`'s rows, `group(row)`
    naming each row's group."""
    from zoo.metrics import speech_metrics

    groups: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    with open(transcripts, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            hypotheses, references = groups[group(row)]
            hypotheses.append(row["transcript"] or "")
            references.append(row["reference"])
    return {name: speech_metrics(*pair) for name, pair in sorted(groups.items())}


def by_kind(transcripts: Path) -> dict:
    """CER / WER per kind of utterance (`zoo.data.transcripts.utterance_kind`)."""
    from zoo.data.transcripts import utterance_kind

    metrics = grouped_metrics(transcripts, lambda row: utterance_kind(row["reference"]))
    return {kind: {k: m[k] for k in ("cer", "wer", "count")} for kind, m in metrics.items()}


def by_voice(transcripts: Path) -> dict:
    """CER per voice of a generated set (its `utterance` column is `family:voice`)."""
    metrics = grouped_metrics(transcripts, lambda row: row["utterance"])
    return {voice: m["cer"] for voice, m in metrics.items()}


def score(run: Path) -> dict:
    """The run's metrics per source, with the kinds."""
    import zoo
    from zoo.data.tsv import DataFileError
    from zoo.runs import read_run_config

    training = read_run_config(run)["training"]
    heard = training["other_synthesizers"].split(",") if training["other_utterances"] else []
    test = json.loads((run / "metrics.json").read_text())
    rows = {"spoken-numbers": {**pick(test), "by_kind": by_kind(run / "test_transcripts.tsv")}}
    for source in (*SOURCES, "asterisk-prompts"):
        try:
            metrics = zoo.evaluate(run, data=source)
        except DataFileError as error:  # a synthesizer or the prompts not installed
            print(f"{run.name}: {source} skipped: {error}", flush=True)
            continue
        family = source.removeprefix("spoken-numbers-")
        transcripts = Path(metrics["written_to"]) / "test_transcripts.tsv"
        rows[source] = {**pick(metrics), "by_kind": by_kind(transcripts)}
        if source in SOURCES[1:]:  # another synthesizer: which voices, and was it heard
            rows[source].update(by_voice=by_voice(transcripts), in_training=family in heard)
        print(f"{run.name}: {source}: CER {metrics['cer']:.1%}", flush=True)
    return rows


def pick(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("cer", "wer", "exact_match", "count", "confidence")}


def fine_tune(run: Path, seed: int, runs_root: Path, *flags: str) -> dict:
    """`recipes/asterisk_fine_tuning.py` from `run` (with `flags`), scored before and after."""
    runs_root = runs_root / "-".join(["every-layer", *flags])
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / "asterisk_fine_tuning.py"), "--init-from",
         str(run), "--seed", str(seed), "--runs-root", str(runs_root), *flags],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    tuned = max((runs_root / run.parent.name).iterdir())  # the newest run
    report = json.loads((tuned / "fine_tuning.json").read_text())
    return {
        "held_out_prompts": report["held_out_prompts"],
        "before": {
            **pick(report["before"]),
            "by_kind": by_kind(tuned / "test_transcripts_before.tsv"),
        },
        "after": {**pick(report["after"]), "by_kind": by_kind(tuned / "test_transcripts.tsv")},
    }


def train(model: str, seed: int, runs_root: Path, *flags: str) -> Path:
    """The model's recipe, seed `seed` (with `flags`: `--hparams FILE`, `--epochs N`)."""
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / f"{model}.py"), "--seed", str(seed), "--new",
         "--runs-root", str(runs_root), *flags],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return max((runs_root / model).iterdir())


def summary(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="lstm_las_asr")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", nargs="+", type=Path, help="finished runs (no training)")
    parser.add_argument("--hparams", type=Path, help="the recipe's --hparams (a JSON file)")
    parser.add_argument("--epochs", type=int, help="the recipe's --epochs")
    parser.add_argument("--keep-runs", type=Path, help="folder for the runs (default: deleted)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON results (default {OUT})")
    parser.add_argument(
        "--merge", nargs="+", type=Path, help="only merge these results files into --out"
    )
    args = parser.parse_args()
    from zoo.runs import read_run_config

    if args.merge:  # e.g. seeds scored by separate processes at once
        parts = [json.loads(path.read_text()) for path in args.merge]
        report = {**parts[0], "seeds": {k: v for part in parts for k, v in part["seeds"].items()}}
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print_table(report["seeds"])
        return

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep_runs or Path(scratch)
        flags = [*(["--hparams", str(args.hparams)] if args.hparams else []),
                 *(["--epochs", str(args.epochs)] if args.epochs else [])]  # fmt: skip
        runs = args.runs or [train(args.model, seed, root, *flags) for seed in args.seeds]
        results = {}
        for run in runs:
            seed = read_run_config(run)["training"]["seed"]
            results[str(seed)] = score(run)
            results[str(seed)]["asterisk fine-tuned"] = fine_tune(run, seed, root / "tuned")
            results[str(seed)]["asterisk fine-tuned, listener only"] = fine_tune(
                run, seed, root / "tuned", "--listener-only"
            )
    report = {
        "note": "benchmarks/speech_sources.py; CER / WER per source and kind of utterance",
        "model": read_run_config(runs[0])["model"],
        "model_args": read_run_config(runs[0])["model_args"],
        "training": read_run_config(runs[0])["training"],
        "seeds": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(results)


def print_table(results: dict) -> None:
    rows: dict[str, list[dict]] = defaultdict(list)
    for per_source in results.values():
        for source, metrics in per_source.items():
            if source == "asterisk fine-tuned":
                rows["asterisk held-out half, before"].append(metrics["before"])
                rows["asterisk held-out half, after fine-tuning"].append(metrics["after"])
            elif source == "asterisk fine-tuned, listener only":
                rows["asterisk held-out half, after fine-tuning the listener"].append(
                    metrics["after"]
                )
            else:
                rows[source].append(metrics)
    print(
        "\n| source | CER | WER | low confidence: of wrong / of right | CER by kind (mean) |"
        "\n|---|---|---|---|---|"
    )
    for source, metrics in rows.items():
        cer = summary([m["cer"] for m in metrics])
        wer = summary([m["wer"] for m in metrics])
        kinds = defaultdict(list)
        for m in metrics:
            for kind, values in m.get("by_kind", {}).items():
                kinds[kind].append(values["cer"])
        kind_text = ", ".join(f"{k} {100 * statistics.mean(v):.0f}" for k, v in kinds.items())
        wrong = statistics.mean(m["confidence"]["flagged_of_wrong"] or 0.0 for m in metrics)
        right = statistics.mean(m["confidence"]["flagged_of_right"] or 0.0 for m in metrics)
        print(
            f"| {source} | {100 * cer['mean']:.1f} % ({100 * cer['min']:.1f}-"
            f"{100 * cer['max']:.1f}) | {100 * wer['mean']:.1f} % | {100 * wrong:.0f} / "
            f"{100 * right:.0f} % | {kind_text} |"
        )
    voices = defaultdict(list)
    for per_source in results.values():
        for voice, cer in per_source.get("spoken-numbers-flite", {}).get("by_voice", {}).items():
            voices[voice].append(cer)
    if voices:
        shares = [f"{voice} {100 * statistics.mean(v):.1f} %" for voice, v in voices.items()]
        print("\nflite, CER by voice (mean): " + ", ".join(shares))


if __name__ == "__main__":
    main()
