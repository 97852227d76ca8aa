"""Bahdanau et al. (2015), Fig. 2, on the zoo: BLEU by source length, attention vs its twin.

    python benchmarks/attention_by_length.py                  # trains the trio (hours on a CPU)
    python benchmarks/attention_by_length.py --runs runs/      # scores finished runs instead
    python benchmarks/attention_by_length.py --runs a/ b/ --models lstm_nmt lstm_luong_nmt
    python benchmarks/attention_by_length.py --runs runs/ --models lstm_bahdanau_nmt --merge

Each model trains with `recipes/bible_es_en.py` (verses of at most 40 pieces a side) and is
scored on every verse of the held-out books, whatever its length, beside two baselines a user
would try first: copying the Spanish source, and one constant output (the training set's most
frequent English verse). Results: `benchmarks/results/attention_by_length.json`, a plot
(`attention_by_length.png`) and the README's Markdown table on stdout. Each run takes hours on
a CPU, so the runs of one study often finish on different machines: `--merge` adds the runs
scored now to that file and keeps its rows of the other systems.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import sacrebleu

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ("lstm_nmt", "lstm_bahdanau_nmt", "lstm_luong_nmt")
# Source length in words (whitespace-separated Spanish), the unit of the paper's figure. The
# held-out books have 46 / 383 / 402 / 231 / 132 verses in these; one bucket above 40 words,
# since only 12 verses have over 60.
BUCKETS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 200))
SHORT = "short (1-20)"
LONG = "41-200"  # the last bucket: longer than anything trained on


# Resamples of sacrebleu's bootstrap (seeded by SACREBLEU_SEED, 12345 by default): the spread a
# bucket's BLEU owes to which verses it happens to hold, which single runs cannot show.
BOOTSTRAP = 1000
# How a twin without attention saw the source, as its run's model_args record it.
TWIN_WAYS = {"feed_context": "context fed", "reverse_source": "source reversed"}


def scores(hypotheses: list[str], references: list[str]) -> dict:
    bleu = sacrebleu.BLEU().corpus_score(hypotheses, [references], n_bootstrap=BOOTSTRAP)
    return {
        "count": len(references),
        "bleu": bleu.score,
        "bleu_ci95": bleu._ci,  # half the width of the 95% interval (what `format()` prints)
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
    }


def by_length(sources: list[str], hypotheses: list[str], references: list[str]) -> dict:
    """Corpus scores overall, per source-length bucket, and on short (<= 20 words) verses,
    whose BLEU against the long bucket's says how much a system's quality falls with length."""
    groups = {f"{lo}-{hi}": (lo, hi) for lo, hi in BUCKETS}
    groups[SHORT] = (1, 20)
    result = {"all": scores(hypotheses, references)}
    for label, (lo, hi) in groups.items():
        members = [i for i, s in enumerate(sources) if lo <= len(s.split()) <= hi]
        if members:
            result[label] = scores(
                [hypotheses[i] for i in members], [references[i] for i in members]
            )
    if result.get(SHORT, {}).get("bleu") and LONG in result:
        result["long_over_short_bleu"] = result[LONG]["bleu"] / result[SHORT]["bleu"]
    return result


def read_predictions(run: Path) -> tuple[list[str], list[str], list[str]]:
    with open(run / "test_predictions.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    columns = ("source", "hypothesis", "reference")
    return tuple([row[column] for row in rows] for column in columns)


def recipe_epochs() -> int:
    """The epoch budget of `recipes/bible_es_en.py`: its preset's (`zoo.presets`)."""
    from zoo.presets import get_preset

    return get_preset("bible-es-en").settings["epochs"]


def system_label(name: str, run: Path) -> str:
    """The table's name for a run: the model, how its twin saw the source, and its epoch
    budget where it is not the recipe's."""
    config = json.loads((run / "config.json").read_text())
    model_args = config["model_args"]
    ways = [way for key, way in TWIN_WAYS.items() if model_args.get(key)]
    epochs = config.get("training", {}).get("epochs")
    if epochs is not None and epochs != recipe_epochs():
        ways.append(f"{epochs} epochs")
    return f"{name} ({', '.join(ways)})" if ways else name


def latest_finished_run(runs_root: Path, name: str) -> Path:
    finished = sorted(p.parent for p in (runs_root / name).glob("*/metrics.json"))
    for run in reversed(finished):
        config = json.loads((run / "config.json").read_text())
        if config["data"] == "bible-es-en":
            return run
    raise FileNotFoundError(f"No finished bible-es-en run of {name} under {runs_root / name}.")


