import pytest

from zoo.data import DataFileError, load_translation
from zoo.data.tsv import read_parallel_tsv


def test_reads_pairs_and_skips_blank_lines(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("hola\thello\n\nadiós \t goodbye\n", encoding="utf-8")
    assert read_parallel_tsv(path) == [("hola", "hello"), ("adiós", "goodbye")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("a\tb\nno tab here\n", r"line 2: expected 'source<TAB>target'.*found 1"),
        ("a\tb\tc\n", r"line 1: .*found 3"),
        ("a\tb\n \tb\n", r"line 2: the source text is empty"),
        ("a\t\n", r"line 1: the target text is empty"),
        ("\n\n", r"holds no"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        read_parallel_tsv(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_parallel_tsv(tmp_path / "nope.tsv")
    path = tmp_path / "latin1.tsv"
    path.write_bytes("año\tyear\n".encode("latin-1"))
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_parallel_tsv(path)


def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(DataFileError, match=r"Unknown translation dataset 'datez'.*'dates'"):
        load_translation("datez")


def test_too_small_to_split(tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text("a\tb\nc\td\n", encoding="utf-8")
    with pytest.raises(ValueError, match="too few"):
        load_translation(str(path))
