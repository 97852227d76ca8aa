"""`zoo translate`: a file of source sentences to a file of translations, line by line.

Lines are translated in windows sorted by length (less padding per batch) and written in their
original order as each window finishes, so a long file streams out and a killed run loses at
most one window: the same command continues after the last complete line. A small progress
file beside the output records what is being translated, so a different model or input never
continues someone else's file.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zoo.data.tsv import read_utf8_text

WINDOW = 1024  # lines sorted by length together; also what a kill can cost


def progress_file(output: Path) -> Path:
    return output.with_name(f".{output.name}.progress.json")


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, with an error naming the line that is not UTF-8."""
    if path.is_dir():
        raise IsADirectoryError(
            f"Input {path} is a folder; give a text file with one sentence a line."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Input file {path} does not exist.")
    return read_utf8_text(path).splitlines()


def lines_done(output: Path) -> int:
    """Complete lines already in `output`; a line cut short by a kill is removed."""
    data = output.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with open(output, "r+b") as f:
            f.truncate(complete)
    return data[:complete].count(b"\n")


def translate_file(
    translate: Callable[[list[str]], list[str]],
    source: str | Path,
    output: str | Path,
    job: dict,
    batch_size: int = 64,
    overwrite: bool = False,
) -> int:
    """Translates every line of `source` into the same line of `output`.

    Args:
        translate: Texts -> translations (a `Translator`'s or an export's, batched).
        job: What is translated (model, beam...), recorded to refuse continuing another job.
        batch_size: Sentences per model call.
        overwrite: Start `output` over instead of refusing or continuing it.

    Returns:
        The number of lines translated by this call. Empty source lines give empty lines.
    """
    source, output = Path(source), Path(output)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"--batch-size must be an integer >= 1, received {batch_size!r}.")
    lines = read_lines(source)
    job = {**job, "input": str(source.resolve()), "lines": len(lines)}
    progress = progress_file(output)
    start = _resume_point(output, progress, job, overwrite)
    try:
        progress.write_text(json.dumps(job, indent=2))
        mode = "a" if start else "w"
        with open(output, mode, encoding="utf-8", newline="\n") as out:
            if start:
                print(f"Continuing {output} after line {start} of {len(lines)}.", file=sys.stderr)
            report = Progress(len(lines), start)
            for begin in range(start, len(lines), WINDOW):
                window = lines[begin : begin + WINDOW]
                translations = _translate_window(translate, window, batch_size)
                out.write("".join(f"{t}\n" for t in translations))
                out.flush()
                report.update(begin + len(window))
    except OSError as error:
        raise OSError(f"Cannot write {output}: {error.strerror}.") from None
    progress.unlink(missing_ok=True)  # the file is complete
    return len(lines) - start


def n_best_lines(translator: Any, n: int) -> Callable[[list[str]], list[str]]:
    """Texts -> one line each: a JSON list of the `n` best translations, best first, each
    `{"translation", "score", "log_prob"}` (a `Translator`'s or an export's `n_best`)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"--n-best must be an integer >= 1, received {n!r}.")

    def translate(texts: list[str]) -> list[str]:
        lists = translator.n_best(texts, n)
        return [json.dumps(hypotheses, ensure_ascii=False) for hypotheses in lists]

    return translate


def _resume_point(output: Path, progress: Path, job: dict, overwrite: bool) -> int:
    if overwrite or not output.exists():
        return 0
    if output.is_dir():
        raise IsADirectoryError(f"--output {output} is a folder; give a file path.")
    try:
        recorded = json.loads(progress.read_text())
    except (OSError, ValueError):
        raise FileExistsError(
            f"{output} already exists; pass --overwrite to replace it, or choose another --output."
        ) from None
    if recorded != job:
        raise FileExistsError(
            f"{output} holds a partial translation of another job ({recorded.get('input')}, "
            f"{recorded.get('model')}); pass --overwrite to start it over."
        )
    return lines_done(output)


def _translate_window(translate, lines: list[str], batch_size: int) -> list[str]:
    """Translations of `lines` in order; batches are cut from the lines sorted by length."""
    out = [""] * len(lines)
    todo = sorted((i for i, line in enumerate(lines) if line.strip()), key=lambda i: len(lines[i]))
    for begin in range(0, len(todo), batch_size):
        batch = todo[begin : begin + batch_size]
        for i, translation in zip(batch, translate([lines[i] for i in batch]), strict=True):
            out[i] = " ".join(translation.splitlines())  # one line, whatever the model wrote
    return out


class Progress:
    """`translated N/M lines` on stderr: redrawn in place on a terminal, a line per ~10 % else."""

    def __init__(self, total: int, done: int):
        self.total, self.start = total, done
        self.began = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.next_report = done

    def update(self, done: int) -> None:
        if not self.tty and done < self.next_report and done < self.total:
            return
        self.next_report = done + max(1, self.total // 10)
        rate = (done - self.start) / max(time.monotonic() - self.began, 1e-9)
        text = f"translated {done}/{self.total} lines ({rate:.1f} lines/s)"
        end = "\n" if not self.tty or done >= self.total else ""
        print(f"\r{text}" if self.tty else text, end=end, file=sys.stderr, flush=True)


__all__ = ["translate_file"]
