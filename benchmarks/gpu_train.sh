#!/usr/bin/env bash
# Issue 5's GPU goal, as one run on a lent GPU machine: `grl train --fused` (engine, inference and
# learning on one GPU, no RPC in the hot loop; the services on the embedded defaults beside it) from
# scratch for 320 s of training, then env steps/s, learner samples/s and the win rates against
# expander and gatherer (200 games each, Wilson intervals), and where the training time went.
# Before the run, the scripted bots (the teacher and opponents) on CUDA: their tests and their speed
# (benchmarks/bots.py). Here first: bash benchmarks/gpu_wheels.sh; then run there with carry [".whl"]:
#   bash benchmarks/gpu_train.sh      (writes $OUT/train.jsonl, $OUT/train.log, $OUT/smoke.log,
#                                      $OUT/bots.jsonl)
# A 10-second smoke run on the GPU goes first and stops the script if it fails, so a broken CUDA
# path costs a minute, not the whole lease.
set -uo pipefail
t0=$(date +%s)
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
out="${OUT:-.}"
budget="${GRL_GPU_BUDGET_S:-320}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
fused() {  # LIMIT DATA [--set ...]: grl train --fused on CUDA, the services on a fresh data folder
  local limit="$1" data="$2"; shift 2
  rm -rf "$data"
  timeout "$limit" python3 -m generals_rl.cli.main train --fused --no-dashboard --no-gateway \
    --no-evaluate --data-dir "$data" --set device=cuda --set channels=32 --set blocks=4 "$@"
}
fused 150 /tmp/grl-smoke --set time_budget_s=10 --set games=256 --set eval_every_s=0 \
  --set eval_games=2 --set eval_max_ticks=50 --set eval_opponents=expander,gatherer > "$out/smoke.log" 2>&1
code=$?
tail -5 "$out/smoke.log"
if [ "$code" -ne 0 ] || ! grep -q "fused finished" "$out/smoke.log"; then
  echo "smoke run failed (exit $code) after $(( $(date +%s) - t0 )) s: see smoke.log"; exit 1
fi
echo "smoke run passed, $(( $(date +%s) - t0 )) s after the start"
# the scripted bots on CUDA: the same moves as on the CPU, and their speed checking convergence
# every sweep or every 8 (each check waits for the device)
timeout 60 python3 -m pytest -q -p no:cacheprovider tests/unit/test_cuda.py 2>&1 | tail -3
timeout 60 python3 benchmarks/bots.py --device cuda --batch 2048 --ticks 100 --rounds 1 \
  --every 1 --every 8 | tee "$out/bots.jsonl"
fused $(( 585 - ($(date +%s) - t0) )) /tmp/grl-run --set time_budget_s="$budget" --set games=2048 \
  --set unroll=32 --set minibatch=512 --set eval_every_s=0 --set eval_games=200 \
  --set eval_opponents=expander,gatherer --set log_path="$out/train.jsonl" 2>&1 \
  | tee "$out/train.log" | grep -v "^ *[0-9]* s  env"
grep '"eval"' "$out/train.jsonl"
# the last progress line: the means over training time, and where that time went
grep '"profile_s"' "$out/train.jsonl" | tail -1 | python3 -c "import json, sys
for r in map(json.loads, sys.stdin):
    print(json.dumps({'update': r['update'], 'train_s': r['train_s'], 'env_steps': r['env_steps'],
        'env_steps_per_s': r['env_steps'] / r['train_s'], 'samples_per_s': r['samples'] / r['train_s'],
        'profile_s': r['profile_s']}))"
