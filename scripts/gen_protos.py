"""Generate the Python code of the service contracts: ``proto/generals_rl/v1/*.proto`` into
``src/generals_rl/v1/`` (messages ``<name>_pb2.py`` with ``.pyi`` stubs, gRPC stubs
``<name>_pb2_grpc.py``), with the protoc bundled in grpcio-tools.

    python scripts/gen_protos.py            regenerate src/generals_rl/v1/ (commit the result)
    python scripts/gen_protos.py --check    exit 1 when the committed files are out of date
    python scripts/gen_protos.py --out DIR  write into DIR/generals_rl/v1/ instead

The .proto files import each other as ``generals_rl/v1/<name>.proto``, so the generated modules
import each other as ``from generals_rl.v1 import common_pb2``. Never edit the output by hand.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.resources
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "proto"
PACKAGE = Path("generals_rl") / "v1"
SRC = ROOT / "src"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    """The contract files, relative to ``proto/`` (the import root), in name order."""
    return sorted(path.relative_to(PROTO_ROOT) for path in (PROTO_ROOT / PACKAGE).glob("*.proto"))


def generated_files(out_root: Path) -> list[Path]:
    """The generated files under ``out_root/generals_rl/v1``, in name order."""
    folder = out_root / PACKAGE
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(GENERATED_SUFFIXES))


def generate(out_root: Path) -> list[Path]:
    """Write the generated modules into ``out_root/generals_rl/v1/``, removing stale ones first;
    returns the files written."""
    (out_root / PACKAGE).mkdir(parents=True, exist_ok=True)
    for stale in generated_files(out_root):
        stale.unlink()
    well_known = importlib.resources.files("grpc_tools") / "_proto"  # google/protobuf/*.proto
    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(path.as_posix() for path in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed (its messages are above)")
    return generated_files(out_root)


def out_of_date() -> list[str]:
    """Names of the files under ``src/generals_rl/v1`` that differ from a fresh generation
    (changed, missing or left over); empty when everything is up to date."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in generate(Path(tmp))}
        committed = {p.name: p for p in generated_files(SRC)}
        names = sorted(fresh.keys() | committed.keys())
        return [
            name
            for name in names
            if name not in fresh
            or name not in committed
            or not filecmp.cmp(fresh[name], committed[name], shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="fail when src/generals_rl/v1 is out of date")
    group.add_argument("--out", type=Path, help="write into OUT/generals_rl/v1 instead of src/")
    args = parser.parse_args(argv)
    if args.check:
        stale = out_of_date()
        if stale:
            print(f"out of date: {', '.join(stale)}; run `python scripts/gen_protos.py`", file=sys.stderr)
            return 1
        print("generated code is up to date")
        return 0
    written = generate(args.out or SRC)
    print(f"wrote {len(written)} files to {(args.out or SRC) / PACKAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
