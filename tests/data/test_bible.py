"""The bible-es-en reader on scripted mod2imp output (the real modules are Debian packages)."""

import os

import pytest

from zoo.data import MissingDataPackageError, bible
from zoo.data.bible import aligned, parse_imp, plain_text, split_by_book

IMP = """$$$[ Module Heading ]
$$$Genesis 0:0
<div type="book"/> <title type="main">Genesis</title>
$$$Genesis 1:0
<chapter n="1"/>
$$$Genesis 1:1
<w lemma="strong:H7225">In</w> <w>the</w> beginning, God<note placement="foot"><reference>1:1 \
</reference>The Hebrew word “God” is Elohim.</note>created &amp; the heavens.
$$$Psalms 3:1
<title canonical="true" type="psalm">A Psalm by David.</title> <l level="1"/>Yahweh, how \
<title type="x-section">Trust</title>many!
"""


def test_markup_rules():
    verses = parse_imp(IMP)
    assert list(verses) == [("Genesis", 1, 1), ("Psalms", 3, 1)]  # verse 0 and headings dropped
    # A footnote goes with its text and leaves a space; entities are unescaped.
    assert verses[("Genesis", 1, 1)] == "In the beginning, God created & the heavens."
    # A psalm's canonical title is scripture and stays; a section heading does not.
    assert verses[("Psalms", 3, 1)] == "A Psalm by David. Yahweh, how many!"
    assert plain_text("<w>a</w>\n  <w>b</w>") == "a b"


def test_alignment_drops_missing_references_and_misaligned_lengths():
    spanish = {("Ruth", 1, 1): "uno dos tres", ("Ruth", 1, 2): "a", ("Jude", 1, 1): "x y"}
    english = {("Ruth", 1, 1): "one two three", ("Ruth", 1, 2): " ".join(["w"] * 9)}
    # Ruth 1:2: 9 words against 1 > 2.5 * 1 + 5: a misalignment; Jude 1:1 has no English.
    assert aligned(spanish, english) == [(("Ruth", 1, 1), "uno dos tres", "one two three")]


def test_held_out_sets_are_whole_books():
    rows = [((book, 1, v), f"{book} {v}", f"{book} {v}") for book in ("Genesis", "Ruth", "Jude")
            for v in (1, 2)]  # fmt: skip
    corpus = split_by_book(rows)
    assert [s for s, _ in corpus.train] == ["Genesis 1", "Genesis 2"]
    assert [s for s, _ in corpus.test] == ["Ruth 1", "Ruth 2"]  # Ruth is a test book
    assert [s for s, _ in corpus.validation] == ["Jude 1", "Jude 2"]
    assert not set(bible.TEST_BOOKS) & set(bible.VALIDATION_BOOKS)


def test_missing_sword_tools_name_the_apt_command(monkeypatch):
    monkeypatch.setattr(bible.shutil, "which", lambda name: None)
    with pytest.raises(MissingDataPackageError, match="apt-get install .*sword-text-sparv"):
        bible.bible_es_en()


def require_sword():
    """Skip where the Debian packages are absent; fail in CI, whose `.ci/run` installs them."""
    if bible.shutil.which("mod2imp") is None:
        message = f"libsword-utils not installed: {bible.install_hint()}"
        if os.environ.get("CI"):
            pytest.fail(f"CI installs the bible-es-en packages (.ci/run), yet {message}")
        pytest.skip(message)


def test_missing_module_names_the_apt_command():
    require_sword()
    with pytest.raises(MissingDataPackageError, match="noSuchBibleModule is not installed"):
        bible.read_module("noSuchBibleModule")


def test_the_installed_modules_give_the_corpus_the_readme_describes():
    """The README's counts and the study's test set, read from the real Debian packages
    (sword-text-sparv 2.60, sword-text-web 426.0). A package update that renames a held-out
    book would shrink the test set silently; here it fails."""
    require_sword()
    spanish = bible.read_module(bible.SOURCE_MODULE)
    english = bible.read_module(bible.TARGET_MODULE)
    for book in bible.TEST_BOOKS + bible.VALIDATION_BOOKS:
        assert any(b == book for b, _, _ in spanish), f"{book} missing from the Spanish module"
        assert any(b == book for b, _, _ in english), f"{book} missing from the English module"

    rows = aligned(spanish, english)
    corpus = split_by_book(rows)
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (29457, 412, 1194)
    assert len(rows) == 31063
    # Markup rules on real verses: words only, no tags, entities or footnote text.
    assert english[("Ruth", 1, 1)].startswith("In the days when the judges judged")
    assert spanish[("Ruth", 1, 1)].startswith("Y ACONTECIÓ en los días que gobernaban los jueces")
    assert not any(c in s + t for _, s, t in rows for c in "<>&")
