"""Exports load and answer like the library: in a fresh process, in a TF1 Session, via the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.data.dates import generate_dates
from zoo.serving import export, versions
from zoo.tasks.classification.pipeline import LabelPipeline
from zoo.tasks.classification.predictor import Classifier
from zoo.tasks.translation.pipeline import TextPipeline
from zoo.tasks.translation.predictor import ExportedTranslator, Translator

ROOT = Path(__file__).parents[1]
BATCH = [
    "3 de marzo de 2015",
    "",
    "Samstag, 14. Juli 1990 " * 40,  # longer than max_source_length: truncated
    "2031年12月1日",
    "вторник, 3 марта 2015 г.",
    "ελληνικά ☃ emoji 🎉",
]
FRESH_PROCESS = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the tokenization ops)
loaded = tf.saved_model.load(sys.argv[1])
texts = tf.constant(json.loads(sys.argv[2]))
out = loaded.signatures["serving_default"](text=texts)
assert "zoo" not in sys.modules
result = {}
for key, value in out.items():
    value = value.numpy()
    result[key] = [v.decode("utf-8") for v in value] if value.dtype == object else value.tolist()
if "attention" in loaded.signatures:
    att = loaded.signatures["attention"](text=texts)
    result["attention_shape"] = list(att["weights"].shape)
    tokens = att["source_tokens"] if "source_tokens" in att else att["tokens"]
    result["tokens"] = [t.decode("utf-8") for t in tokens.numpy()[0] if t]
print(json.dumps(result))
"""


def one_fast_rest_slow(names):
    """Every model of a task, the first in the default run, the others with the slow tests
    (an export in a fresh process takes 25-45 s a model on a 2-core machine)."""
    return [names[0], *(pytest.param(name, marks=pytest.mark.slow) for name in names[1:])]


def tiny_translator(name, level="char", model_args=None, pairs=None, placeholders=None, **search):
    pairs = pairs or generate_dates(60, seed=3)
    text = TextPipeline.fit(
        pairs, level=level, max_source_length=50, max_vocab_size=400, placeholders=placeholders
    )
    model = zoo.get(
        name,
        source_vocab_size=len(text.source_vocab),
        target_vocab_size=len(text.target_vocab),
        units=8,
        embedding_dim=4,
        **(model_args or {}),
    )
    return Translator(model, text, **search)


def run_fresh(path, texts):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(path), json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def tiny_classifier(name):
    words = ["good", "bad", "fine", "awful", "great", "dull"]
    examples = [(f"a {w} film {i}", "pos" if w in ("good", "fine", "great") else "neg")
                for i, w in enumerate(words * 5)]  # fmt: skip
    text = LabelPipeline.fit(examples, max_length=30)
    model = zoo.get(
        name, vocab_size=len(text.vocab), num_classes=2, units=8, embedding_dim=4, hidden_units=4
    )
    return Classifier(model, text)


@pytest.mark.parametrize("name", one_fast_rest_slow(zoo.list_models(task="translation")))
def test_translation_export_answers_in_a_fresh_process_like_the_library(name, tmp_path):
    translator = tiny_translator(name, beam_size=3)
    path = export(translator, root=tmp_path)
    assert path == tmp_path / name / "1"
    served = run_fresh(path, BATCH)
    assert served["translation"] == translator.translate_all(BATCH)
    expected = translator._translate_texts(tf.constant(BATCH))["log_prob"].numpy()
    np.testing.assert_allclose(served["log_prob"], expected, rtol=1e-5)
    assert served["attention_shape"][0] == len(BATCH)
    assert served["tokens"] == list("3 de marzo de 2015")


