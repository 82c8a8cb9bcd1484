#!/usr/bin/env bash
# Issue 5's GPU goal, as one run on a lent GPU machine: fused mode (engine, inference and learning
# on one GPU, no RPC in the hot loop) from scratch for at most 8 minutes, then env steps/s, learner
# samples/s and the win rates against expander and gatherer (200 games each, Wilson intervals).
# Here first: bash benchmarks/gpu_wheels.sh; then run there with carry [".whl"]:
#   bash benchmarks/gpu_train.sh      (writes $OUT/train.jsonl and $OUT/train.log)
set -uo pipefail
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
out="${OUT:-.}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
# The serial loop is what --fused runs in its child, without the services around it: the curve
# comes from its own evaluations (the fused mode publishes the same evaluations to the Elo Service).
timeout 560 python3 -m generals_rl.training.serial \
  device=cuda seed=1 time_budget_s=420 eval_every_s=140 eval_games=200 \
  eval_opponents=expander,gatherer games=2048 unroll=32 minibatch=512 \
  log_path="$out/train.jsonl" 2>&1 | tee "$out/train.log"
