"""Starting TensorFlow without its GPU-probing noise on machines without an NVIDIA driver.

TensorFlow's C++ runtime reports that it found no CUDA driver (`cudart_stub.cc ... Could not
find cuda drivers`, `failed call to cuInit: ... UNKNOWN ERROR (303)`) on every start, through
absl before anything can configure it, so `TF_CPP_MIN_LOG_LEVEL` does not reach those lines. On
a machine with no NVIDIA driver they say nothing, yet read like failures. The CLI starts
TensorFlow with the process's stderr sent to a file, then writes back every line except those
(real errors and warnings still show). With a driver present nothing is filtered.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

# Lines TensorFlow prints when it looks for a GPU on a machine that has none, and its notes
# about CPU instructions it was built without and about oneDNN being on: nothing a user needs
# to act on (turning oneDNN off would change the numbers the README reports).
EXPECTED_WITHOUT_GPU = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"),
    re.compile(r"cuda_platform\.cc:\d+\] failed call to cuInit: .*\(303\)"),
    re.compile(r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
    re.compile(r"port\.cc:\d+\] oneDNN custom operations are on"),
)


def has_nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia").exists()


def unexpected_lines(text: str) -> str:
    """`text` without the lines TensorFlow prints on every start of a machine without a GPU."""
    return "".join(
        line
        for line in text.splitlines(keepends=True)
        if not any(pattern.search(line) for pattern in EXPECTED_WITHOUT_GPU)
    )


def start_tensorflow_quietly() -> None:
    """Imports TensorFlow and lets it find its devices, keeping only stderr lines that matter."""
    if "tensorflow" in sys.modules or has_nvidia_driver():
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:  # a file, not a pipe: no buffer to fill up
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe happens here
        finally:
            sys.stderr.flush()  # Python's own warnings meant for the capture go there first
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        sys.stderr.write(unexpected_lines(capture.read().decode("utf-8", "replace")))
