#!/usr/bin/env bash
# Rebuild the committed synth leaderboards: every model, every protocol, from scratch.
#   bash leaderboards/make_synth.sh            (on a CPU: the study's networks get EPOCHS=3)
#   EPOCHS=1000 bash leaderboards/make_synth.sh   (on a GPU: the full schedule)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-3}"
OUT=runs/leaderboard-synth
ARGS=(--dataset synth --protocol replication mit exact --no-plots)
rm -rf leaderboards/results/synth

salbench run oracle "${ARGS[@]}" --out "$OUT/oracle"
salbench run uniform "${ARGS[@]}" --out "$OUT/uniform"
salbench run spectral-residual "${ARGS[@]}" --out "$OUT/spectral-residual"
salbench run center-bias --train "${ARGS[@]}" --out "$OUT/center-bias"
salbench run shallow-pan-small --train --no-resume "${ARGS[@]}" --out "$OUT/shallow-pan-small"
salbench run shallow-pan --train --no-resume --epochs "$EPOCHS" "${ARGS[@]}" --out "$OUT/shallow-pan"
salbench run shallow-pan-l1 --train --no-resume --epochs "$EPOCHS" "${ARGS[@]}" --out "$OUT/shallow-pan-l1"
salbench leaderboard
