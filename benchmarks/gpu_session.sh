#!/usr/bin/env bash
# The GPU checks of one short lease (DEVELOPERS.md, "On a GPU machine"), in one command:
#   first, alone on the GPU: the full-schedule benchmark (FULL_EPOCHS of the 1,000; it
#   records the steady rate from epoch 2 on) and the plain PyTorch loop; then, side by side:
#   - the trainer's tests on CUDA (compile, bf16, resume, DDP with one NCCL process);
#   - shallow-pan and shallow-pan-l1 on synth, the 1,000-epoch schedule or as much of it as
#     DEADLINE allows (stopped by SIGINT, the epoch in progress finished, the entries named
#     @Nof1000ep), scored under every protocol, center-bias beside them, and their paired
#     comparisons.
# Everything lands in $OUT (log.txt, results.tgz). Run from the repository root:
#   OUT=/tmp/gpu DEADLINE=555 bash benchmarks/gpu_session.sh
# STEP2_K (pytest -k) and STEP2_MAX (seconds) shrink step 2 when a lease has measured it.
# Wheels missing on the machine (pyemd and POT on the lent machines) go in .whl/.
set -u
OUT="${OUT:-/tmp/salbench-gpu}"
DEADLINE="${DEADLINE:-555}"  # seconds from the start by which everything must be packed
FULL_EPOCHS="${FULL_EPOCHS:-30}"
STEP2_K="${STEP2_K:-full_schedule or (bf16 and not compiled)}"  # pytest -k of step 2
STEP2_MAX="${STEP2_MAX:-100000}"  # seconds step 2 may take at most
MODELS="${MODELS:-shallow-pan shallow-pan-l1}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
left() { echo $(( DEADLINE - $(elapsed) )); }
stamp() { echo "== t=$(elapsed)s $*"; }

if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export SALBENCH_HOME=/tmp/salbench-home
STORE=runs/gpu-store
SB=("$PY" -m salbench)

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$PY" -c "import torch, numba, numpy, scipy; print('torch', torch.__version__, 'cuda', \
torch.version.cuda, torch.cuda.get_device_name(0), '| numba', numba.__version__, '| numpy', \
numpy.__version__, '| scipy', scipy.__version__)"
nproc; git rev-parse HEAD 2>/dev/null || true

stamp "synth data"
"${SB[@]}" data synth 2>&1 | tail -4

stamp "step 2: full schedule ($FULL_EPOCHS epochs) and the plain loop, alone on the GPU"
T2=$(( $(left) > 360 ? $(left) - 300 : 60 ))  # step 3 keeps at least 300 s
T2=$(( T2 < STEP2_MAX ? T2 : STEP2_MAX ))
SALBENCH_BENCH_FULL_EPOCHS=$FULL_EPOCHS SALBENCH_BENCH_TRAIN_EPOCHS=2 \
    timeout "$T2" "$PY" -m pytest benchmarks/test_train.py -p no:cacheprovider -q -s \
    -k "$STEP2_K" --benchmark-columns=min,mean,rounds
stamp "step 3: the 1000-epoch schedule, stopped (SIGINT) at the deadline, and the CUDA tests"
ARGS=(--dataset synth --protocol replication mit salicon pysaliency exact --no-plots
      --store "$STORE")
train_then_score() {  # model, seconds: train until done or stopped, then score what ran
    local m=$1 out="runs/gpu/$1" last n
    timeout -s INT "$2" "${SB[@]}" run "$m" --train --no-resume "${ARGS[@]}" --out "$out" \
        > "$OUT/$m.txt" 2>&1 && return
    # stopped: finish the epoch in progress (a mid-epoch checkpoint is refused as N epochs)
    # and score it as $m@Nof1000ep
    last=$(ls "$out"/checkpoint-epoch*.pt | sort | tail -1)
    n=$(basename "$last" | sed -E 's/checkpoint-epoch0*([0-9]+).*/\1/')
    case "$last" in *-step*) n=$((n + 1)) ;; esac
    "${SB[@]}" run "$m" --train --stop-after "$n" "${ARGS[@]}" --out "$out" >> "$OUT/$m.txt" 2>&1
}
timeout $(( $(left) - 40 )) "${SB[@]}" run center-bias --train "${ARGS[@]}" \
    --out runs/gpu/center-bias > "$OUT/center-bias.txt" 2>&1 &
PIDS=($!)
for m in $MODELS; do
    train_then_score "$m" $(( $(left) - 120 )) &
    PIDS+=($!)
done
XDIST=(); "$PY" -c "import xdist" 2>/dev/null && XDIST=(-n 4)
timeout $(( $(left) - 60 )) "$PY" -m pytest -p no:cacheprovider -v "${XDIST[@]}" \
    tests/test_train.py tests/test_nets.py > "$OUT/pytest-cuda.txt" 2>&1
stamp "CUDA tests: $(tail -1 "$OUT/pytest-cuda.txt")"
wait "${PIDS[@]}"  # not a bare wait: that would wait for the log's tee too
stamp "trained and scored"
for m in $MODELS; do tail -n 25 "$OUT/$m.txt"; done
for f in "$STORE"/synth/replication/*.json; do
    name=$(basename "$f" .json)
    [ "$name" = center-bias ] && continue
    for p in replication mit salicon pysaliency exact; do
        "${SB[@]}" compare "$name" center-bias --store "$STORE" --protocol "$p"
    done
done > "$OUT/compare.txt" 2>&1
"${SB[@]}" leaderboard --store "$STORE" > "$OUT/leaderboard.txt" 2>&1
tar czf "$OUT/results.tgz" "$STORE" runs/gpu/*/train_log.jsonl benchmarks/results 2>/dev/null
stamp "done"
