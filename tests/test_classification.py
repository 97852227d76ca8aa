import json

import numpy as np
import pytest
from made_once import trained_once

from zoo.cli import main
from zoo.data import DataFileError
from zoo.metrics import classification_metrics
from zoo.tasks.classification.predictor import Classifier
from zoo.tasks.classification.scoring import evaluate_classifier
from zoo.training import train

TINY = {"units": 16, "embedding_dim": 16, "hidden_units": 16, "batch_size": 16}


@pytest.fixture(scope="module")
def attention_run(reviews_csv, tmp_path_factory):
    return trained_once(tmp_path_factory, "classification", lambda runs: train(
        "lstm_selfattn_classifier", str(reviews_csv), runs_root=runs, epochs=6, verbose=0,
        learning_rate=1e-2, attention_examples=2, **TINY,
    ))  # fmt: skip


def test_metrics_by_hand():
    metrics = classification_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert metrics["accuracy"] == 0.75
    assert metrics["confusion_matrix"] == [[1, 1], [0, 2]]
    f1_a, f1_b = 2 * 1 * 0.5 / 1.5, 2 * (2 / 3) * 1 / (2 / 3 + 1)
    assert metrics["macro_f1"] == pytest.approx((f1_a + f1_b) / 2)


def test_the_classifier_learns_and_writes_its_run(attention_run):
    metrics = json.loads((attention_run / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9, metrics  # the templated reviews are easy
    assert metrics["labels"] == ["fresh", "rotten"]
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["count"]
    names = {p.name for p in (attention_run / "attention").iterdir()}
    assert {"example_0.png", "example_0.html", "example_1.png", "example_1.html"} <= names
    page = (attention_run / "attention" / "example_0.html").read_text()
    assert "head 4" in page and "<span" in page


def test_classifier_loads_and_explains(attention_run):
    classifier = Classifier.load(attention_run)
    out = classifier.classify(["the film is wonderful , scene 3", "the plot is dull , scene 9"])
    assert out["label"] == ["fresh", "rotten"]
    np.testing.assert_allclose(out["probabilities"].sum(-1), 1.0, rtol=1e-5)
    assert out["attention"][0].shape == (4, len(out["tokens"][0]))
    with pytest.raises(ValueError, match="empty"):
        classifier.classify([""])


def test_unknown_label_at_evaluation(attention_run):
    classifier = Classifier.load(attention_run)
    with pytest.raises(DataFileError, match=r"labels \['meh'\] were not seen in training"):
        evaluate_classifier(classifier, [("the film is fine", "meh")])


def test_cli_predict_and_evaluate(attention_run, reviews_csv, capsys):
    assert main(["predict", str(attention_run), "the cast is brilliant , scene 1", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["label"] == "fresh" and set(row["probabilities"]) == {"fresh", "rotten"}
    assert main(["evaluate", str(attention_run)]) == 0
    assert "accuracy" in capsys.readouterr().out
    # a user's test file is scored whole, and its predictions are written beside the metrics
    assert main(["evaluate", str(attention_run), "--data", str(reviews_csv)]) == 0
    assert "scored 300 examples" in capsys.readouterr().out
    out = attention_run / "evaluations" / "reviews"
    metrics = json.loads((out / "metrics.json").read_text())
    lines = (out / "test_predictions.tsv").read_text("utf-8").splitlines()
    assert lines[0] == "text\tlabel\tpredicted" and len(lines) == 301
    correct = sum(line.split("\t")[1] == line.split("\t")[2] for line in lines[1:])
    assert correct / 300 == pytest.approx(metrics["accuracy"])


def test_single_label_file_is_rejected(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\n" + "".join(f"text {i},pos\n" for i in range(30)))
    with pytest.raises(DataFileError, match="at least two labels"):
        train("lstm_classifier", str(path), runs_root=tmp_path, epochs=1, verbose=0)


def test_integrated_gradients_credit_the_deciding_word(attention_run):
    from zoo.tasks.classification.explanations import integrated_gradients

    classifier = Classifier.load(attention_run)
    texts = ["the film is wonderful , scene 3", "the plot is dull , scene 9"]
    out = classifier.classify(texts)
    assert out["label"] == ["fresh", "rotten"]
    for text, tokens, scores in zip(texts, out["tokens"], integrated_gradients(classifier, texts),
                                    strict=True):  # fmt: skip
        assert len(scores) == len(tokens)
        word = tokens[3]  # "wonderful" / "dull": what decides the label
        assert scores[3] > scores[tokens.index(",")], (text, dict(zip(tokens, scores, strict=True)))
        assert scores[3] == max(scores), (word, dict(zip(tokens, scores, strict=True)))


def test_integrated_gradients_add_up_to_the_change_in_probability(attention_run):
    import keras
    import tensorflow as tf

    from zoo.tasks.classification.explanations import integrated_gradients

    classifier = Classifier.load(attention_run)
    text = "the cast is brilliant , scene 12"
    (scores,) = integrated_gradients(classifier, [text], steps=128)
    ids = classifier.text.encode([text])
    mask = tf.not_equal(ids, 0)
    embedded = classifier.model.embedding(ids)
    p = tf.nn.softmax(classifier.model.classify_embedded(embedded, mask)[0])[0]
    p0 = tf.nn.softmax(classifier.model.classify_embedded(0.0 * embedded, mask)[0])[0]
    label = int(np.argmax(keras.ops.convert_to_numpy(p)))
    assert scores.sum() == pytest.approx(float(p[label] - p0[label]), abs=0.02)


def test_explanations_are_drawn_for_the_baseline_too(reviews_csv, tmp_path):
    run = train("lstm_classifier", str(reviews_csv), runs_root=tmp_path, epochs=1, verbose=0,
                attention_examples=1, **TINY)  # fmt: skip
    page = (run / "attention" / "example_0.html").read_text()
    assert "integrated gradients" in page and "attention, head" not in page
    assert (run / "attention" / "example_0.png").is_file()


def test_labels_with_line_breaks_survive_the_run(tmp_path):
    from zoo.tasks.classification.pipeline import LabelPipeline

    examples = [(f"text {i}", "good\rnews" if i % 2 else "bad\nnews") for i in range(20)]
    pipeline = LabelPipeline.fit(examples)
    pipeline.save(tmp_path)
    assert LabelPipeline.load(tmp_path).labels == ["bad\nnews", "good\rnews"]


def test_a_folder_given_as_data_is_named_as_such(tmp_path):
    with pytest.raises(DataFileError, match="is a folder; give the path of a data file"):
        train("lstm_classifier", str(tmp_path), runs_root=tmp_path / "runs")


def test_texts_are_cut_at_max_length_as_their_lengths_say():
    from zoo.tasks.classification.pipeline import LabelPipeline

    text = LabelPipeline.fit([("a b c d e f", "x"), ("a b", "y")], max_length=4)
    texts = ["a b c d e f", "a b", "f e d c b a a a"]
    ids = text.encode(texts).numpy()
    assert ids.shape == (3, 5)  # 4 tokens at most, then the padding column
    assert ids[:, -1].tolist() == [0, 0, 0]
    assert ids[0, :4].tolist() == text.encode(["a b c d"]).numpy()[0, :4].tolist()
    assert ids[2, :4].tolist() == text.encode(["f e d c"]).numpy()[0, :4].tolist()
    assert (ids[1, 2:] == 0).all()
    assert text.lengths(texts).tolist() == [5, 3, 5]
    # Shorter than max_length: as wide as the longest text, plus the padding column.
    assert text.encode(["a b", "a"]).shape == (2, 3)
