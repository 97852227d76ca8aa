"""Model families. Importing a family module registers its entries (explicitly, no scanning)."""

from zoo.models import classifier, forecaster, seq2seq
from zoo.models.classifier import TextClassifier
from zoo.models.forecaster import Forecaster
from zoo.models.seq2seq import Seq2Seq

__all__ = ["Forecaster", "Seq2Seq", "TextClassifier", "classifier", "forecaster", "seq2seq"]
