"""The attention-free twin: Sutskever et al. (2014) / Cho et al. (2014) encoder-decoder.

The source is read by an LSTM whose final (h, c) states start the decoder; nothing else of
the source reaches the decoder. Same data, sizes, budget and decoding as the attention
recipes, so the difference in their metrics is what attention buys.

    python recipes/lstm_nmt.py
"""

from zoo.recipe import run_recipe

HPARAMS = {
    # model
    "embedding_dim": 64,
    "units": 128,
    "num_layers": 1,
    "bidirectional": False,
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
    run_recipe("lstm_nmt", HPARAMS, __doc__)
