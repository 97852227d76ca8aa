"""The real-corpus workflow on a tiny corpus: own splits and columns, subwords, length filter
and buckets, rejected settings, `zoo translate` on a file (streaming, resumable)."""

import csv
import json
from pathlib import Path

import pytest
from made_once import made_once, trained_once

from zoo.cli import main
from zoo.data.dates import generate_dates
from zoo.file_translation import progress_file, translate_file
from zoo.tasks.translation.predictor import Translator
from zoo.training import train

SUBWORD_RUN = {
    "units": 16,
    "embedding_dim": 8,
    "batch_size": 16,
    "beam_size": 2,
    "token_level": "unigram",
    "max_vocab_size": 300,
    "max_train_source_length": 12,
    "bucket_by_length": True,
    "source_column": 2,
    "target_column": 3,
    "attention_examples": 1,
}


def write_split(path, pairs, start):
    path.write_text("".join(f"{start + i}\t{s}\t{t}\n" for i, (s, t) in enumerate(pairs)), "utf-8")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """train.tsv / dev.tsv / test.tsv with an id column first (3 columns)."""

    def write(folder):
        pairs = generate_dates(330, seed=11)
        write_split(folder / "train.tsv", pairs[:280], 0)
        write_split(folder / "dev.tsv", pairs[280:300], 280)
        write_split(folder / "test.tsv", pairs[300:], 300)
        return str(folder)

    return Path(made_once(tmp_path_factory, "corpus", write))


@pytest.fixture(scope="module")
def subword_run(corpus_dir, tmp_path_factory):
    return trained_once(tmp_path_factory, "subword", lambda runs: train(
        "lstm_luong_nmt", str(corpus_dir), runs_root=runs, epochs=2, verbose=0, **SUBWORD_RUN
    ))  # fmt: skip


