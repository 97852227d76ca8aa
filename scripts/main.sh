#!/usr/bin/env bash
# The main job: set up, train lstm_luong_nmt on `dates`, evaluate, show a translation and its
# attention map. Rerunning resumes an interrupted training run; a finished one starts afresh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

python recipes/lstm_luong_nmt.py "$@"
run=$(ls -td runs/lstm_luong_nmt/*/ | head -n 1)
echo
echo "Translating with the trained run $run:"
zoo predict "$run" "3 de marzo de 2015" "martes, 1 de enero de 2030" \
  --attention-png "${run}predict_attention.png"

echo
echo "Exporting it for TF Serving and querying the SavedModel:"
export_dir=$(zoo export "$run" --root saved_models | sed -n 's/^exported //p')
echo "$export_dir"
zoo predict "$export_dir" "3 de marzo de 2015" "2031年12月1日" "вторник, 3 марта 2015 г." --json
