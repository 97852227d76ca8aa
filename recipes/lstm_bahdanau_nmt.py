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

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"attention_units": 256}, {"num_layers": 2}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_bahdanau_nmt", __doc__, CHANGES)
