#!/usr/bin/env bash
# Issue 5's GPU goal on a lent GPU machine, as two commands that each fit its 10-minute limit.
#
#   bash benchmarks/gpu_train.sh            training: `grl train --fused` (engine, inference and
#       learning on one GPU, no RPC in the hot loop; the services on the embedded defaults beside
#       it) from scratch for up to 480 s of training, then env steps/s, learner samples/s and where
#       the training time went. Writes $OUT/train.jsonl, train.log, smoke.log, cuda_tests.log and
#       $OUT/run.tar.gz (the run's registry and published weights, no checkpoints).
#   bash benchmarks/gpu_train.sh evaluate [DIR]    the win rates of the run's last version against
#       expander and gatherer: 200 games each on the GPU, Wilson intervals (training_curve.py
#       --evaluate-only; about 150 s on an H200). DIR: the run folder, /tmp/grl-run while the
#       machine is still warm, else run.tar.gz unpacked and carried. Writes $OUT/eval.jsonl.
#
# Here first: bash benchmarks/gpu_wheels.sh; then run there with carry [".whl"]. The training
# command starts with a 10-second smoke run on the GPU (the CUDA tests run beside it) and stops if
# it fails, so a broken CUDA path costs a minute, not the whole lease. GRL_GPU_BUDGET_S lowers the
# training budget; it also shrinks to what the 10-minute limit leaves after the smoke run.
set -uo pipefail
t0=$(date +%s)
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
out="${OUT:-.}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"

if [ "${1:-train}" = evaluate ]; then
  run="${2:-/tmp/grl-run}"  # the version latest 600 s after `started`: the last (training fits in 585)
  timeout $(( 585 - ($(date +%s) - t0) )) python3 benchmarks/training_curve.py --evaluate-only \
    --data-dir "$run" --seconds 600 --every 600 --opponents expander,gatherer --device cuda \
    | tee "$out/eval.jsonl"
  echo "evaluated in $(( $(date +%s) - t0 )) s"
  exit 0
fi

fused() {  # LIMIT DATA [--set ...]: grl train --fused on CUDA, the services on a fresh data folder
  local limit="$1" data="$2"; shift 2
  rm -rf "$data"; mkdir -p "$data"
  date +%s.%N > "$data/started"  # for training_curve.py --evaluate-only
  timeout "$limit" python3 -m generals_rl.cli.main train --fused --no-dashboard --no-gateway \
    --no-evaluate --run curve --data-dir "$data" --set device=cuda --set channels=32 --set blocks=4 "$@"
}
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/unit/test_cuda.py > "$out/cuda_tests.log" 2>&1 &
tests=$!
fused 150 /tmp/grl-smoke --set time_budget_s=10 --set games=256 --set eval_every_s=0 \
  --set eval_games=2 --set eval_max_ticks=50 --set eval_opponents=expander,gatherer > "$out/smoke.log" 2>&1
code=$?
tail -5 "$out/smoke.log"
if [ "$code" -ne 0 ] || ! grep -q "fused finished" "$out/smoke.log"; then
  echo "smoke run failed (exit $code) after $(( $(date +%s) - t0 )) s: see smoke.log"; kill $tests; exit 1
fi
wait $tests
tail -1 "$out/cuda_tests.log"
elapsed=$(( $(date +%s) - t0 ))
budget=$(( 585 - elapsed - 50 ))  # 50 s for the services to start and the last checkpoint
[ "$budget" -gt "${GRL_GPU_BUDGET_S:-480}" ] && budget="${GRL_GPU_BUDGET_S:-480}"
echo "smoke run passed, $elapsed s after the start; training for $budget s"
# kickstarting from expander ends after 500 updates (of about 1,100): over 1,500 updates it lasted the
# whole run, and the opponents phase (teacher included) took 36% of the time
fused $(( 585 - ($(date +%s) - t0) )) /tmp/grl-run --set time_budget_s="$budget" --set games=2048 \
  --set unroll=32 --set minibatch=512 --set teacher_decay_updates=500 --set eval_every_s=-1 \
  --set log_path="$out/train.jsonl" 2>&1 | tee "$out/train.log" | grep -v "^ *[0-9]* s  env"
# what `evaluate` needs, as one file ($OUT returns only shallow folders)
tar -czf "$out/run.tar.gz" -C /tmp/grl-run started $(cd /tmp/grl-run && ls grl.db*) blobs/models
# the last progress line: the means over training time, and where that time went
grep '"profile_s"' "$out/train.jsonl" | tail -1 | python3 -c "import json, sys
for r in map(json.loads, sys.stdin):
    print(json.dumps({'update': r['update'], 'train_s': r['train_s'], 'env_steps': r['env_steps'],
        'env_steps_per_s': r['env_steps'] / r['train_s'], 'samples_per_s': r['samples'] / r['train_s'],
        'profile_s': r['profile_s']}))"
echo "done in $(( $(date +%s) - t0 )) s"
