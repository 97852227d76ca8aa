"""A user's speech data in the layouts corpora come in, read without converting them.

`read_speech_data(path)` recognizes:

- the zoo's own folder: WAV (or FLAC / Ogg / MP3) files and `transcripts.tsv`
  (`file<TAB>text` per line; `zoo.data.speech.read_speech_folder`);
- LibriSpeech: `SPEAKER/CHAPTER/SPEAKER-CHAPTER.trans.txt` (`ID TEXT` per line) beside
  `ID.flac`, at any depth below the folder;
- Common Voice: `validated.tsv` (or `train.tsv`, `dev.tsv`, `test.tsv`) with `path` and
  `sentence` columns, the clips in `clips/`;
- Kaldi: `wav.scp` (`ID PATH`) and `text` (`ID TEXT`); piped commands are refused;
- a manifest: a CSV or TSV file with an audio-path column (`path`, `file`, `audio`, `wav`) and
  a text column (`text`, `transcript`, `sentence`), paths relative to the manifest.

Every utterance comes back as `(int16 audio at 16 kHz, normalized transcript, file)`.
Audio files are read by `zoo.data.audio.read_audio`: WAV by the zoo's own reader, FLAC, Ogg
Vorbis and MP3 by `soundfile` (libsndfile).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from zoo.data.audio import SAMPLE_RATE, read_audio, resample
from zoo.data.speech import TRANSCRIPTS, read_speech_folder
from zoo.data.transcripts import normalize_transcript
from zoo.data.tsv import DataFileError, read_utf8_text

COMMON_VOICE_TABLES = ("validated.tsv", "train.tsv", "dev.tsv", "test.tsv")
PATH_COLUMNS = ("path", "file", "audio", "wav", "audio_path", "filename")
TEXT_COLUMNS = ("text", "transcript", "sentence", "transcription")


def read_speech_data(path: str | Path, notes: list[str] | None = None) -> list:
    """The utterances of a speech folder or manifest in any layout above."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv"):
        pairs = _manifest(path)
    elif not path.is_dir():
        raise DataFileError(
            f"{path} is neither a folder of recordings nor a CSV / TSV manifest; see the "
            "layouts zoo.data.speech_corpora reads."
        )
    elif (path / TRANSCRIPTS).is_file():
        return read_speech_folder(path, notes)
    elif any(path.rglob("*.trans.txt")):
        pairs = _librispeech(path)
    elif table := next((path / n for n in COMMON_VOICE_TABLES if (path / n).is_file()), None):
        pairs = _common_voice(table)
    elif (path / "wav.scp").is_file() and (path / "text").is_file():
        pairs = _kaldi(path)
    else:
        raise DataFileError(
            f"{path} has no {TRANSCRIPTS}, LibriSpeech *.trans.txt, Common Voice validated.tsv "
            "or Kaldi wav.scp + text: say what each recording says in one of these, e.g. a "
            f"{TRANSCRIPTS} of `file.wav<TAB>what is said` lines."
        )
    return _load(pairs, path, notes)


def _load(pairs: list[tuple[Path, str, str]], source: Path, notes: list[str] | None) -> list:
    """Reads `(audio file, text, where it was listed)` triples into utterances."""
    utterances, rates = [], set()
    for audio_path, text, where in pairs:
        transcript = normalize_transcript(text)
        if not transcript:
            raise DataFileError(f"{where}: the transcript of {audio_path.name} is empty.")
        audio, rate = read_audio(audio_path)
        rates.add(rate)
        utterances.append((resample(audio, rate), transcript, str(audio_path)))
    if not utterances:
        raise DataFileError(f"{source} lists no recordings.")
    other = sorted(r for r in rates if r != SAMPLE_RATE)
    if other and notes is not None:
        notes.append(f"resampled {other} Hz audio in {source} to {SAMPLE_RATE} Hz")
    return utterances


def _id_lines(path: Path) -> list[tuple[str, str, str]]:
    """`(id, rest of the line, "file, line N")` of a file of `ID TEXT` lines."""
    rows = []
    for number, line in enumerate(read_utf8_text(path).splitlines(), start=1):
        if line.strip():
            key, _, rest = line.strip().partition(" ")
            rows.append((key, rest.strip(), f"{path}, line {number}"))
    return rows


def _librispeech(folder: Path) -> list[tuple[Path, str, str]]:
    pairs = []
    for table in sorted(folder.rglob("*.trans.txt")):
        for key, text, where in _id_lines(table):
            audio = next((table.parent / f"{key}{ext}" for ext in (".flac", ".wav")
                          if (table.parent / f"{key}{ext}").is_file()), None)  # fmt: skip
            if audio is None:
                raise DataFileError(f"{where}: no {key}.flac (or .wav) beside it.")
            pairs.append((audio, text, where))
    return pairs


def _common_voice(table: Path) -> list[tuple[Path, str, str]]:
    rows = list(csv.DictReader(io.StringIO(read_utf8_text(table)), delimiter="\t"))
    if rows and not {"path", "sentence"} <= set(rows[0]):
        raise DataFileError(f"{table} has no `path` and `sentence` columns (Common Voice's).")
    clips = table.parent / "clips"
    return [
        (clips / row["path"], row["sentence"] or "", f"{table}, line {number}")
        for number, row in enumerate(rows, start=2)
    ]


def _kaldi(folder: Path) -> list[tuple[Path, str, str]]:
    texts = {key: (text, where) for key, text, where in _id_lines(folder / "text")}
    pairs = []
    for key, location, where in _id_lines(folder / "wav.scp"):
        if location.endswith("|"):
            raise DataFileError(
                f"{where}: {key} is a piped command; give audio files (run the command once and "
                "point wav.scp at its output)."
            )
        if key not in texts:
            raise DataFileError(f"{where}: {key} has no line in {folder / 'text'}.")
        audio = Path(location) if Path(location).is_absolute() else folder / location
        pairs.append((audio, texts[key][0], texts[key][1]))
    return pairs


def _manifest(table: Path) -> list[tuple[Path, str, str]]:
    delimiter = "\t" if table.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(read_utf8_text(table)), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    path_column = next((c for c in PATH_COLUMNS if c in header), None)
    text_column = next((c for c in TEXT_COLUMNS if c in header), None)
    if path_column is None or text_column is None:
        raise DataFileError(
            f"{table} needs a header with an audio column ({', '.join(PATH_COLUMNS)}) and a "
            f"text column ({', '.join(TEXT_COLUMNS)}); found {header}."
        )
    names = {name.strip().lower(): name for name in reader.fieldnames}
    return [
        (
            table.parent / row[names[path_column]].strip(),
            row[names[text_column]] or "",
            f"{table}, line {number}",
        )  # fmt: skip
        for number, row in enumerate(reader, start=2)
    ]
