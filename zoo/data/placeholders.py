"""Placeholders (printf directives, `{name}` fields, XML tags) copied exactly through translation.

Software messages hold text a translation must copy unchanged: `%s`, `%1$s`, `{count}`,
`<b>`. A model learns to copy them most of the time; nothing makes it always do so. Before
tokenization each placeholder of a source becomes one mask character (the k-th placeholder
the k-th of `MASKS`, characters of Unicode's Private Use Area that no text holds), so the model
sees and copies a single token; after decoding each mask in the output is replaced by the
placeholder it stands for. The output then holds every placeholder of the source exactly
once: a mask the model repeats is dropped, and one it leaves out is appended at the end, as a
program formatting the message needs every argument.

Training targets are masked with their source's numbering (a target placeholder equal to the
source's k-th gets mask k, whatever its position), so the model learns to reorder them as the
language needs; a target placeholder missing from its source stays text.

Masking and restoring run as TensorFlow ops (RE2 regular expressions), so the exported
SavedModel masks and restores as training and `zoo translate` do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import tensorflow as tf
import tensorflow_text as tf_text

# The built-in patterns, by name (RE2 syntax; `--set placeholders=[...]` takes names or
# regular expressions of one's own).
PATTERNS = {
    # C / POSIX / Python %-directives: `%s`, `%1$s`, `%-10.2f`, `%lu`, `%%`. A space is not
    # taken as a flag, so that "50% of" stays text.
    "printf": r"%(?:\d+\$)?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|ll|[hlLqjzt])?"
    r"[diouxXeEfFgGaAcspn%]",
    # Python str.format / ICU-style fields without nesting: `{}`, `{0}`, `{name}`, `{0:.2f}`.
    "brace": r"\{[\w.:!\[\]-]*\}",
    # XML / HTML tags: `<b>`, `</b>`, `<br/>`, `<a href="x">`.
    "xml": r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>",
}
DEFAULT = ("printf", "brace", "xml")
# At most this many placeholders per sentence are masked; later ones stay text.
MAX_PLACEHOLDERS = 16
FIRST_MASK = 0xE000
MASKS = "".join(chr(FIRST_MASK + k) for k in range(MAX_PLACEHOLDERS))
MASK_CLASS = f"[{MASKS[0]}-{MASKS[-1]}]"


def resolve_patterns(patterns: Iterable[str] | str) -> list[str]:
    """Names of `PATTERNS` and regular expressions -> the regular expressions."""
    if isinstance(patterns, str) or not isinstance(patterns, Iterable):
        raise ValueError(
            f"`placeholders` must be a list of pattern names {sorted(PATTERNS)} or regular "
            f'expressions (e.g. ["printf", "\\\\$\\\\w+"]; [] for none), received {patterns!r}.'
        )
    regexes = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"A placeholder pattern must be a non-empty string: {pattern!r}.")
        regexes.append(PATTERNS.get(pattern, pattern))
    for regex in regexes:
        try:  # RE2, as the graph will run it
            tf.strings.regex_full_match("", regex)
        except tf.errors.InvalidArgumentError as error:
            reason = re.search(r"error: (.*?)(?: \[Op:|$)", error.message)
            raise ValueError(
                f"The placeholder pattern {regex!r} is not a valid RE2 regular expression ("
                f"{reason.group(1) if reason else error.message}); fix it or use one of the "
                f"names {sorted(PATTERNS)}."
            ) from None
        if tf.strings.regex_full_match("", regex):
            raise ValueError(f"The placeholder pattern {regex!r} matches empty text.")
    return regexes


class Placeholders:
    """Masks placeholders before tokenization and restores them after decoding.

    Args:
        patterns: Names of `PATTERNS` (`"printf"`, `"brace"`, `"xml"`) or RE2 regular
            expressions; where two overlap, the leftmost match wins, then the earlier pattern.
    """

    def __init__(self, patterns: Sequence[str] = DEFAULT):
        self.patterns = resolve_patterns(patterns)
        self.regex = "|".join(f"(?:{p})" for p in self.patterns)

    def get_config(self) -> list[str]:
        return list(self.patterns)

    def split(self, texts) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
        """`string[batch]` -> the texts cut into pieces (`string[batch, (pieces)]`) that join
        back into them, and which pieces are placeholders (`bool[batch, (pieces)]`)."""
        texts = tf.convert_to_tensor(texts, tf.string)
        pieces = tf_text.regex_split(texts, self.regex, keep_delim_regex_pattern=self.regex)
        return pieces, tf.strings.regex_full_match(pieces, self.regex)

    def mask(self, texts) -> tuple[tf.Tensor, tf.RaggedTensor]:
        """`string[batch]` -> the texts with their placeholders masked, and the placeholders
        (`string[batch, (n)]`, in order; mask k stands for the k-th)."""
        pieces, found = self.split(texts)
        # On the pieces' flat values, not ragged ops: a ragged `tf.where` costs about 0.5 s of
        # graph tracing (shape broadcasting), and every text pipeline and predictor traces this.
        rows = pieces.value_rowids()
        running = tf.cumsum(tf.cast(found.flat_values, tf.int32))  # over the whole batch
        before_row = tf.gather(tf.concat([[0], running], 0), pieces.row_starts())
        number = running - tf.gather(before_row, rows) - 1  # placeholders before, in the row
        masked = tf.logical_and(found.flat_values, number < MAX_PLACEHOLDERS)
        masks = tf.strings.unicode_encode(
            tf.expand_dims(tf.minimum(number, MAX_PLACEHOLDERS - 1) + FIRST_MASK, -1), "UTF-8"
        )
        replaced = pieces.with_flat_values(tf.where(masked, masks, pieces.flat_values))
        kept = tf.RaggedTensor.from_value_rowids(
            tf.boolean_mask(pieces.flat_values, masked),
            tf.boolean_mask(rows, masked),
            nrows=pieces.nrows(),
            validate=False,
        )
        return tf.strings.reduce_join(replaced, axis=1), kept

    def restore(self, texts, placeholders: tf.RaggedTensor, append_missing: bool = True):
        """Replaces mask k of each text by its row's k-th placeholder.

        A mask with no placeholder, or one seen before in the same text, is dropped; with
        `append_missing`, placeholders whose mask the text lacks are appended, space-separated.
        """
        texts = tf.convert_to_tensor(texts, tf.string)
        chars = tf.strings.unicode_split(texts, "UTF-8").to_tensor(default_value="")
        codes = tf.strings.unicode_decode(texts, "UTF-8").to_tensor(default_value=0)
        number = codes - FIRST_MASK
        counts = tf.cast(placeholders.row_lengths(), tf.int32)[:, None]
        is_mask = tf.logical_and(number >= 0, number < MAX_PLACEHOLDERS)
        known = tf.logical_and(is_mask, number < counts)
        # The first time each mask appears: its running count is 1 there.
        seen = tf.one_hot(tf.where(known, number, -1), MAX_PLACEHOLDERS, dtype=tf.int32)
        first = tf.logical_and(known, tf.reduce_sum(tf.cumsum(seen, axis=1) * seen, -1) == 1)
        starts = tf.cast(placeholders.row_starts(), tf.int32)[:, None]
        flat = tf.concat([placeholders.flat_values, [""]], 0)  # [-1]: for every other char
        index = tf.where(first, starts + number, tf.shape(flat)[0] - 1)
        replaced = tf.where(is_mask, tf.gather(flat, index), chars)
        out = tf.strings.reduce_join(replaced, axis=1)
        if not append_missing:
            return out
        present = tf.reduce_max(seen, axis=1) > 0  # [batch, MAX_PLACEHOLDERS]
        slots = tf.ragged.range(tf.cast(placeholders.row_lengths(), tf.int32))
        lacking = tf.ragged.boolean_mask(placeholders, tf.logical_not(_present(present, slots)))
        tail = tf.strings.reduce_join(tf.strings.join([" ", lacking]), axis=1)
        return tf.strings.join([out, tail])

    def restore_tokens(self, tokens: tf.RaggedTensor, placeholders: tf.RaggedTensor):
        """Each token of `string[batch, (tokens)]` with its masks replaced (for attention
        maps), nothing appended."""
        owners = tf.gather(placeholders, tokens.value_rowids())  # each token's row's
        return tokens.with_flat_values(
            self.restore(tokens.flat_values, owners, append_missing=False)
        )

    def mask_targets(self, sources: list[str], targets: list[str]) -> list[str]:
        """Training targets masked with their sources' numbering (see the module's text)."""
        _, found = self.mask(sources)
        pieces, is_placeholder = self.split(targets)
        out = []
        for source_found, row, flags in zip(
            found.to_list(), pieces.to_list(), is_placeholder.to_list(), strict=True
        ):
            free = {}
            for k, placeholder in enumerate(source_found):
                free.setdefault(placeholder, []).append(k)
            text = []
            for piece, flag in zip(row, flags, strict=True):
                if flag and free.get(piece):
                    text.append(MASKS[free[piece].pop(0)])
                else:
                    text.append(piece.decode("utf-8"))
            out.append("".join(text))
        return out

    def mask_pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Training pairs with both sides masked (sources by position, targets to match)."""
        if not pairs:
            return pairs
        sources = [source for source, _ in pairs]
        masked, _ = self.mask(sources)
        targets = self.mask_targets(sources, [target for _, target in pairs])
        return list(zip((s.decode("utf-8") for s in masked.numpy()), targets, strict=True))


def _present(present: tf.Tensor, slots: tf.RaggedTensor) -> tf.RaggedTensor:
    """`present[b, slots[b, i]]` for each row `b`, as a ragged tensor shaped like `slots`."""
    rows = tf.cast(slots.value_rowids(), tf.int32)
    index = tf.stack([rows, slots.flat_values], axis=1)
    return slots.with_flat_values(tf.gather_nd(present, index))
