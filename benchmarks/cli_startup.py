"""How long `zoo --help`, `zoo list` and `zoo describe` take (the README's target: `--help`
< 2 s).

    python benchmarks/cli_startup.py [--out benchmarks/results/cli_startup.json]

Each command runs in a fresh process, several times; the median wall time is reported.
None of them imports a backend: the registry and the task settings are plain Python, and a
model's Keras class loads only when it is built. The target for `zoo list`: under 1.5 s in the
main job's environment (`scripts/setup.sh` without extras).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_time(command: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/cli_startup.json")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    zoo = shutil.which("zoo") or str(Path(sys.executable).parent / "zoo")
    results = {}
    commands = {
        "zoo --help": [zoo, "--help"],
        "zoo list": [zoo, "list"],
        "zoo describe": [zoo, "describe", "lstm_luong_nmt"],
    }
    for name, command in commands.items():
        times = wall_time(command, args.repeats)
        results[name] = {
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
        }
    report = {"benchmark": "cli_startup", "cpus": os.cpu_count(), "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
