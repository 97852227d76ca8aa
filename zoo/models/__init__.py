"""Model families. Importing a family module registers its entries (explicitly, no scanning)."""

from zoo.models import classifier, seq2seq
from zoo.models.classifier import TextClassifier
from zoo.models.seq2seq import Seq2Seq

__all__ = ["Seq2Seq", "TextClassifier", "classifier", "seq2seq"]
