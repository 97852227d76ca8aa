"""Bahdanau et al. (2015), "Neural Machine Translation by Jointly Learning to Align and Translate".

The paper's model (RNNsearch): a bidirectional encoder whose concatenated forward/backward
states are the annotations; at each step the previous decoder state s_{i-1} scores every
annotation with the additive score v^T tanh(W s_{i-1} + U h_j), the context c_i enters the
decoder LSTM with the previous target token, and the output layer sees the new state and the
context. The decoder starts from a tanh projection of the encoder's final states. LSTM cells
and Adam replace the paper's GRU and Adadelta; sizes suit the character-level `dates` task.

    python recipes/lstm_bahdanau_nmt.py
    python recipes/lstm_bahdanau_nmt.py --data my_pairs.tsv
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 128,  # per encoder direction; the decoder has the same size
    "num_layers": 1,
    "bidirectional": True,
    "attention_units": 128,
    "dropout": 0.1,
    # training
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "clipnorm": 1.0,
    "patience": 3,
    # decoding
    "beam_size": 4,
    "length_penalty": 0.6,
}

if __name__ == "__main__":
    run_recipe("lstm_bahdanau_nmt", HPARAMS, __doc__)
