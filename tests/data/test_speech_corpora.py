"""Speech corpora in the layouts they come in (LibriSpeech, Common Voice, Kaldi, a manifest),
made here in miniature, read as the same utterances."""

import numpy as np
import pytest
import soundfile

from zoo.data.audio import read_audio, wav_bytes
from zoo.data.speech_corpora import read_speech_data
from zoo.data.tsv import DataFileError

RATE = 16000
TEXTS = ["Three March", "yes", "Twenty-one, please!"]


def tone(i):
    """A different clip for each utterance: `i + 1` tenths of a second of a tone."""
    t = np.arange(int(RATE * 0.1 * (i + 1))) / RATE
    return np.round(8000 * np.sin(2 * np.pi * (200 + 100 * i) * t)).astype(np.int16)


def check(utterances):
    assert [u[1] for u in utterances] == ["three march", "yes", "twenty one please"]
    for i, (audio, _, _) in enumerate(utterances):
        np.testing.assert_array_equal(audio, tone(i))  # lossless formats: the same samples


def test_librispeech_folders(tmp_path):
    chapter = tmp_path / "train-clean-5" / "19" / "198"
    chapter.mkdir(parents=True)
    lines = []
    for i, text in enumerate(TEXTS):
        soundfile.write(chapter / f"19-198-{i:04d}.flac", tone(i), RATE, subtype="PCM_16")
        lines.append(f"19-198-{i:04d} {text.upper()}\n")
    (chapter / "19-198.trans.txt").write_text("".join(lines))
    check(read_speech_data(tmp_path))


def test_common_voice_tables(tmp_path):
    (tmp_path / "clips").mkdir()
    rows = ["client_id\tpath\tsentence\tup_votes"]
    for i, text in enumerate(TEXTS):
        (tmp_path / "clips" / f"cv_{i}.wav").write_bytes(wav_bytes(tone(i)))
        rows.append(f"c{i}\tcv_{i}.wav\t{text}\t2")
    (tmp_path / "validated.tsv").write_text("\n".join(rows) + "\n")
    check(read_speech_data(tmp_path))


def test_kaldi_data_folders(tmp_path):
    (tmp_path / "audio").mkdir()
    scp, text = [], []
    for i, sentence in enumerate(TEXTS):
        soundfile.write(tmp_path / "audio" / f"u{i}.flac", tone(i), RATE, subtype="PCM_16")
        scp.append(f"utt{i} audio/u{i}.flac")
        text.append(f"utt{i} {sentence}")
    (tmp_path / "wav.scp").write_text("\n".join(scp) + "\n")
    (tmp_path / "text").write_text("\n".join(text) + "\n")
    check(read_speech_data(tmp_path))
    (tmp_path / "wav.scp").write_text("utt0 sox in.wav -t wav - |\n")
    with pytest.raises(DataFileError, match="wav.scp, line 1: utt0 is a piped command"):
        read_speech_data(tmp_path)


def test_a_manifest_of_paths_and_texts(tmp_path):
    rows = ["audio,transcript"]
    for i, text in enumerate(TEXTS):
        soundfile.write(tmp_path / f"{i}.ogg", tone(i), RATE)  # lossy: compared loosely below
        rows.append(f'{i}.ogg,"{text}"')
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    utterances = read_speech_data(tmp_path / "manifest.csv")
    assert [u[1] for u in utterances] == ["three march", "yes", "twenty one please"]
    assert [len(u[0]) for u in utterances] == [len(tone(i)) for i in range(3)]
    (tmp_path / "bad.csv").write_text("clip,words\n0.ogg,yes\n")
    with pytest.raises(DataFileError, match="needs a header with an audio column"):
        read_speech_data(tmp_path / "bad.csv")


def test_a_folder_in_no_known_layout_says_what_to_add(tmp_path):
    (tmp_path / "a.wav").write_bytes(wav_bytes(tone(0)))
    with pytest.raises(DataFileError, match="transcripts.tsv, LibriSpeech .* Kaldi"):
        read_speech_data(tmp_path)


def test_compressed_audio_that_cannot_be_read_is_named(tmp_path):
    (tmp_path / "broken.flac").write_bytes(b"fLaC" + bytes(20))
    with pytest.raises(DataFileError, match="broken.flac cannot be read as audio.*ffmpeg"):
        read_audio(tmp_path / "broken.flac")