# The bible-es-en recipe's twin (context fed) and Sutskever's reversal: both happen inside the
# exported graph too.
@pytest.mark.parametrize("way", ["feed_context", "reverse_source"])
def test_a_twin_that_sees_the_source_its_own_way_exports_like_the_library(way, tmp_path):
    translator = tiny_translator("lstm_nmt", model_args={way: True}, beam_size=2)
    path = export(translator, root=tmp_path)
    texts = [*BATCH, "el 1 de enero de 1999"]
    served = run_fresh(path, texts)
    assert served["translation"] == translator.translate_all(texts)
    expected = translator._translate_texts(tf.constant(texts))["log_prob"].numpy()
    np.testing.assert_allclose(served["log_prob"], expected, rtol=1e-5)


@pytest.mark.slow(seconds=80)  # the default run stays short
def test_the_export_copies_every_placeholder_like_the_library(tmp_path):
    # An untrained model writes anything; each directive of each source still comes out.
    messages = [("Copied %1$s of %2$s files", "%2$s fichiers : %1$s copiés"),
                ("Delete {count} from <b>{folder}</b>?", "Supprimer {count} de <b>{folder}</b> ?"),
                ("%lu bytes, %5.2f%% done", "%lu octets, %5.2f%% faits")]  # fmt: skip
    pairs = [*messages * 5, *generate_dates(30, seed=3)]
    translator = tiny_translator(
        "lstm_luong_nmt", pairs=pairs, placeholders=["printf", "brace", "xml"], beam_size=2
    )
    path = export(translator, root=tmp_path)
    texts = [source for source, _ in messages] + ["%s: %s", "3 de marzo de 2015"]
    served = run_fresh(path, texts)
    assert served["translation"] == translator.translate_all(texts)
    directives = [["%1$s", "%2$s"], ["{count}", "<b>", "{folder}", "</b>"],
                  ["%lu", "%5.2f", "%%"], ["%s", "%s"], []]  # fmt: skip
    for translation, expected in zip(served["translation"], directives, strict=True):
        for directive in set(expected):
            assert translation.count(directive) >= expected.count(directive), translation
    assert served["tokens"][:6] == list("Copied")
    assert served["tokens"][7] == "%1$s"  # the attention signature shows the placeholder
    # The n_best signature: the beam's 2 best, placeholders restored, as the library lists them.
    exported = ExportedTranslator(tf.saved_model.load(str(path))).n_best(texts, 2)
    listed = translator.n_best(texts, 2)
    assert [[h["translation"] for h in row] for row in exported] == [
        [h["translation"] for h in row] for row in listed
    ]
    np.testing.assert_allclose(
        [[h["score"] for h in row] for row in exported],
        [[h["score"] for h in row] for row in listed],
        rtol=1e-5,
    )
    assert all("%1$s" in h["translation"] for h in exported[0])
    with pytest.raises(ValueError, match="keeps 2 hypotheses"):
        ExportedTranslator(tf.saved_model.load(str(path))).n_best(texts, 3)


# BPE runs the same graph ops as unigram (only training differs): kept out of the default run.
@pytest.mark.parametrize("level", ["unigram", pytest.param("bpe", marks=pytest.mark.slow)])
def test_subword_export_tokenizes_and_detokenizes_in_the_graph(level, tmp_path):
    translator = tiny_translator("lstm_luong_nmt", level=level, beam_size=2)
    path = export(translator, root=tmp_path)
    texts = [*BATCH, "Ça va très bien, merci ¿sí?"]
    served = run_fresh(path, texts)  # TF + tensorflow-text only
    assert served["translation"] == translator.translate_all(texts)
    assert all("▁" not in t for t in served["translation"])  # detokenized text, not pieces
    pieces = translator.translate(texts[:1])["source_tokens"][0]
    assert served["tokens"] == pieces and "".join(pieces).replace("▁", " ").strip() == texts[0]


