"""BiLSTM + CTC speech recognizer: the no-attention twin of Listen, Attend and Spell.

Log-mel filterbanks (40 bands, 25 ms every 10 ms, normalized per utterance) are computed
inside the model from 16 kHz audio; SpecAugment masks them in training. Three BiLSTM layers
(128 units each way) read them, the first two halving the frame rate (40 ms per output frame),
and a linear layer gives per-frame character logits trained with CTC (Graves et al. 2006).
Decoding: CTC beam search (`keras.ops.ctc_decode`, width 4). Data: `spoken-numbers`, phone
answers spoken by espeak-ng in ~100 voices; validation and test voices never heard in training.

    python recipes/lstm_ctc_asr.py
    python recipes/lstm_ctc_asr.py --data my_recordings/   # WAVs + transcripts.tsv
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g. {"units": 256}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_ctc_asr", __doc__, CHANGES)
