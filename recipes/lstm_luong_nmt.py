"""Luong et al. (2015), "Effective Approaches to Attention-based Neural Machine Translation".

The paper's model: a stacked unidirectional LSTM encoder and decoder; after each decoder
step the state h_t attends over the encoder outputs with the "general" score h_t^T W h_s, the
attentional vector h~_t = tanh(W_c [c_t; h_t]) predicts the next token and is fed into the
next step (input feeding). Trained with Adam instead of the paper's plain SGD schedule, and
sized for the character-level `dates` task (a laptop CPU reaches >= 99% exact match in
minutes) rather than WMT's 4 x 1000 units.

    python recipes/lstm_luong_nmt.py                      # dates, evaluate, attention maps
    python recipes/lstm_luong_nmt.py --data my_pairs.tsv  # your own source<TAB>target file
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 128,
    "num_layers": 1,
    "attention_score": "general",  # the paper's best global score with input feeding
    "attention_window": None,  # set e.g. 4 for the paper's local-p attention
    "input_feeding": True,
    "dropout": 0.1,
    # training
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "clipnorm": 1.0,  # the paper renormalizes gradients at norm 5
    "patience": 3,
    # decoding
    "beam_size": 4,
    "length_penalty": 0.6,
}

if __name__ == "__main__":
    run_recipe("lstm_luong_nmt", HPARAMS, __doc__)
