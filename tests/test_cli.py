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


# Runs as on a machine with neither JAX nor TensorFlow (the main job's environment has no JAX):
# reading the registry must import no backend, not even Keras.
NO_BACKEND = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("jax", "jaxlib", "tensorflow", "keras", "torch"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")

sys.meta_path.insert(0, Blocker())
from zoo.cli import main
code = main(COMMAND)
print("BACKENDS LOADED" if {"keras", "tensorflow", "jax"} & set(sys.modules) else "NO BACKEND")
sys.exit(code)
"""


@pytest.mark.parametrize("command", [["list"], ["describe", "lstm_bahdanau_nmt"]])
def test_list_and_describe_read_the_registry_without_any_backend(command):
    script = NO_BACKEND.replace("COMMAND", repr(command))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lstm_bahdanau_nmt" in result.stdout
    assert result.stdout.strip().endswith("NO BACKEND")
    if command[0] == "describe":  # the task's settings, with the entry's and the data's own
        described = json.loads(result.stdout.rsplit("\n", 2)[0])
        assert described["training"]["token_level"] == "char"  # dates' default
        assert described["training"]["beam_size"] == 4 and described["training"]["epochs"] == 10


def test_output_into_a_closed_pipe_ends_quietly():
    # `zoo list | head -1`: the reader's end is closed before zoo writes, so every write fails.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        script = "import sys; from zoo.cli import main; sys.exit(main(['list']))"
        result = subprocess.run(
            [sys.executable, "-c", script], stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=300,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


def test_tensorflow_start_up_noise_is_dropped_and_real_errors_kept():
    from zoo.startup import unexpected_lines

    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795458598.136995   31866 cudart_stub.cc:31] Could not find cuda drivers "
        "on your machine, GPU will not be used.\n"
        "E0000 00:00:1795458603.914159   31866 cuda_platform.cc:52] failed call to cuInit: "
        "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
        "I0000 00:00:1795458598.138049   31866 port.cc:153] oneDNN custom operations are on. "
        "You may see slightly different numerical results due to floating-point round-off "
        "errors from different computation orders. To turn them off, set the environment "
        "variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"
    )
    real = "E0000 00:00:1795458603.9 31866 some_op.cc:12] could not allocate memory\n"
    assert unexpected_lines(noise + real + noise) == real


@pytest.mark.skipif(os.path.exists("/proc/driver/nvidia"), reason="a GPU driver is present")
def test_a_command_on_a_machine_without_gpu_prints_no_cuda_probe():
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "predict", "no/such/run", "hola"],  # starts TF
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert result.returncode == 2 and "does not exist" in result.stderr, result.stderr[-2000:]
    assert "cuInit" not in result.stderr and "cudart_stub" not in result.stderr, result.stderr
    assert "oneDNN custom operations are on" not in result.stderr, result.stderr


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


def test_a_tuning_dir_that_is_a_file_is_named(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, _, err = run_cli(capsys, "tune", "lstm_nmt", "--dir", str(a_file))
    assert code == 2 and "is a file; the search keeps its state in a folder" in err


def test_a_port_out_of_range_is_named():
    from zoo.distribute.search import parse_address

    with pytest.raises(ValueError, match="between 1 and 65535"):
        parse_address("127.0.0.1:99999")
    assert parse_address("localhost:8000") == ("localhost", 8000)


def test_an_input_folder_is_named_as_a_folder(tmp_path):
    from zoo.file_translation import read_lines

    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_lines(tmp_path)


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path):
    from zoo.data.speech import read_speech_folder
    from zoo.data.tsv import DataFileError

    (tmp_path / "transcripts.tsv").write_bytes("a.wav\tone\nb.wav\tcaf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"transcripts.tsv, line 2: not UTF-8 text .*0xe9"):
        read_speech_folder(tmp_path)


def test_describe_marks_what_the_data_decides_and_errors_list_only_settable_names(capsys):
    code, out, _ = run_cli(capsys, "describe", "lstm_luong_nmt")
    model = json.loads(out)["model"]
    assert model["source_vocab_size"] == model["target_vocab_size"] == "from the data"
    assert model["units"] == zoo.spec("lstm_luong_nmt").defaults["units"]
    code, _, err = run_cli(capsys, "train", "lstm_luong_nmt", "--set", "unitz=3")
    assert code == 2 and "'unitz'" in err and "'units'" in err
    assert "source_vocab_size" not in err.split("Model arguments:")[1].split(";")[0]


def test_train_and_tune_read_a_time_budget(capsys, monkeypatch):
    import zoo.training
    import zoo.tuning

    seen = {}

    def fake_train(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt  # stop before anything trains

    monkeypatch.setattr(zoo.training, "train", fake_train)
    assert run_cli(capsys, "train", "lstm_nmt", "--time-budget", "10m")[0] == 130
    assert seen["time_budget"] == 600
    monkeypatch.setattr(zoo.tuning, "tune", fake_train)
    assert run_cli(capsys, "tune", "lstm_nmt", "--time-budget", "2h")[0] == 130
    assert seen["time_budget"] == 7200
    code, _, err = run_cli(capsys, "tune", "lstm_nmt", "--time-budget", "soon")
    assert code == 2 and "Cannot read the time budget 'soon'" in err
