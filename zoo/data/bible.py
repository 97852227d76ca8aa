"""`bible-es-en`: Spanish (Reina-Valera 1909) -> English (World English Bible) verse pairs.

Both translations are public domain and ship as Debian's SWORD modules; `mod2imp` (from
`libsword-utils`) prints a module as `$$$Book C:V` lines, each followed by the verse's OSIS
markup. Verses are joined on their reference, so only books both translations have are kept.

The held-out sets are whole books, never verses drawn at random: neighbouring verses repeat
each other (parallel passages, refrains), and a random split would score memory, not
translation.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

from zoo.data.corpus import Pairs, ParallelCorpus
from zoo.data.labelled import MissingDataPackageError

DEBIAN_PACKAGES = ("libsword-utils", "sword-text-sparv", "sword-text-web")
SOURCE_MODULE, TARGET_MODULE = "spaRV1909eb", "engWEB2015eb"
TEST_BOOKS = ("Ruth", "Esther", "Ecclesiastes", "Daniel", "Jonah", "Philippians", "James", "I John")
VALIDATION_BOOKS = ("Joel", "Obadiah", "Micah", "Nahum", "Colossians", "Titus", "Jude")
# A verse pair whose lengths (in words) differ more than this is a misalignment (a verse
# numbered differently in the two translations), not a translation.
MAX_LENGTH_RATIO, LENGTH_SLACK = 2.5, 5

_REFERENCE = re.compile(r"^\$\$\$(.+) (\d+):(\d+)$")
_NOTE = re.compile(r"<note\b.*?</note>", re.S)
_HEADING = re.compile(r'<title\b(?![^>]*canonical="true")[^>]*>.*?</title>', re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")

Reference = tuple[str, int, int]


def install_hint() -> str:
    command = f"sudo apt-get install -y --no-install-recommends {' '.join(DEBIAN_PACKAGES)}"
    return f"{command} (in a clone of lstm-zoo: bash scripts/install_bible_data.sh)"


def read_module(module: str) -> dict[Reference, str]:
    """Every verse of an installed SWORD module as plain text, by `(book, chapter, verse)`."""
    if shutil.which("mod2imp") is None:
        raise MissingDataPackageError(
            "Dataset 'bible-es-en' reads Debian's SWORD Bible modules with `mod2imp`, which is not "
            f"installed. Install it and the two translations with: {install_hint()}"
        )
    done = subprocess.run(["mod2imp", module], capture_output=True, text=True, check=False)
    if done.returncode != 0 or "$$$" not in done.stdout:
        raise MissingDataPackageError(
            f"The SWORD module {module} is not installed (mod2imp: "
            f"{(done.stderr or done.stdout).strip()[:200] or 'no output'}). Install it with: "
            f"{install_hint()}"
        )
    return parse_imp(done.stdout)


def parse_imp(text: str) -> dict[Reference, str]:
    """Verses of `mod2imp` output; headings, footnotes and chapter/book prefaces are dropped."""
    verses: dict[Reference, str] = {}
    reference: Reference | None = None
    lines: list[str] = []

    def flush() -> None:
        if reference is not None and reference[1] > 0 and reference[2] > 0:
            verse = plain_text(" ".join(lines))
            if verse:
                verses[reference] = verse

    for line in text.splitlines():
        match = _REFERENCE.match(line)
        if match is None and line.startswith("$$$"):  # module or testament headings
            flush()
            reference, lines = None, []
        elif match is not None:
            flush()
            reference = (match[1], int(match[2]), int(match[3]))
            lines = []
        else:
            lines.append(line)
    flush()
    return verses


def plain_text(markup: str) -> str:
    """The words of one verse's OSIS markup.

    Footnotes go with their content (replaced by a space: they sit between words), section
    headings too, but a psalm's canonical title is part of the text and stays.
    """
    text = _NOTE.sub(" ", markup)
    text = _HEADING.sub(" ", text)
    text = _TAG.sub("", text)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def aligned(source: dict[Reference, str], target: dict[Reference, str]) -> list[tuple]:
    """`(reference, source, target)` for references both have, in the source's order, without
    pairs whose lengths say they are misaligned."""
    rows = []
    for reference, text in source.items():
        other = target.get(reference)
        if other is None:
            continue
        a, b = len(text.split()), len(other.split())
        if a <= MAX_LENGTH_RATIO * b + LENGTH_SLACK and b <= MAX_LENGTH_RATIO * a + LENGTH_SLACK:
            rows.append((reference, text, other))
    return rows


def split_by_book(rows: list[tuple]) -> ParallelCorpus:
    """Whole books held out: `TEST_BOOKS` for test, `VALIDATION_BOOKS` for validation."""
    parts: dict[str, Pairs] = {"train": [], "validation": [], "test": []}
    held_out = dict.fromkeys(VALIDATION_BOOKS, "validation") | dict.fromkeys(TEST_BOOKS, "test")
    for (book, _, _), source, target in rows:
        parts[held_out.get(book, "train")].append((source, target))
    return ParallelCorpus("bible-es-en", **parts)


def bible_es_en() -> ParallelCorpus:
    """31k verse pairs, split by book (see `TEST_BOOKS`, `VALIDATION_BOOKS`)."""
    rows = aligned(read_module(SOURCE_MODULE), read_module(TARGET_MODULE))
    return split_by_book(rows)
