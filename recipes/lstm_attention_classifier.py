"""Attention pooling: Zhou et al. (2016) / Yang et al. (2016) word attention over a BiLSTM.

The BiLSTM states h_t are scored against one learned context vector,
a_t = softmax(v^T tanh(W h_t)), and their weighted sum represents the text; the weights say
which words the model looked at (saved as PNG and HTML for a few test reviews). This is
`StructuredSelfAttention(heads=1)` without the penalty.

    python recipes/lstm_attention_classifier.py
    python recipes/lstm_attention_classifier.py --data reviews.csv
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 64,  # per direction
    "num_layers": 1,
    "attention_units": 64,
    "dropout": 0.5,  # the snippets are few and short: regularize hard
    "hidden_units": 64,
    # training
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "patience": 2,
    "lowercase": True,
    "max_source_length": 60,
}

if __name__ == "__main__":
    run_recipe("lstm_attention_classifier", HPARAMS, __doc__)
