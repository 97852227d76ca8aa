"""Wall time of the commands a user runs on a small translation job, now against a commit.

    python benchmarks/cli_vs_before.py --before 5ad7bf8 [--rounds 3]

A small job is mostly start-up: graph tracing for the training and validation steps, the
evaluation's search, the export's signatures. Each round runs, for this tree and for the
commit's (`git archive` of `zoo/`, put first on `PYTHONPATH`) in turns, so that drifting load
hits both alike, each command in a fresh process as the command line runs it:

    zoo train lstm_luong_nmt --data dates.tsv --epochs 2 --set units=32 ...   (400 pairs)
    zoo predict RUN "3 de marzo de 2015"
    zoo translate RUN --input 64 lines --output FILE
    zoo export RUN

Both trees train with the same settings and seed. Results: `benchmarks/results/
cli_vs_before.json`, each command's median seconds and the ratio before / now (above 1: now
is faster). Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from beam_vs_before import ROOT, tree_at  # noqa: E402

TRAIN_SETTINGS = ["units=32", "embedding_dim=16", "token_level=char", "seed=0"]
SENTENCE = "3 de marzo de 2015"


def zoo_command(tree: Path, args: list[str], cwd: Path) -> float:
    """Seconds `zoo ARGS` took in a fresh process importing `zoo` from `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "2"}
    code = (
        f"import sys, zoo.cli; assert zoo.cli.__file__.startswith({str(tree)!r}); "
        "sys.exit(zoo.cli.main(sys.argv[1:]))"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"zoo {' '.join(args)} failed under {tree}:\n{result.stderr[-3000:]}")
    return seconds


def one_round(tree: Path, work: Path, data: Path, lines: Path) -> dict[str, float]:
    """The four commands on `tree`, in `work` (emptied by the caller)."""
    runs = work / "runs"
    seconds = {
        "zoo train": zoo_command(
            tree,
            [
                "train",
                "lstm_luong_nmt",
                "--data",
                str(data),
                "--epochs",
                "2",
                "--runs-root",
                str(runs),
                *sum((["--set", s] for s in TRAIN_SETTINGS), []),
            ],
            work,
        )  # fmt: skip
    }
    (run,) = (runs / "lstm_luong_nmt").iterdir()
    seconds["zoo predict"] = zoo_command(tree, ["predict", str(run), SENTENCE], work)
    seconds["zoo translate"] = zoo_command(
        tree, ["translate", str(run), "--input", str(lines), "--output", "out.txt"], work
    )
    seconds["zoo export"] = zoo_command(
        tree, ["export", str(run), "--root", str(work / "saved_models")], work
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/cli_vs_before.json")
    args = parser.parse_args()
    from zoo.tasks import task_examples

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {"before": tree_at(args.before, tmp / "before"), "now": ROOT}
        data = task_examples("translation").write_example_data(tmp)
        sources = [line.split("\t")[0] for line in data.read_text("utf-8").splitlines()[:64]]
        lines = tmp / "sources.txt"
        lines.write_text("\n".join(sources) + "\n", encoding="utf-8")
        times: dict[str, dict[str, list[float]]] = {side: {} for side in trees}
        for r in range(args.rounds):
            for side, tree in trees.items():
                work = tmp / f"{side}-{r}"
                work.mkdir()
                for command, seconds in one_round(tree, work, data, lines).items():
                    times[side].setdefault(command, []).append(round(seconds, 2))
                print(f"round {r + 1} {side}: {times[side]}", flush=True)
    medians = {
        side: {c: statistics.median(s) for c, s in by_command.items()}
        for side, by_command in times.items()
    }
    report = {
        "benchmark": "cli_vs_before",
        "before": args.before,
        "now": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),  # fmt: skip
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "train_settings": TRAIN_SETTINGS,
        "seconds": times,
        "median_s": medians,
        "before_over_now": {
            c: round(medians["before"][c] / medians["now"][c], 2) for c in medians["now"]
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["median_s"], indent=2), report["before_over_now"])


if __name__ == "__main__":
    main()
