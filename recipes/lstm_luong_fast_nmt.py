"""Luong et al. (2015) without input feeding: the attention model that trains fastest.

The paper's global attention (the decoder state h_t scores every encoder output with
h_t^T W h_s; h~_t = tanh(W_c [c_t; h_t]) predicts the next token) but without feeding h~_t
into the next step, which the paper reports costs about one BLEU point on WMT. In exchange,
nothing in the decoder's recurrence depends on the attention: training runs the decoder LSTM
over the whole target at once (cuDNN on a GPU) and attends for all target positions in one
batched matrix product. Decoding is unchanged (step by step, beam search).

    python recipes/lstm_luong_fast_nmt.py                      # dates, evaluate, attention maps
    python recipes/lstm_luong_fast_nmt.py --data my_pairs.tsv  # your own source<TAB>target file
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"attention_score": "dot"}, {"num_layers": 2}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_luong_fast_nmt", __doc__, CHANGES)
