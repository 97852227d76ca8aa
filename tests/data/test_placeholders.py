"""Placeholders are masked before tokenization and copied exactly into every translation."""

import json
import re

import numpy as np
import pytest
from keras import ops

from zoo.data.placeholders import MASKS, PATTERNS, Placeholders
from zoo.data.vocabulary import EOS_ID
from zoo.tasks.translation.pipeline import TextPipeline
from zoo.tasks.translation.predictor import Translator

M0, M1, M2 = MASKS[:3]
# Messages as gettext catalogs hold them (msgid, msgstr).
GETTEXT = [
    ("%s: cannot open %s", "%s : impossible d'ouvrir %s"),
    ("Copied %1$s of %2$s files", "%2$s fichiers : %1$s copiés"),
    ("%lu bytes, %5.2f%% done", "%lu octets, %5.2f%% faits"),
    ("Delete {count} items from <b>{folder}</b>?",
     "Supprimer {count} éléments de <b>{folder}</b> ?"),
    ("Usage:  %s [OPTION]...", "Utilisation :  %s [OPTION]..."),
    ("50% of the disk is free", "50 % du disque est libre"),
    ("Open the file", "Ouvrir le fichier"),
]  # fmt: skip


def strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


def test_each_placeholder_becomes_the_mask_of_its_position():
    masked, found = Placeholders().mask([source for source, _ in GETTEXT])
    assert strings(masked) == [
        f"{M0}: cannot open {M1}",
        f"Copied {M0} of {M1} files",
        f"{M0} bytes, {M1}{M2} done",
        f"Delete {M0} items from {M1}{M2}{MASKS[3]}?",
        f"Usage:  {M0} [OPTION]...",
        "50% of the disk is free",  # a space is not a printf flag: "% o" is text
        "Open the file",
    ]
    assert found.to_list()[2] == [b"%lu", b"%5.2f", b"%%"]
    assert found.to_list()[3] == [b"{count}", b"<b>", b"{folder}", b"</b>"]


def test_targets_take_the_number_of_the_same_placeholder_in_their_source():
    masker = Placeholders()
    sources = ["Copied %1$s of %2$s files", "%s and %s", "%d items"]
    targets = ["%2$s fichiers : %1$s copiés", "%s et %s", "%d éléments, %s de plus"]
    assert masker.mask_targets(sources, targets) == [
        f"{M1} fichiers : {M0} copiés",  # reordered as French needs
        f"{M0} et {M1}",  # equal placeholders in order
        f"{M0} éléments, %s de plus",  # not in the source: stays text
    ]


def test_restoring_puts_each_placeholder_back_once_whatever_the_model_wrote():
    masker = Placeholders()
    _, found = masker.mask(["Copied %1$s of %2$s files"] * 5)
    outputs = [
        f"{M1} fichiers : {M0} copiés",  # reordered
        f"{M0}{M0} copiés {M1}",  # repeated: the second is dropped
        "fichiers copiés",  # dropped: appended, in order
        f"{M2} fichiers {M1}",  # a mask with no placeholder is dropped; %1$s appended
        "",
    ]
    assert strings(masker.restore(outputs, found)) == [
        "%2$s fichiers : %1$s copiés",
        "%1$s copiés %2$s",
        "fichiers copiés %1$s %2$s",
        " fichiers %2$s %1$s",
        " %1$s %2$s",
    ]


def test_patterns_by_name_or_regular_expression_and_clear_refusals():
    assert Placeholders(["printf"]).patterns == [PATTERNS["printf"]]
    custom = Placeholders([r"\$\w+", "brace"])
    assert strings(custom.mask(["Hello $user, {n} new %s"])[0]) == [f"Hello {M0}, {M1} new %s"]
    with pytest.raises(ValueError, match="not a valid RE2 regular expression"):
        Placeholders(["(unclosed"])
    with pytest.raises(ValueError, match="matches empty text"):
        Placeholders([r"\d*"])
    with pytest.raises(ValueError, match="must be a list of pattern names"):
        Placeholders("printf")
    many = " ".join(f"{{{i}}}" for i in range(20))  # 20 fields: the first 16 are masked
    masked, found = Placeholders(["brace"]).mask([many])
    assert len(found.to_list()[0]) == 16 and strings(masked)[0].endswith(" {16} {17} {18} {19}")


@pytest.mark.parametrize("level", ["char", "word", "unigram"])
def test_each_mask_is_one_token_at_every_level(level):
    patterns = ["printf", "brace", "xml"]
    text = TextPipeline.fit(GETTEXT * 3, level, max_vocab_size=120, placeholders=patterns)
    tokens = [t.decode("utf-8") for t in text.source_tokens(["%d%s <b>e</b>"]).to_list()[0]]
    shown = [t.strip("▁") for t in tokens]
    assert [t for t in shown if t in set(MASKS)] == [M0, M1, M2, MASKS[3]]
    restored = text.restore_tokens(text.source_tokens(["%d%s <b>e</b>"]), ["%d%s <b>e</b>"])
    restored = "".join(t.decode("utf-8").strip("▁") for t in restored.to_list()[0])
    assert restored.replace(" ", "") == "%d%s<b>e</b>"


