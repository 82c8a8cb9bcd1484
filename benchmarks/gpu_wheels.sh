#!/usr/bin/env bash
# Fetch, here, the wheels a lent GPU machine lacks for `grl train --fused` (it has CUDA PyTorch,
# grpcio, rich, typer, numpy, safetensors, tensorboard, ...; nothing can be fetched there). They
# land in .whl/ (git-ignored through .git/info/exclude) and travel with `carry: [".whl"]`;
# benchmarks/gpu_train.sh installs them there. Versions are this project's lock (pip freeze).
# Usage here: bash benchmarks/gpu_wheels.sh [python-version, default 3.12]
set -euo pipefail
py="${1:-3.12}"
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
platforms=()
for n in 17 24 27 28 31 34; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform any)
wanted=(
  sqlalchemy alembic mako greenlet gymnasium farama-notifications pettingzoo
  grpcio grpcio-health-checking grpcio-reflection protobuf boto3 botocore s3transfer jmespath
  redis psycopg psycopg-binary fastapi starlette pydantic pydantic-core annotated-types annotated-doc opentelemetry-api
  typing-inspection uvicorn websockets python-socketio python-engineio bidict simple-websocket wsproto
)
for name in "${wanted[@]}"; do
  version="$(.venv/bin/pip show "$name" 2>/dev/null | awk '/^Version:/{print $2}')"
  [ -n "$version" ] || { echo "skip $name (not installed here)"; continue; }
  .venv/bin/pip download -q --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
    "${platforms[@]}" -d .whl "$name==$version" || echo "no wheel for $name==$version on cp$py"
done
du -sh .whl
