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

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"attention_window": 4} for the paper's local-p attention, {"attention_score": "dot"}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_luong_nmt", __doc__, CHANGES)
