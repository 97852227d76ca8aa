"""Lin et al. (2017), "A Structured Self-attentive Sentence Embedding".

A BiLSTM reads the text; r attention hops A = softmax(W_2 tanh(W_1 H^T)) each pool the states
into a vector (M = A H), and the penalty ||A A^T - I||_F^2 keeps the hops on different words.
The flattened M feeds an MLP. The paper used r = 30 hops on long Yelp and age reviews; the
short rt-polarity snippets need far fewer, and a smaller penalty.

    python recipes/lstm_selfattn_classifier.py
    python recipes/lstm_selfattn_classifier.py --data reviews.csv
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 64,  # per direction
    "num_layers": 1,
    "attention_units": 64,  # d_a
    "heads": 4,  # r
    "penalty": 0.1,
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
    run_recipe("lstm_selfattn_classifier", HPARAMS, __doc__)
