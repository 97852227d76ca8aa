"""`zoo train NAME --init-from RUN`: a new run that starts from a finished run's weights, reads
the new data through the source's pipeline, and changes only training settings."""

import json

import numpy as np
import pytest
from made_once import trained_once

from zoo.cli import main
from zoo.training import train

# Evaluation settings may change in a fine-tuned run: greedy, no attention plots (faster).
QUICK_EVALUATION = {"beam_size": 1, "attention_examples": 0}
TINY = {"units": 8, "embedding_dim": 8, "batch_size": 32, **QUICK_EVALUATION}


@pytest.fixture(scope="module")
def source_run(dates_tsv, tmp_path_factory):
    return trained_once(tmp_path_factory, "fine-tuning-source", lambda runs: train(
        "lstm_luong_nmt", str(dates_tsv), runs_root=runs, epochs=2, verbose=0, **TINY
    ))  # fmt: skip


def other_pairs(path, count=120):
    """Pairs the source never saw: written dates reversed into ISO order by hand."""
    months = ["January", "February", "March", "April", "May", "June"]
    lines = [f"{d} {months[m]} {2000 + y}\t{2000 + y}-{m + 1:02d}-{d:02d}"
             for y, m, d in zip(range(count), [i % 6 for i in range(count)],
                                [1 + i % 28 for i in range(count)], strict=True)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def weights_of(run):
    import keras

    return keras.saving.load_model(run / "model.keras", compile=False).get_weights()


def test_fine_tuning_starts_from_the_source_weights_and_keeps_its_vocabulary(source_run, tmp_path):
    data = other_pairs(tmp_path / "other.tsv")
    # A learning rate too small to move a float32 weight: the new run holds where it started.
    run = train("lstm_luong_nmt", str(data), runs_root=tmp_path / "runs", init_from=source_run,
                epochs=1, learning_rate=1e-30, verbose=0, **QUICK_EVALUATION)  # fmt: skip
    for kept, source in zip(weights_of(run), weights_of(source_run), strict=True):
        np.testing.assert_array_equal(kept, source)
    config = json.loads((run / "config.json").read_text())
    source_config = json.loads((source_run / "config.json").read_text())
    assert config["model_args"] == source_config["model_args"]
    assert config["training"]["init_from"] == str(source_run.resolve())
    assert config["model_args"]["units"] == 8  # the source's, as its other settings
    assert config["training"]["epochs"] == 1 and config["training"]["batch_size"] == 32
    for vocabulary in sorted(source_run.glob("*vocab*")):
        assert (run / vocabulary.name).read_bytes() == vocabulary.read_bytes()
    # Trained from scratch, the run's vocabulary would be the new data's (a smaller one).
    fresh = train("lstm_luong_nmt", str(data), runs_root=tmp_path / "fresh", epochs=1,
                  verbose=0, **TINY)  # fmt: skip
    assert weights_of(fresh)[0].shape[0] < weights_of(run)[0].shape[0]


def test_fine_tuning_learns_on_the_new_data(source_run, tmp_path):
    data = other_pairs(tmp_path / "other.tsv")
    run = train("lstm_luong_nmt", str(data), runs_root=tmp_path, init_from=source_run,
                epochs=2, verbose=0, **QUICK_EVALUATION)  # fmt: skip
    history = (run / "history.csv").read_text().splitlines()
    losses = [float(line.split(",")[1]) for line in history[1:]]
    assert losses[-1] < losses[0]


def test_fine_tuning_refuses_another_model_another_architecture_or_an_unfinished_run(
    source_run, tmp_path, capsys
):
    data = other_pairs(tmp_path / "other.tsv")
    with pytest.raises(ValueError, match="lstm_luong_nmt run; its weights fit lstm_luong_nmt"):
        train("lstm_nmt", str(data), runs_root=tmp_path, init_from=source_run)
    with pytest.raises(ValueError, match=r"\['units'\] would change it"):
        train("lstm_luong_nmt", str(data), runs_root=tmp_path, init_from=source_run, units=16)
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text((source_run / "config.json").read_text())
    assert main(["train", "lstm_luong_nmt", "--data", str(data), "--init-from",
                 str(unfinished), "--runs-root", str(tmp_path)]) != 0  # fmt: skip
    assert "has no trained model" in capsys.readouterr().err


def test_a_forecaster_fine_tuned_on_another_meter_keeps_its_scaling_and_windows(load_csv, tmp_path):
    tiny = {"units": 8, "head_units": 8, "lookback": 24, "horizon": 12, "stride": 4,
            "epochs": 1, "target": "load"}  # fmt: skip
    source = train("lstm_forecaster", str(load_csv), runs_root=tmp_path, verbose=0, **tiny)
    lines = load_csv.read_text().splitlines()
    meter = tmp_path / "meter.csv"  # another meter: half the load, over the same weeks
    meter.write_text("\n".join([lines[0]] + [
        ",".join([t, f"{float(v) / 2:.4f}", *rest])
        for t, v, *rest in (line.split(",") for line in lines[1:])
    ]) + "\n")  # fmt: skip
    run = train("lstm_forecaster", str(meter), runs_root=tmp_path / "tuned", init_from=source,
                learning_rate=1e-30, verbose=0)  # fmt: skip
    for kept, start in zip(weights_of(run), weights_of(source), strict=True):
        np.testing.assert_array_equal(kept, start)
    tuned, original = (json.loads((r / "series.json").read_text()) for r in (run, source))
    for key in ("mean", "std", "lookback", "horizon", "naive_period"):
        assert tuned[key] == original[key], key
    assert json.loads((run / "metrics.json").read_text())["count"] > 0


def test_frozen_layers_keep_the_source_weights_and_the_others_learn(source_run, tmp_path):
    import keras

    data = other_pairs(tmp_path / "other.tsv")
    frozen = ["source_embedding", "encoder"]
    run = train("lstm_luong_nmt", str(data), runs_root=tmp_path, init_from=source_run,
                epochs=1, learning_rate=1e-2, verbose=0, freeze=frozen,
                **QUICK_EVALUATION)  # fmt: skip
    tuned, source = (keras.saving.load_model(r / "model.keras", compile=False)
                     for r in (run, source_run))  # fmt: skip
    moved = {}
    for layer in source.layers:
        before = layer.get_weights()
        after = tuned.get_layer(layer.name).get_weights()
        if before:
            moved[layer.name] = any(
                not np.array_equal(a, b) for a, b in zip(after, before, strict=True)
            )
    assert sorted(name for name, changed in moved.items() if not changed) == sorted(
        name for name in moved if name.startswith(tuple(frozen))
    )
    assert any(moved.values())  # the rest learned
    assert json.loads((run / "config.json").read_text())["training"]["freeze"] == frozen


def test_freezing_names_the_layers_it_can_freeze(source_run, tmp_path):
    data = other_pairs(tmp_path / "other.tsv")
    with pytest.raises(ValueError, match="no layer of lstm_luong_nmt is named 'speller'.*encoder"):
        train("lstm_luong_nmt", str(data), runs_root=tmp_path, init_from=source_run,
              epochs=1, verbose=0, freeze=["speller"])  # fmt: skip
    with pytest.raises(ValueError, match="give that run with --init-from"):
        train("lstm_luong_nmt", str(data), runs_root=tmp_path, freeze=["encoder"], **TINY)
