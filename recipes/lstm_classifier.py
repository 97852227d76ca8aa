"""The attention-free twin of the classifiers: a BiLSTM with max pooling over time.

Words are embedded, read by a bidirectional LSTM, and the states are max-pooled over time
(masked, so padding never wins) into one vector that a small MLP classifies. Same data, sizes,
budget and evaluation as the attention recipes, so the difference is what attention buys.

    python recipes/lstm_classifier.py                       # rt-polarity movie reviews
    python recipes/lstm_classifier.py --data reviews.csv    # your own text,label file
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"units": 128}, {"dropout": 0.3}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_classifier", __doc__, CHANGES)
