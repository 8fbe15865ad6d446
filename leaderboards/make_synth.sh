#!/usr/bin/env bash
# Rebuild the committed synth leaderboards: every model, every protocol, from scratch, into
# the store 'leaderboards' (results in leaderboards/synth/<protocol>/, boards beside them).
#   bash leaderboards/make_synth.sh              (a CPU: the study's networks stop after
#                                                 STOP_AFTER=3 epochs of their 1,000-epoch
#                                                 schedule, rows labelled @3of1000ep;
#                                                 the full-schedule rows are kept)
#   STOP_AFTER=1000 bash leaderboards/make_synth.sh   (a GPU: the full schedule)
set -euo pipefail
cd "$(dirname "$0")/.."
STOP_AFTER="${STOP_AFTER:-${EPOCHS:-3}}"  # EPOCHS: the older name (gpu-checklist.md uses it)
OUT=runs/leaderboard-synth
ARGS=(--dataset synth --protocol replication mit salicon pysaliency exact --no-plots
      --store leaderboards)
if [ "$STOP_AFTER" -ge 1000 ]; then
    rm -rf leaderboards/synth
else  # the full-schedule rows (trained on a GPU) stay: a CPU rebuild cannot remake them
    find leaderboards/synth -type f -name '*.json' ! -name shallow-pan.json \
        ! -name shallow-pan-l1.json -delete 2>/dev/null || true
fi

salbench run oracle "${ARGS[@]}" --out "$OUT/oracle"
salbench run uniform "${ARGS[@]}" --out "$OUT/uniform"
salbench run spectral-residual "${ARGS[@]}" --out "$OUT/spectral-residual"
salbench run center-bias --train "${ARGS[@]}" --out "$OUT/center-bias"
salbench run shallow-pan-small --train --no-resume "${ARGS[@]}" --out "$OUT/shallow-pan-small"
salbench run shallow-pan --train --no-resume --stop-after "$STOP_AFTER" "${ARGS[@]}" \
    --out "$OUT/shallow-pan"
salbench run shallow-pan-l1 --train --no-resume --stop-after "$STOP_AFTER" "${ARGS[@]}" \
    --out "$OUT/shallow-pan-l1"
salbench leaderboard --store leaderboards
