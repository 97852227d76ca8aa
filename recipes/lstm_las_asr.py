"""Listen, Attend and Spell (Chan et al. 2016) with location-sensitive attention.

The listener is the CTC twin's front end with one more halving: log-mels from 16 kHz audio,
SpecAugment in training, three pyramidal BiLSTM layers (128 units each way) that bring the
frame rate down 8x (80 ms per frame). The speller, a 256-unit LSTM, attends over them with
`LocationSensitiveAttention` (Chorowski et al. 2015: the score also sees convolutional
features of the previous step's weights, which keeps the alignment moving forward) and spells
one character per step; beam search (width 4) decodes. Training adds a CTC term (Kim et al.
2017, weight 0.3) over the listener's 40 ms layer, which helps the listener align early; it
is not used in decoding. Data: `spoken-numbers` (espeak-ng voices, held-out test voices), the
same as the twin's.

    python recipes/lstm_las_asr.py
    zoo evaluate runs/lstm_las_asr/<run> --data asterisk-prompts   # real recordings
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g. {"units": 256}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_las_asr", __doc__, CHANGES)