def test_a_run_on_own_splits_uses_them_whole(subword_run, corpus_dir):
    metrics = json.loads((subword_run / "metrics.json").read_text())
    assert metrics["count"] == 30  # the whole test.tsv
    with open(subword_run / "test_predictions.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    test_lines = (corpus_dir / "test.tsv").read_text("utf-8").splitlines()
    assert [r["source"] for r in rows] == [line.split("\t")[1] for line in test_lines]
    assert all("▁" not in r["hypothesis"] for r in rows)  # detokenized
    assert (subword_run / "source.spm").is_file() and (subword_run / "target.spm").is_file()


def test_the_length_filter_is_reported(subword_run):
    report = json.loads((subword_run / "metrics.json").read_text())["length_filter"]
    assert report["rule"] == "source <= 12 tokens"
    assert report["train_dropped"] > 0 and report["train_kept"] + report["train_dropped"] == 280
    assert report["validation_kept"] + report["validation_dropped"] == 20


def test_evaluate_a_folder_scores_its_test_file(subword_run, corpus_dir, capsys):
    assert main(["evaluate", str(subword_run), "--data", str(corpus_dir)]) == 0
    assert "scored 30 examples" in capsys.readouterr().out


def test_translate_a_file_streams_and_continues_after_a_kill(subword_run, tmp_path, capsys):
    sources = [s for s, _ in generate_dates(150, seed=99)]
    sources[3] = ""  # an empty line stays an empty line
    source = tmp_path / "src.txt"
    source.write_text("\n".join(sources) + "\n", "utf-8")
    output = tmp_path / "hyp.txt"
    args = ["translate", str(subword_run), "--input", str(source), "--output", str(output)]
    assert main([*args, "--batch-size", "32"]) == 0
    assert "translated 150 lines" in capsys.readouterr().out
    lines = output.read_text("utf-8").splitlines()
    expected = Translator.load(subword_run).translate_all([s for s in sources if s])
    assert lines[3] == "" and [t for i, t in enumerate(lines) if i != 3] == expected
    assert not progress_file(output).exists()
    # A finished file is not overwritten unless asked.
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err

    # A kill mid-line: 40 complete lines and half of the 41st, the job's progress file left.
    job = {"model": str(subword_run.resolve())}
    output.write_text("\n".join(lines[:40]) + "\n" + lines[40][:3], "utf-8")
    calls = []

    def translate(texts):
        calls.extend(texts)
        return ["x"] * len(texts)

    progress_file(output).write_text(json.dumps({**job, "input": str(source.resolve()),
                                                 "lines": 150}, indent=2))  # fmt: skip
    assert translate_file(translate, source, output, job) == 110
    resumed = output.read_text("utf-8").splitlines()
    assert resumed[:40] == lines[:40] and resumed[40:] == ["x"] * 110
    assert sorted(calls) == sorted(s for s in sources[40:] if s)  # nothing translated twice
    # Another model's partial file is not continued.
    progress_file(output).write_text(json.dumps({"model": "other", "input": "x", "lines": 1}))
    with pytest.raises(FileExistsError, match="another job"):
        translate_file(translate, source, output, job)


def test_translate_n_best_writes_k_scored_hypotheses_a_line(subword_run, tmp_path, capsys):
    sources = [s for s, _ in generate_dates(12, seed=5)]
    sources[2] = ""
    source = tmp_path / "src.txt"
    source.write_text("\n".join(sources) + "\n", "utf-8")
    output = tmp_path / "nbest.jsonl"
    args = ["translate", str(subword_run), "--input", str(source), "--output", str(output)]
    assert main([*args, "--n-best", "4"]) == 0
    lines = output.read_text("utf-8").splitlines()
    assert len(lines) == 12 and lines[2] == ""
    translator = Translator.load(subword_run)
    best = translator.translate_all([s for s in sources if s])
    lists = [json.loads(line) for i, line in enumerate(lines) if i != 2]
    for hypotheses, one_best in zip(lists, best, strict=True):
        assert len(hypotheses) == 4 and set(hypotheses[0]) == {"translation", "score", "log_prob"}
        scores = [h["score"] for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
        assert len({h["translation"] for h in hypotheses}) == 4  # four different outputs
        assert hypotheses[0]["translation"] == one_best  # the 1-best search's answer
    # Another job (1-best into the n-best file) is not continued into it.
    output.write_text(lines[0] + "\n", "utf-8")  # killed after its first line
    job = {"model": str(subword_run.resolve()), "n_best": 4, "input": str(source.resolve()),
           "lines": 12}  # fmt: skip
    progress_file(output).write_text(json.dumps(job))
    assert main(args) == 2 and "another job" in capsys.readouterr().err
    assert main([*args, "--n-best", "0", "--overwrite"]) == 2
    assert "--n-best must be an integer >= 1" in capsys.readouterr().err


def test_translate_refuses_other_tasks_and_bad_files(subword_run, tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("hola\naño\n".encode("latin-1"))
    code = main(["translate", str(subword_run), "--input", str(bad), "--output", "o.txt"])
    assert code == 2 and "line 2: not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"target_vocab_size": 99}, "`target_vocab_size` follows from the data"),
        ({"token_level": "bytes"}, "`token_level` must be one of"),
        ({"token_level": "unigram", "min_count": 2}, "`min_count` applies to word and char"),
        ({"joint_vocabulary": True, "max_target_vocab_size": 50}, "joint vocabulary has one"),
        ({"max_train_target_length": -1}, "`max_train_target_length` must be an integer >= 0"),
        ({"source_column": 0}, "`source_column` must be an integer >= 1"),
    ],
)
def test_settings_that_cannot_apply_are_refused_by_name(settings, message, dates_tsv, tmp_path):
    with pytest.raises(ValueError, match=message):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0, **settings)


def test_named_datasets_refuse_file_settings(tmp_path):
    with pytest.raises(ValueError, match="source_column / target_column"):
        train("lstm_nmt", "dates", runs_root=tmp_path, source_column=2, target_column=3)
    with pytest.raises(ValueError, match="split_seed"):
        train("lstm_nmt", "bible-es-en", runs_root=tmp_path, split_seed=1)
    with pytest.raises(ValueError, match="splits its series by time"):
        train("lstm_forecaster", "elecdemand", runs_root=tmp_path, test_data="x.csv")


