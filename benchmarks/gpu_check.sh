#!/usr/bin/env bash
# The engine issue's device check, as one run on a lent GPU machine (its python3 holds CUDA PyTorch):
#   1. the engine on CUDA equals the engine on CPU (tests/unit/test_cuda.py);
#   2. throughput at batch >= 65,536 on 24x24 maps, eager and torch.compile'd, one JSON line each;
#   3. drawing actions at fused mode's batches: torch.multinomial against networks.sample.
# Usage there: bash benchmarks/gpu_check.sh   (writes $OUT/gpu.jsonl when $OUT is set)
set -uo pipefail
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${OUT:-.}/gpu.jsonl"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -m pytest -q -p no:cacheprovider tests/unit/test_cuda.py 2>&1 | tail -5
for compile in "" "--compile"; do
  python3 benchmarks/engine.py --device cuda --batch 65536 --batch 131072 --seconds 10 $compile | tee -a "$out"
done
python3 benchmarks/action_sampling.py --device cuda --batch 2048 --batch 8192 | tee -a "$out"
