#!/usr/bin/env bash
# The Debian packages of the speech recipes' data beyond espeak-ng (which comes from PyPI): the
# flite and Festival synthesizers with their English voices (more voices to train on, and a
# synthesizer family to test on that training never heard) and the Asterisk prompts (one real
# speaker: the `asterisk-prompts` test set and the fine-tuning recipe). Debian / Ubuntu only.
set -euo pipefail
packages=(flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
  asterisk-core-sounds-en asterisk-core-sounds-en-wav)
installed=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c "install ok installed" || true)
if [ "$installed" = "${#packages[@]}" ]; then
  echo "speech data packages already installed."
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq || true
$sudo apt-get install -y --no-install-recommends "${packages[@]}"
