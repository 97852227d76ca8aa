"""A search's state on disk: saved whole, mended after a kill, bound to its settings.

keras-tuner keeps a search in its directory (`oracle.json`, the tuner's file, a `trial.json`
per trial) and reloads it, so rerunning `zoo tune` continues the search. It writes those files
in place and in an order a kill can interrupt; these functions make the state survive that,
and refuse to continue a search with other settings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import keras_tuner as kt

from zoo.runs import write_atomically


def save_oracle_atomically(oracle: kt.Oracle) -> None:
    """Makes `oracle` write `oracle.json` to a temporary file and rename it into place.

    keras-tuner writes the file in place: a kill while it writes leaves it empty or cut
    short, and the search can never be reloaded. A rename is atomic: a reader sees either
    the last state or the new one.
    """
    path = Path(oracle._get_oracle_fname())
    oracle.save = lambda: write_atomically(path, json.dumps(oracle.get_state()))


SEARCH_FILE = "search.json"


def repair_search(project: Path, tuner_id: str = "tuner0") -> list[str]:
    """Drops the trials whose `trial.json` a kill cut short, so the search reloads; a damaged
    `oracle.json` (see `save_oracle_atomically`) is named with the command that starts over.

    keras-tuner writes `trial.json` in place; a kill while it writes leaves a truncated file
    that fails every later reload. Such a trial was running, not finished: its folder is
    removed and its id struck from `oracle.json`, and the search runs it again. A kill just
    after keras-tuner saved a finished trial (before it struck the trial from the ongoing ones,
    and before it wrote the tuner's file) would have it run that trial again, or start the
    whole search over: both are mended here too.

    Returns:
        The ids of the trials dropped.
    """
    oracle_file = project / "oracle.json"
    state = None
    if oracle_file.is_file():
        try:
            state = json.loads(oracle_file.read_text())
        except (OSError, ValueError):  # saved in place, by a search from before the fix
            raise ValueError(
                f"The search state {oracle_file} is empty or cut short (a search killed while "
                "saving it); the finished trials cannot be reloaded without it. Start the "
                "search over with --overwrite (or use another --dir)."
            ) from None
    if state is not None:
        _forget_ended_trials(oracle_file, state)
        # keras-tuner reloads a search only if the tuner's own file (`{}`: it keeps no state)
        # exists, and saves it after the oracle: a kill in between made it start over and
        # overwrite the finished trials.
        tuner_file = project / f"{tuner_id}.json"
        if not tuner_file.exists():
            write_atomically(tuner_file, "{}")
    damaged = []
    for path in sorted(project.glob("trial_*/trial.json")):
        try:
            json.loads(path.read_text())
        except (OSError, ValueError):
            damaged.append(path.parent)
    if not damaged:
        return []
    if state is None:
        raise ValueError(
            f"The search state {oracle_file} is missing; start the search over with --overwrite."
        )
    dropped = []
    for folder in damaged:
        trial_id = folder.name.removeprefix("trial_")
        state["ongoing_trials"] = {
            tuner: trial for tuner, trial in state["ongoing_trials"].items() if trial != trial_id
        }
        for key in ("start_order", "end_order", "retry_queue"):
            state[key] = [trial for trial in state.get(key, []) if trial != trial_id]
        state.get("run_times", {}).pop(trial_id, None)
        values_hash = state.get("id_to_hash", {}).pop(trial_id, None)
        state["tried_so_far"] = [h for h in state["tried_so_far"] if h != values_hash]
        shutil.rmtree(folder)
        dropped.append(trial_id)
    write_atomically(oracle_file, json.dumps(state))
    print(f"Trial(s) {dropped} were cut short while being saved; they run again.")
    return dropped


def _forget_ended_trials(oracle_file: Path, state: dict[str, Any]) -> None:
    """A trial keras-tuner ended and saved but had not yet struck from its ongoing trials when
    the search was killed (it saves first) would be run again on reload, overwriting its
    record: struck here, as keras-tuner would have."""
    ended = set(state.get("end_order", []))
    ongoing = state.get("ongoing_trials", {})
    still = {tuner: trial for tuner, trial in ongoing.items() if trial not in ended}
    if still != ongoing:
        state["ongoing_trials"] = still
        write_atomically(oracle_file, json.dumps(state))


def remember_search(
    directory: Path, name: str, data: str, fixed: dict[str, Any], overwrite: bool
) -> None:
    """Records what a search directory searches; continuing it with other settings raises."""
    path = directory / SEARCH_FILE
    wanted = {"model": name, "data": data, "fixed": fixed}
    if path.is_file() and not overwrite:
        try:
            started = json.loads(path.read_text())
        except json.JSONDecodeError:
            started = None
        if started != wanted:
            raise ValueError(
                f"The search in {directory} was started with {json.dumps(started)}, not "
                f"{json.dumps(wanted)}; continuing it would mix trials of different settings. "
                "Rerun with the same --data and --set, or pass --overwrite to start it over "
                "(or --dir for a new search)."
            )
        return
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(wanted, indent=2))
