import json
import os
import subprocess
import sys

import pytest

import zoo
from zoo.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_and_describe(capsys):
    code, out, _ = run_cli(capsys, "list", "--task", "translation")
    assert code == 0 and "lstm_luong_nmt" in out and "lstm_nmt" in out
    code, out, _ = run_cli(capsys, "describe", "lstm_bahdanau_nmt")
    described = json.loads(out)
    assert described["twin"] == "lstm_nmt" and described["model"]["bidirectional"] is True
    assert described["training"]["epochs"] == zoo.spec("lstm_bahdanau_nmt").training["epochs"]


def test_list_reads_the_registry_without_tensorflow():
    script = (
        "import sys; from zoo.cli import main; main(['list']); "
        "print('TF LOADED' if 'tensorflow' in sys.modules else 'TF NOT LOADED')"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lstm_attention_forecaster" in result.stdout
    assert result.stdout.strip().endswith("TF NOT LOADED")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["describe", "lstm_luong"], "Did you mean 'lstm_luong_nmt'"),
        (["train", "lstm_nmt", "--data", "nope"], "Unknown translation dataset 'nope'"),
        (["train", "lstm_nmt", "--data", "missing.tsv"], "does not exist"),
        (["train", "lstm_nmt", "--set", "units"], "KEY=VALUE"),
        (["predict", "no/such/run", "hola"], "does not exist"),
        (["evaluate", "no/such/run"], "has not finished"),
    ],
)
def test_bad_input_is_a_clear_error(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err


def test_predict_needs_a_finished_run(capsys, tmp_path):
    code, _, err = run_cli(capsys, "predict", str(tmp_path), "hola")
    assert code == 2 and "is not a run directory" in err
    (tmp_path / "config.json").write_text(json.dumps({"task": "translation", "training": {}}))
    code, _, err = run_cli(capsys, "predict", str(tmp_path), "hola")
    assert code == 2 and "holds no trained model" in err
