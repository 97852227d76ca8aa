#!/usr/bin/env bash
# The README's test command under load: RUNS clean clones of this checkout's HEAD each run
# `bash scripts/test.sh` at the same time, while HOGS busy loops compete for the CPU, so every
# run shares the machine with the hogs and with the other runs. A test that waits on time
# rather than on a condition fails here. Logs and a summary go to OUT.
#
#   bash scripts/test_under_load.sh [RUNS=5] [HOGS=6] [OUT=/tmp/lstm-zoo-under-load]
set -uo pipefail
runs=${1:-5}
hogs=${2:-6}
out=${3:-/tmp/lstm-zoo-under-load}
repo=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$out" && mkdir -p "$out"
busy=()
for _ in $(seq "$hogs"); do python3 -c "while True: pass" & busy+=($!); done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT

started=()
for r in $(seq "$runs"); do
  git clone -q "$repo" "$out/clone$r"
  (
    cd "$out/clone$r" || exit 1
    begin=$(date +%s)
    bash scripts/test.sh > "$out/run$r.log" 2>&1
    echo "run $r: exit $? after $(( $(date +%s) - begin )) s" >> "$out/summary.txt"
  ) &
  started+=($!)
  sleep 90  # staggered, so the set-ups' pip installs do not all coincide
done
wait "${started[@]}"
cat "$out/summary.txt"
! grep -qv "exit 0 " "$out/summary.txt"