def load_study():
    """benchmarks/attention_by_length.py, which is a script, not a package module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "attention_by_length.py"
    spec = importlib.util.spec_from_file_location("attention_by_length", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_length_study_scores_each_bucket_on_its_own_verses(tmp_path):
    study = load_study()
    short = [f"uno dos tres cuatro cinco seis {i}" for i in range(4)]  # 7 words
    long = [" ".join(f"w{j}" for j in range(45)) + f" {i}" for i in range(4)]  # 46 words
    references = [f"the man went home on day {i} of the week" for i in range(8)]
    # Perfect on the short verses, nothing right on the long ones.
    hypotheses = references[:4] + ["zz yy xx"] * 4
    result = study.by_length(short + long, hypotheses, references)

    assert result["1-10"]["count"] == 4 and result["41-200"]["count"] == 4
    assert "11-20" not in result  # empty buckets are left out, not scored as 0
    assert result["1-10"]["bleu"] == pytest.approx(100.0)
    assert result["1-10"]["bleu_ci95"] == pytest.approx(0.0)  # every resample is perfect
    assert result["all"]["bleu_ci95"] > 1.0  # resamples mix perfect and wrong verses
    assert result["41-200"]["bleu"] == pytest.approx(0.0)
    assert result["short (1-20)"]["bleu"] == pytest.approx(100.0)
    assert result["long_over_short_bleu"] == pytest.approx(0.0)
    assert 0 < result["all"]["bleu"] < 100
    table = study.markdown({"perfect when short": result})
    assert "| perfect when short | " in table and "| 0.00 |" in table
    assert "| 100.0 ±0.0 |" in table
    study.plot({"perfect when short": result, "copy source": result}, tmp_path / "by_length.png")
    assert (tmp_path / "by_length.png").read_bytes()[:4] == b"\x89PNG"


def test_the_length_study_names_how_the_twin_saw_the_source(tmp_path):
    study = load_study()
    runs = {
        "in_order": {"units": 8},
        "backwards": {"reverse_source": True},
        "fed": {"feed_context": True, "reverse_source": False},
        "both": {"feed_context": True, "reverse_source": True},
    }
    for name, model_args in runs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"model_args": model_args}))
    assert study.system_label("lstm_nmt", tmp_path / "in_order") == "lstm_nmt"
    assert study.system_label("lstm_nmt", tmp_path / "backwards") == "lstm_nmt (source reversed)"
    assert study.system_label("lstm_nmt", tmp_path / "fed") == "lstm_nmt (context fed)"
    both = "lstm_nmt (context fed, source reversed)"
    assert study.system_label("lstm_nmt", tmp_path / "both") == both

    # A budget other than the recipe's is named, so a shorter run never passes for the recipe's.
    for name, epochs in (("full", study.recipe_epochs()), ("short", 10)):
        (tmp_path / name).mkdir()
        config = {"model_args": {"units": 8}, "training": {"epochs": epochs}}
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    assert study.recipe_epochs() == 22
    assert study.system_label("lstm_bahdanau_nmt", tmp_path / "full") == "lstm_bahdanau_nmt"
    short = "lstm_bahdanau_nmt (10 epochs)"
    assert study.system_label("lstm_bahdanau_nmt", tmp_path / "short") == short


def test_merging_keeps_the_other_systems_rows_and_refuses_another_test_set():
    study = load_study()

    def row(bleu, counts=(8, 4, 4)):
        groups = zip(("all", "1-10", "41-200"), counts, strict=True)
        scored = {group: {"count": count, "bleu": bleu, "chrf": bleu} for group, count in groups}
        return {**scored, "long_over_short_bleu": 0.5}

    earlier = {
        "results": {
            "lstm_nmt (context fed)": row(5.0),
            "lstm_luong_nmt": row(19.0),
            "copy source": row(0.1),
            "constant output": row(0.0),
        },
        "runs": {"lstm_nmt (context fed)": {"run": "a"}, "lstm_luong_nmt": {"run": "b"}},
    }
    now = {"lstm_bahdanau_nmt": row(17.0), "copy source": row(0.2), "constant output": row(0.0)}
    results, runs = study.merged(earlier, now, {"lstm_bahdanau_nmt": {"run": "c"}})

    # The paper's order (twin, Bahdanau, Luong), baselines last and as scored now.
    assert list(results) == [
        "lstm_nmt (context fed)", "lstm_bahdanau_nmt", "lstm_luong_nmt",
        "copy source", "constant output",
    ]  # fmt: skip
    assert results["lstm_luong_nmt"]["all"]["bleu"] == 19.0
    assert results["lstm_bahdanau_nmt"]["all"]["bleu"] == 17.0
    assert results["copy source"]["all"]["bleu"] == 0.2
    assert runs == {"lstm_nmt (context fed)": {"run": "a"}, "lstm_bahdanau_nmt": {"run": "c"},
                    "lstm_luong_nmt": {"run": "b"}}  # fmt: skip
    # A system scored again replaces its earlier row.
    again, _ = study.merged(earlier, {**now, "lstm_luong_nmt": row(20.0)}, {})
    assert again["lstm_luong_nmt"]["all"]["bleu"] == 20.0

    other_test_set = {**now, "copy source": row(0.2, counts=(9, 5, 4))}
    with pytest.raises(ValueError, match="scored on other verses"):
        study.merged(earlier, other_test_set, {})
