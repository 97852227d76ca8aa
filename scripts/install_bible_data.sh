#!/usr/bin/env bash
# The Debian packages of the `bible-es-en` dataset: SWORD's mod2imp and the two public-domain
# translations it reads (Reina-Valera 1909, World English Bible). Debian / Ubuntu only.
set -euo pipefail
has_module() { command -v mod2imp >/dev/null && [ "$(mod2imp "$1" 2>/dev/null | grep -c '^\$\$\$')" -gt 0 ]; }
if has_module spaRV1909eb && has_module engWEB2015eb; then
  echo "bible-es-en data already installed."
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq || true
$sudo apt-get install -y --no-install-recommends libsword-utils sword-text-sparv sword-text-web
