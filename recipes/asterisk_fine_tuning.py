"""A recognizer trained on synthetic voices, adapted to one real speaker: the Asterisk prompts.

The Asterisk PBX prompts (Debian packages asterisk-core-sounds-en and -wav, installed by
`scripts/install_speech_data.sh`) are one professional speaker on 8 kHz telephone audio; 126 of
them say words the synthetic set speaks. They are split by text (`zoo.data.speech.
split_by_prompt`, by `--split-seed`): half of the texts to adapt on (about one in eight of those for
validation), the other half to test, so no recording of a test text is ever trained on. The
run starts from a finished `spoken-numbers` run's weights and keeps its architecture and
characters (`zoo train NAME --init-from RUN --data asterisk-prompts` is the same run), and is
scored on the held-out half before and after.

Settings for 60 recordings: small batches, a learning rate a tenth of the synthetic training's
(the weights are already good; a large step would forget the other voices), the same on-the-fly
augmentation, and up to 60 epochs (a few seconds each), the best validation loss kept.
`--listener-only` adapts a speller's listener alone (`LISTENER_ONLY` frozen: its embedding,
speller, attention and output layer keep the source's weights): from three telephone-band
runs (`--set max_frequency=4000`) it took the held-out CER to 37.6 % against 42.0 % for every
layer, better for each seed, but from a wideband run (seed 0) it did worse, 46.2 against
43.2 % (`benchmarks/results/speech_sources_telephone_band.json`), so every layer is adapted
by default. For 8 kHz audio, start from a telephone-band run.

    python recipes/lstm_las_asr.py                                  # the synthetic run first
    python recipes/asterisk_fine_tuning.py --init-from runs/lstm_las_asr/<run>
"""

import argparse
import json

BEFORE = "test_transcripts_before.tsv"  # the source run's transcripts of the same prompts
CHANGES = {
    "batch_size": 8,
    "learning_rate": 2e-4,
    "lr_schedule": "constant",
    "epochs": 60,
    "patience": 15,
}
# `--listener-only`: the layers of `lstm_las_asr` past its listener, kept as trained.
LISTENER_ONLY = ["character_embedding", "speller", "attention", "output_projection"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--init-from", required=True, help="a finished spoken-numbers run")
    parser.add_argument("--seed", type=int, default=0, help="initialization seed (default 0)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the split by text")
    parser.add_argument(
        "--listener-only", action="store_true",
        help=f"adapt a speller's listener only (freeze {' '.join(LISTENER_ONLY)})",
    )  # fmt: skip
    parser.add_argument("--runs-root", default="runs")
    args = parser.parse_args(argv)

    from zoo.startup import start_tensorflow_quietly

    start_tensorflow_quietly()
    import zoo
    from zoo.data.speech import ASTERISK, load_asterisk_prompts, split_by_prompt
    from zoo.runs import read_run_config
    from zoo.tasks import get_task

    name = read_run_config(args.init_from)["model"]
    task = get_task("speech")
    freeze = LISTENER_ONLY if args.listener_only else []
    settings = {**CHANGES, "seed": args.seed, "split_seed": args.split_seed, "freeze": freeze}
    run = zoo.train(
        name, ASTERISK, init_from=args.init_from, runs_root=args.runs_root, resume=False,
        **settings,
    )  # fmt: skip
    after = zoo.evaluate(run)  # its test set: the texts it did not adapt on
    held_out = split_by_prompt(load_asterisk_prompts(), args.split_seed).test
    before = task.score(task.load_predictor(args.init_from), held_out, run / BEFORE)
    report = {"held_out_prompts": len(held_out), "before": before, "after": after}
    (run / "fine_tuning.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"run: {run}")
    for when, metrics in (("before", before), ("after", after)):
        print(f"{when}: {task.format_metrics(metrics)}")


if __name__ == "__main__":
    main()
