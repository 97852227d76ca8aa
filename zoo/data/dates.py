"""The `dates` translation task: human-written dates in many languages -> ISO 8601.

Sources are rendered with Babel's CLDR locale data (`babel.dates.format_date`), so the month
and weekday names, word order and punctuation are those real locales use. Formats without a
single letter (`03/04/2015`) are left out: without the locale, day and month would be ambiguous.
"""

from __future__ import annotations

import datetime
import random

LOCALES = (
    "en_US", "en_GB", "en_IN", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE",
    "da_DK", "nb_NO", "fi_FI", "pl_PL", "cs_CZ", "ro_RO", "hu_HU", "tr_TR", "ru_RU", "uk_UA",
    "el_GR", "ja_JP", "zh_CN", "ko_KR", "vi_VN", "id_ID",
)  # fmt: skip
FORMATS = ("full", "long", "medium", "d MMMM y", "MMM d, y", "d MMM y", "EEEE d MMMM y")
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2099, 12, 31)


def generate_dates(size: int = 20_000, seed: int = 0) -> list[tuple[str, str]]:
    """`size` distinct (written date, ISO date) pairs, the same for the same `seed`."""
    from babel.dates import format_date  # imported here: `import zoo.data` needs no Babel

    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    pairs: dict[str, str] = {}
    attempts = 0
    while len(pairs) < size:
        attempts += 1
        if attempts > 20 * size:
            raise RuntimeError(f"Could not draw {size} distinct dates; ask for fewer.")
        day = FIRST_DAY + datetime.timedelta(days=rng.randrange(span + 1))
        source = format_date(day, rng.choice(FORMATS), locale=rng.choice(LOCALES))
        if any(ch.isalpha() for ch in source):
            pairs.setdefault(source, day.isoformat())
    return list(pairs.items())
