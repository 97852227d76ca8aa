"""Model families. Importing a family module registers its entries (explicitly, no scanning)."""

from zoo.models import classifier, forecaster, seq2seq, speech
from zoo.models.classifier import TextClassifier
from zoo.models.forecaster import Forecaster
from zoo.models.seq2seq import Seq2Seq
from zoo.models.speech import CTCRecognizer, ListenAttendSpell

__all__ = [
    "CTCRecognizer",
    "Forecaster",
    "ListenAttendSpell",
    "Seq2Seq",
    "TextClassifier",
    "classifier",
    "forecaster",
    "seq2seq",
    "speech",
]
