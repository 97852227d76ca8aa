"""The attention-free twin of the classifiers: a BiLSTM with max pooling over time.

Words are embedded, read by a bidirectional LSTM, and the states are max-pooled over time
(masked, so padding never wins) into one vector that a small MLP classifies. Same data, sizes,
budget and evaluation as the attention recipes, so the difference is what attention buys.

    python recipes/lstm_classifier.py                       # rt-polarity movie reviews
    python recipes/lstm_classifier.py --data reviews.csv    # your own text,label file
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 64,  # per direction
    "num_layers": 1,
    "dropout": 0.5,  # the snippets are few and short: regularize hard
    "hidden_units": 64,
    # training
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "patience": 2,
    "lowercase": True,
    "max_source_length": 60,  # words; rt-polarity snippets average 18.5
}

if __name__ == "__main__":
    run_recipe("lstm_classifier", HPARAMS, __doc__)
