"""Speech recognition's training settings: plain Python, so that `zoo describe` and the checks
of `--set` values need no backend.
"""

from __future__ import annotations

from zoo.tasks.settings import TaskSettings

# The perturbations of training audio (`zoo.tasks.speech.augmentation.perturb`), in the order
# they are applied: a room before the line's band and codec, noise last.
AUGMENTATIONS = ("speed", "reverb", "telephone", "mulaw", "noise")
DEFAULT_AUGMENTATIONS = ("speed", "telephone", "noise")

SETTINGS = TaskSettings(
    defaults={
        "attention_examples": 4,  # alignments / CTC posteriors drawn after training
        "beam_size": 4,  # the speller's beam, or CTC beam search's (1: greedy)
        "length_penalty": 0.6,
        "augment": True,  # training audio perturbed on the fly (false: never)
        "augmentations": list(DEFAULT_AUGMENTATIONS),  # which perturbations (AUGMENTATIONS)
        # spoken-numbers: utterances generated per split (held-out voices for the last two)
        "train_utterances": 3000,
        "validation_utterances": 400,
        "test_utterances": 600,
        # ... and more training utterances spoken by other synthesizer families' voices
        # (Debian packages: scripts/install_speech_data.sh); 0: espeak-ng alone.
        "other_synthesizers": "festival",
        "other_utterances": 1000,
    },
    choices={
        "other_synthesizers": ("festival", "flite", "festival,flite"),
        "augmentations": AUGMENTATIONS,  # each item one of them
    },
    may_be_zero=frozenset({"other_utterances"}),
    sized_by_data={
        "vocab_size": "the characters are read from the training transcripts.",
        "sample_rate": "the zoo's audio is 16 kHz; other rates are resampled on reading.",
    },
)