def run_summary(run: Path) -> dict:
    """What a reader needs to reproduce a run's row: its settings and how long it trained."""
    config = json.loads((run / "config.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    keys = ("epochs", "lr_schedule", "learning_rate", "seed", "max_vocab_size", "beam_size")
    return {
        "run": run.name,
        "model_args": config["model_args"],
        "training": {k: config["training"][k] for k in keys},
        "epochs_trained": metrics.get("epochs_trained"),
        "keras_backend": metrics.get("keras_backend"),
        "zoo_version": config.get("zoo_version"),
    }


def bucket_counts(result: dict) -> dict:
    """How many verses each group of a system's scores holds: the test set it was scored on."""
    return {group: row["count"] for group, row in result.items() if isinstance(row, dict)}


def merged(earlier: dict, results: dict, runs: dict) -> tuple[dict, dict]:
    """The earlier report's systems that were not scored now, with those that were, in the
    order of `MODELS` (baselines last). Refuses rows scored on another test set."""
    test_set = bucket_counts(results["copy source"])
    for system, result in earlier["results"].items():
        counts = bucket_counts(result)
        if counts != test_set:
            raise ValueError(
                f"{system!r} in the results file was scored on other verses ({counts}) than "
                f"this test set ({test_set}): rescore every run instead of merging."
            )
    combined = {**earlier["results"], **results}
    combined_runs = {**earlier.get("runs", {}), **runs}

    def order(system: str) -> int:
        name = system.split(" ")[0]
        return MODELS.index(name) if name in MODELS else len(MODELS)

    systems = sorted(combined, key=order)  # stable: a model's variants keep their order
    return {s: combined[s] for s in systems}, {
        s: combined_runs[s] for s in systems if s in combined_runs
    }


def train(name: str, runs_root: Path, extra: list[str]) -> None:
    recipe = ROOT / "recipes" / "bible_es_en.py"
    command = [sys.executable, str(recipe), "--model", name, "--runs-root", str(runs_root)]
    subprocess.run([*command, *extra], check=True, cwd=ROOT)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{lo}-{hi}" for lo, hi in BUCKETS]
    fig, ax = plt.subplots(figsize=(9.5, 4))
    for system, result in results.items():
        present = [b for b in labels if b in result]
        bleu = [result[b]["bleu"] for b in present]
        if system in ("copy source", "constant output"):
            ax.plot(present, bleu, "--", label=system)
        else:  # bars: each bucket's 95% bootstrap interval (the small buckets are wide)
            spread = [result[b]["bleu_ci95"] for b in present]
            ax.errorbar(present, bleu, yerr=spread, fmt="-o", capsize=3, label=system)
    ax.set_xlabel("source length (Spanish words)")
    ax.set_ylabel("test BLEU (held-out books)")
    ax.set_title("bible-es-en: BLEU by source length (trained on verses <= 40 pieces)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the curves, never on them
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(results: dict) -> str:
    labels = [f"{lo}-{hi}" for lo, hi in BUCKETS]
    any_result = next(iter(results.values()))
    counts = [str(any_result[b]["count"]) if b in any_result else "0" for b in labels]
    lines = [
        "| system | BLEU | chrF | "
        + " | ".join(f"BLEU {b} words" for b in labels)
        + " | long / short BLEU |",  # BLEU ± half its bootstrap 95% interval
        "|---" * (4 + len(labels)) + "|",
        "| (verses) | | | " + " | ".join(counts) + " | |",
    ]
    for system, result in results.items():
        cells = [
            f"{result[b]['bleu']:.1f} ±{result[b]['bleu_ci95']:.1f}" if b in result else "-"
            for b in labels
        ]
        overall = result["all"]
        ratio = result.get("long_over_short_bleu")
        cells.append(f"{ratio:.2f}" if ratio is not None else "-")
        head = f"| {system} | {overall['bleu']:.1f} | {overall['chrf']:.1f} | "
        lines.append(head + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=Path,
        nargs="+",
        help="score the newest finished run of each model under each of these roots",
    )
    parser.add_argument("--runs-root", type=Path, default=ROOT / "runs", help="where to train")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the results file's rows of the systems not scored now",
    )
    args, extra = parser.parse_known_args()  # the rest goes to the recipe (e.g. --epochs 4)

    roots = args.runs or [args.runs_root]
    if args.runs is None:
        for name in args.models:
            train(name, args.runs_root, extra)
    results: dict = {}
    runs: dict = {}
    sources = references = None
    for name in args.models:
        found = [root for root in roots if list((root / name).glob("*/metrics.json"))]
        if not found:
            raise FileNotFoundError(f"No finished run of {name} under {[str(r) for r in roots]}.")
        for root in found:
            run = latest_finished_run(root, name)
            label = system_label(name, run)
            if label in results:
                raise ValueError(f"Two runs for {label!r}; give roots with one of each.")
            sources, hypotheses, references = read_predictions(run)
            results[label] = by_length(sources, hypotheses, references)
            runs[label] = run_summary(run)

    from zoo.data.bible import bible_es_en

    corpus = bible_es_en()
    constant = Counter(t for _, t in corpus.train).most_common(1)[0][0]
    results["copy source"] = by_length(sources, sources, references)
    results["constant output"] = by_length(sources, [constant] * len(sources), references)

    report_path = RESULTS / "attention_by_length.json"
    if args.merge and report_path.is_file():
        results, runs = merged(json.loads(report_path.read_text()), results, runs)
    RESULTS.mkdir(exist_ok=True)
    report = {"results": results, "runs": runs}
    report_path.write_text(json.dumps(report, indent=2))
    plot(results, RESULTS / "attention_by_length.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
