"""lstm-zoo: LSTM networks with attention for Keras 3."""

__version__ = "0.1.0"