@pytest.mark.parametrize("name", one_fast_rest_slow(zoo.list_models(task="classification")))
def test_classification_export_answers_in_a_fresh_process_like_the_library(name, tmp_path):
    classifier = tiny_classifier(name)
    path = export(classifier, root=tmp_path)
    served = run_fresh(path, BATCH)
    assert served["label"] == classifier.classify_all(BATCH)
    expected, _ = classifier.scores(classifier.text.encode(BATCH))
    np.testing.assert_allclose(served["probabilities"], expected, rtol=1e-5, atol=1e-7)
    if classifier.model.attention is None:
        assert "attention_shape" not in served
    else:
        heads = classifier.model.heads
        assert served["attention_shape"][:2] == [len(BATCH), heads]
        assert served["tokens"] == ["3", "de", "marzo", "de", "2015"]


def test_tf_serving_style_session_load(tmp_path):
    translator = tiny_translator("lstm_luong_nmt")
    path = export(translator, root=tmp_path)
    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(path))
        signature = meta.signature_def["serving_default"]
        fetches = {k: v.name for k, v in signature.outputs.items()}
        out = session.run(fetches, {signature.inputs["text"].name: BATCH})
    assert [t.decode("utf-8") for t in out["translation"]] == translator.translate_all(BATCH)
    assert out["log_prob"].dtype == np.float32


def test_saved_model_cli_lists_both_string_signatures(tmp_path):
    path = export(tiny_translator("lstm_nmt"), root=tmp_path)
    cli = Path(sys.executable).parent / "saved_model_cli"
    shown = subprocess.run(
        [str(cli), "show", "--dir", str(path), "--all"], capture_output=True, text=True, check=True
    ).stdout
    for signature in ("serving_default", "attention"):
        block = shown.split(f"signature_def['{signature}']:")[1].split("signature_def[")[0]
        inputs = block.split("The given SavedModel SignatureDef contains the following output")[0]
        assert "inputs['text']" in inputs and "DT_STRING" in inputs


def test_warmup_requests_are_prediction_logs(tmp_path):
    from tensorflow_serving.apis import prediction_log_pb2

    path = export(tiny_translator("lstm_nmt"), root=tmp_path, warmup=["a", "b"])
    records = list(
        tf.data.TFRecordDataset(str(path / "assets.extra" / "tf_serving_warmup_requests"))
    )
    assert len(records) == 2
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    request = log.predict_log.request
    assert request.model_spec.name == "lstm_nmt"
    assert request.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(request.inputs["text"]).tolist() == [b"a"]


def test_versions_are_never_overwritten(tmp_path):
    translator = tiny_translator("lstm_nmt")
    assert export(translator, root=tmp_path).name == "1"
    assert export(translator, root=tmp_path).name == "2"
    assert export(translator, root=tmp_path, version=7).name == "7"
    before = sorted(p.name for p in (tmp_path / "lstm_nmt").iterdir())
    with pytest.raises(FileExistsError, match="never overwritten"):
        export(translator, root=tmp_path, version=2)
    assert sorted(p.name for p in (tmp_path / "lstm_nmt").iterdir()) == before  # no leftovers
    assert versions(tmp_path / "lstm_nmt") == [1, 2, 7]
    config = (tmp_path / "models.config").read_text()
    assert 'name: "lstm_nmt"' in config
    assert f'base_path: "{(tmp_path / "lstm_nmt").resolve()}"' in config


def test_models_config_lists_every_model(tmp_path):
    export(tiny_translator("lstm_nmt"), root=tmp_path)
    export(tiny_translator("lstm_luong_nmt"), root=tmp_path)
    config = (tmp_path / "models.config").read_text()
    assert config.count("config {") == 2 and 'name: "lstm_luong_nmt"' in config


def test_non_utf8_bytes_get_a_defined_output(tmp_path):
    translator = tiny_translator("lstm_luong_nmt")
    path = export(translator, root=tmp_path)
    loaded = tf.saved_model.load(str(path))
    out = loaded.signatures["serving_default"](text=tf.constant([b"\xff\xfe3 mars", b"ok"]))
    assert out["translation"].shape == (2,)
    out["translation"].numpy()[0].decode("utf-8")  # valid UTF-8 comes back


