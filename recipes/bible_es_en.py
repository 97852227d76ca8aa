"""Spanish -> English on a real corpus: the Bible, verse by verse (`bible-es-en`).

Reina-Valera 1909 -> World English Bible (both public domain, from Debian's SWORD packages:
`sudo apt-get install -y --no-install-recommends libsword-utils sword-text-sparv
sword-text-web`). Whole books are held out (zoo.data.bible.TEST_BOOKS), so the test measures
translation of unseen text, not recall of neighbouring verses.

Sized for a 2-core CPU: SentencePiece unigram vocabularies of 8k pieces per side (no <unk> in
the output, detokenized text for BLEU), 256 units, training on verses of at most 40 pieces a
side (the test keeps every length: what attention is for), batches bucketed by length,
22 epochs with cosine decay of the learning rate. On a CPU, `KERAS_BACKEND=jax` trains
about 1.4x faster than TensorFlow (the README's Speed); an lstm_luong_nmt epoch takes ~5
minutes on one core there, an lstm_bahdanau_nmt epoch ~1.4x that.

    python recipes/bible_es_en.py                            # lstm_luong_nmt
    python recipes/bible_es_en.py --model lstm_bahdanau_nmt
    python recipes/bible_es_en.py --model lstm_nmt           # the no-attention twin
    python recipes/bible_es_en.py --model lstm_luong_fast_nmt --epochs 4
"""

import argparse

from zoo.presets import get_preset
from zoo.recipe import run_recipe

MODELS = ("lstm_luong_nmt", "lstm_bahdanau_nmt", "lstm_nmt", "lstm_luong_fast_nmt")
# The study's settings, and why each is what it is, are the `bible-es-en` preset
# (zoo/presets.py): `zoo train NAME --preset bible-es-en --data DIR` applies them to a corpus
# of your own.
PRESET = get_preset("bible-es-en")


def model_changes(name: str) -> dict:
    """The recipe's settings for one model (the preset's: the twin has no attention to size
    and sees the source's summary at every step; Bahdanau starts its output bias from the
    targets' frequencies)."""
    import zoo

    return PRESET.for_model(zoo.spec(name))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model", choices=MODELS, default="lstm_luong_nmt")
    args, rest = parser.parse_known_args()
    changes = model_changes(args.model)
    run_recipe(args.model, __doc__, changes, argv=rest, data=PRESET.data)
