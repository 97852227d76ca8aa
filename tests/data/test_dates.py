import datetime
import re

from zoo.data import load_translation
from zoo.data.dates import generate_dates


def test_deterministic_by_seed_and_distinct():
    a = generate_dates(300, seed=1)
    assert a == generate_dates(300, seed=1)
    assert a != generate_dates(300, seed=2)
    assert len({source for source, _ in a}) == 300


def test_targets_are_iso_dates_of_the_source():
    for source, target in generate_dates(500, seed=0):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)
        datetime.date.fromisoformat(target)  # a real calendar day
        assert any(ch.isalpha() for ch in source), source  # no bare numeric formats
        assert str(int(target[:4])) in source or "年" in source or target[:4] in source


def test_many_locales_appear():
    sources = " ".join(s for s, _ in generate_dates(2000, seed=0))
    for word in ("marzo", "März", "mars", "марта", "年", "Μαρτίου"):
        assert word in sources, word


def test_split_is_deterministic_and_disjoint():
    corpus = load_translation("dates", seed=0, size=1000)
    again = load_translation("dates", seed=0, size=1000)
    assert corpus == again
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (900, 50, 50)
    train = {s for s, _ in corpus.train}
    assert not train & {s for s, _ in corpus.test}
    assert not train & {s for s, _ in corpus.validation}