def test_bad_export_requests(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export(tmp_path / "no_run")
    (tmp_path / "unfinished").mkdir()
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        export(tmp_path / "unfinished")
    config = {"task": "translation", "training": {}}
    (tmp_path / "unfinished" / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="holds no trained model"):
        export(tmp_path / "unfinished")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="Cannot write to the export root"):
        export(tiny_translator("lstm_nmt"), root=blocker)
    with pytest.raises(ValueError, match="version"):
        export(tiny_translator("lstm_nmt"), root=tmp_path / "ok", version=0)


def test_cli_predict_reads_exports(tmp_path, capsys):
    from zoo.cli import main

    translator = tiny_translator("lstm_luong_nmt")
    export(translator, root=tmp_path)
    assert main(["predict", str(tmp_path / "lstm_luong_nmt"), "3 de marzo de 2015", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["translation"] == translator.translate_all(["3 de marzo de 2015"])[0]
    assert main(["predict", str(tmp_path / "lstm_luong_nmt"), ""]) == 2
    assert "empty" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["..", "../escape", 'quote"d', "a/b", " spaced"])
def test_names_that_escape_the_root_or_break_models_config_are_refused(name, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="cannot be served"):
        export(tiny_translator("lstm_nmt"), root=root, name=name)
    assert not any(p.is_dir() for p in tmp_path.iterdir() if p != root)
    assert not (root / "models.config").exists()


def test_a_file_in_the_way_is_named_and_skipped(tmp_path):
    translator = tiny_translator("lstm_nmt")
    (tmp_path / "lstm_nmt").mkdir()
    (tmp_path / "lstm_nmt" / "1").write_text("not a model")
    with pytest.raises(FileExistsError, match="is a file, not a SavedModel version"):
        export(translator, root=tmp_path, version=1)
    assert export(translator, root=tmp_path).name == "2"  # the next free number


def test_stale_staging_folders_are_cleaned(tmp_path):
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # a process that no longer exists, as after a killed export
    stale = tmp_path / "lstm_nmt" / f".staging-{gone.pid}-abc"
    live = tmp_path / "lstm_nmt" / f".staging-{os.getpid()}-def"  # an export in progress
    stale.mkdir(parents=True)
    live.mkdir()
    export(tiny_translator("lstm_nmt"), root=tmp_path)
    assert not stale.exists() and live.exists()


def test_concurrent_exports_take_distinct_versions(tmp_path, monkeypatch):
    from zoo import serving

    translator = tiny_translator("lstm_nmt")
    real_rename = os.rename

    def rival_first(source, target):
        # Another export finishes version 1 between our choice of it and our rename.
        if Path(target).name == "1" and not Path(target).exists():
            Path(target).mkdir()
            (Path(target) / "saved_model.pb").write_text("rival")
        return real_rename(source, target)

    monkeypatch.setattr(serving.os, "rename", rival_first)
    path = export(translator, root=tmp_path)
    assert path.name == "2" and (path / "saved_model.pb").read_bytes() != b"rival"
    assert (tmp_path / "lstm_nmt" / "1" / "saved_model.pb").read_text() == "rival"


def test_cli_predict_labels_an_exported_classifiers_probabilities(tmp_path, capsys):
    from zoo.cli import main

    classifier = tiny_classifier("lstm_attention_classifier")
    export(classifier, root=tmp_path)
    assert (
        main(["predict", str(tmp_path / "lstm_attention_classifier"), "a good film", "--json"]) == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert set(row["probabilities"]) == {"neg", "pos"}  # labelled, as from a run directory
    assert row["label"] == classifier.classify_all(["a good film"])[0]
    assert main(["predict", str(tmp_path / "lstm_attention_classifier"), "ok", " "]) == 2
    assert "Text 2 is empty: give a non-empty text to a classification model" in (
        capsys.readouterr().err
    )


def test_exporting_on_another_backend_says_to_use_tensorflow(tmp_path):
    pytest.importorskip("jax")
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "export", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Export with KERAS_BACKEND=tensorflow" in result.stderr
    assert "Traceback" not in result.stderr