class ScriptedDecoder:
    """Writes a fixed id sequence per sentence, whatever the source, then `</s>`."""

    def __init__(self, script, vocab_size):
        width = max(map(len, script)) + 1
        rows = [row + [EOS_ID] * (width - len(row)) for row in script]
        self.script = np.array(rows, "int32").reshape(-1)
        self.width = width
        self.target_vocab_size = vocab_size

    def encode(self, source_ids):
        rows = ops.arange(ops.shape(source_ids)[0], dtype="int32")
        memory = ops.zeros(ops.shape(source_ids) + (1,))
        return memory, ops.not_equal(source_ids, 0), [rows, ops.zeros_like(rows)]

    def decode_step(self, tokens, state, memory, mask):
        rows, step = state
        index = rows * self.width + ops.minimum(step, self.width - 1)
        ids = ops.take(ops.convert_to_tensor(self.script), index)
        logits = ops.one_hot(ids, self.target_vocab_size) * 50.0
        weights = ops.cast(mask, "float32") / ops.sum(ops.cast(mask, "float32"), -1, True)
        return logits, [rows, step + 1], weights


def test_a_model_that_copies_or_drops_the_masks_still_gives_every_directive():
    text = TextPipeline.fit(GETTEXT * 3, "char", joint_vocabulary=True, placeholders=["printf"])
    sources = [source for source, _ in GETTEXT]
    masked = [[t.decode() for t in row] for row in text.source_tokens(sources).to_list()]
    to_id = {token: i for i, token in enumerate(text.target_vocab.tokens)}

    def script(keep):
        return [[to_id[c] for c in sentence if keep(c)] for sentence in masked]

    copying = ScriptedDecoder(script(lambda c: True), len(to_id))
    translator = Translator(copying, text, beam_size=1)
    # A model that copies its (masked) source gives back the source, placeholders and all.
    assert translator.translate_all(sources) == [
        re.sub(r"\s+", " ", source).strip() for source in sources
    ]
    dropping = ScriptedDecoder(script(lambda c: c not in set(MASKS)), len(to_id))
    out = Translator(dropping, text, beam_size=1).translate(sources)
    for source, translation in zip(sources, out["translation"], strict=True):
        found = [p.decode() for p in text.placeholders.mask([source])[1].to_list()[0]]
        for placeholder in found:
            assert translation.count(placeholder) >= source.count(placeholder)
        assert translation.endswith(" ".join(found))  # appended, in order
    # Attention maps show the placeholders, not the masks.
    assert out["source_tokens"][0][:2] == ["%s", ":"]


def test_whitespace_is_kept_when_asked():
    pairs = [("Usage:  %s   [FILE]", "Utilisation :  %s   [FICHIER]")] * 4
    kept = TextPipeline.fit(pairs, "char", keep_whitespace=True, placeholders=["printf"])
    tokens = [t.decode() for t in kept.source_tokens(["a  b "]).to_list()[0]]
    assert tokens == ["a", " ", " ", "b", " "]
    collapsed = TextPipeline.fit(pairs, "char", placeholders=["printf"])
    assert [t.decode() for t in collapsed.source_tokens(["a  b "]).to_list()[0]] == ["a", " ", "b"]
    with pytest.raises(ValueError, match="word level cannot keep whitespace"):
        TextPipeline.fit(pairs, "word", keep_whitespace=True)
    subwords = TextPipeline.fit(pairs * 5, "unigram", max_vocab_size=60, keep_whitespace=True)
    ids = subwords.target.encode(["Utilisation :  %s   [FICHIER]"]).to_tensor()
    assert strings(subwords.target.decode(ids)) == ["Utilisation :  %s   [FICHIER]"]


def test_a_pipeline_saved_and_loaded_keeps_its_placeholders(tmp_path):
    text = TextPipeline.fit(GETTEXT, "char", placeholders=["printf", r"\$\w+"])
    text.save(tmp_path)
    loaded = TextPipeline.load(tmp_path)
    assert loaded.placeholders.patterns == [PATTERNS["printf"], r"\$\w+"]
    assert strings(loaded.masked(["$HOME has %d"])) == [f"{M0} has {M1}"]
    config = json.loads((tmp_path / "text.json").read_text())
    del config["placeholders"]  # a run from before placeholders: none
    (tmp_path / "text.json").write_text(json.dumps(config))
    assert TextPipeline.load(tmp_path).placeholders is None
