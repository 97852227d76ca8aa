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


def write(path, rows):
    path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_columns_pick_source_and_target_of_a_wider_file(tmp_path):
    path = write(tmp_path / "three.tsv", [("1", "hola", "hello"), ("2", "adiós", "goodbye")])
    with pytest.raises(DataFileError, match="--set source_column=N --set target_column=M"):
        read_parallel_tsv(path)
    assert read_parallel_tsv(path, 2, 3) == [("hola", "hello"), ("adiós", "goodbye")]
    assert read_parallel_tsv(path, 3, 2) == [("hello", "hola"), ("goodbye", "adiós")]
    with pytest.raises(DataFileError, match=r"line 1: 3 tab-separated fields.*target_column=4"):
        read_parallel_tsv(path, 2, 4)
    with pytest.raises(ValueError, match="both 2"):
        read_parallel_tsv(path, 2, 2)
    with pytest.raises(ValueError, match="source_column"):
        read_parallel_tsv(path, 0, 2)


def pairs(n, tag):
    return [(f"{tag} fuente {i}", f"{tag} target {i}") for i in range(n)]


def test_own_validation_and_test_files_are_used_whole(tmp_path):
    train = write(tmp_path / "train.tsv", pairs(40, "tr"))
    dev = write(tmp_path / "dev.tsv", pairs(7, "dev"))
    test = write(tmp_path / "test.tsv", pairs(9, "te"))
    corpus = load_translation(str(train), validation=dev, test=test)
    assert corpus.train == pairs(40, "tr")  # all of it, in order: nothing cut or shuffled
    assert corpus.validation == pairs(7, "dev") and corpus.test == pairs(9, "te")
    # Only a test file: validation is cut from training (5 %), the test file is whole.
    corpus = load_translation(str(train), test=test)
    assert corpus.test == pairs(9, "te") and len(corpus.validation) == 2
    assert len(corpus.train) == 38 and not set(corpus.validation) & set(corpus.train)
    # A folder of the three files is the same as naming them.
    assert load_translation(str(tmp_path)) == load_translation(
        str(train), validation=dev, test=test
    )


def test_a_folder_without_train_tsv_and_named_datasets_with_files(tmp_path):
    with pytest.raises(DataFileError, match="without train.tsv.*dev.tsv"):
        load_translation(str(tmp_path))
    dev = write(tmp_path / "dev.tsv", pairs(3, "dev"))
    with pytest.raises(DataFileError, match="own validation and test sets"):
        load_translation("dates", validation=dev)
    with pytest.raises(DataFileError, match="source_column / target_column"):
        load_translation("dates", columns=(2, 3))


def test_held_out_files_take_the_same_columns(tmp_path):
    train = write(tmp_path / "a.tsv", [(str(i), f"s{i}", f"t{i}") for i in range(30)])
    test = write(tmp_path / "b.tsv", [("x", "s-test", "t-test")])
    corpus = load_translation(str(train), columns=(2, 3), test=test)
    assert corpus.test == [("s-test", "t-test")]
    assert all(s.startswith("s") and t.startswith("t") for s, t in corpus.train)
