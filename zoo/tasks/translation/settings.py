"""Translation's training settings: plain Python, so that `zoo describe` and the checks of
`--set` values need no backend.
"""

from __future__ import annotations

from zoo.tasks.settings import TaskSettings

# Translation's token levels: characters, words, or SentencePiece subwords (zoo.data.subwords).
TOKEN_LEVELS = ("char", "word", "unigram", "bpe")
OUTPUT_BIASES = ("zeros", "unigram")

SETTINGS = TaskSettings(
    defaults={
        "attention_examples": 4,  # validation examples drawn as attention maps after training
        "beam_size": 4,
        "length_penalty": 0.6,
        # char, word, or SentencePiece subwords (unigram, bpe) trained on the training text
        "token_level": "word",
        "lowercase": False,
        # Runs of spaces, and spaces at either end, kept as they are (char and subword levels;
        # off: collapsed to one space and stripped).
        "keep_whitespace": False,
        # Placeholders copied exactly (zoo.data.placeholders): names of built-in patterns
        # (printf %s / %1$s, brace {name}, xml <b>) or RE2 regular expressions; [] for none.
        "placeholders": ["printf", "brace", "xml"],
        "max_vocab_size": 16_000,  # per side, specials included
        "max_target_vocab_size": 0,  # 0: the same as max_vocab_size
        "joint_vocabulary": False,  # one vocabulary for both sides
        "min_count": 1,  # word / char vocabularies: tokens seen fewer times are <unk>
        "max_source_length": 200,  # longer sources are cut (training and translation)
        # Training and validation pairs longer than these (in tokens) are dropped; 0: keep all.
        "max_train_source_length": 0,
        "max_train_target_length": 0,
        "bucket_by_length": False,  # batches of similar lengths, padded to bucket edges
        "source_column": 1,  # TSV files: the 1-based source and target columns
        "target_column": 2,
        # Compile the training step with XLA; lengths are then padded to multiples of 8 (or
        # bucket edges) so it compiles once per shape. Off: on CPUs XLA ran these loops 2x slower.
        "jit_compile": False,
        # The output layer's starting bias: "zeros", or "unigram", the log frequencies of the
        # training targets' tokens, so the first steps need not learn them through the hidden
        # layers (which a large vocabulary can saturate for good: zoo.tasks.translation.task).
        "output_bias": "zeros",
    },
    choices={"token_level": TOKEN_LEVELS, "output_bias": OUTPUT_BIASES},
    may_be_zero=frozenset(
        {"max_target_vocab_size", "max_train_source_length", "max_train_target_length"}
    ),
    sized_by_data={
        side: "the vocabularies are built from the training text; set max_vocab_size (and "
        "max_target_vocab_size for a different target size)."
        for side in ("source_vocab_size", "target_vocab_size")
    },
    by_data={"dates": {"token_level": "char"}, "bible-es-en": {"token_level": "unigram"}},
)
