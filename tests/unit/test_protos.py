"""The service contracts: generated code up to date, every declaration documented, RPC shapes pinned."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto" / "generals_rl" / "v1"
PROTOS = sorted(PROTO_DIR.glob("*.proto"))


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_up_to_date() -> None:
    stale = load_script().out_of_date()
    assert not stale, (
        f"src/generals_rl/v1 is out of date with proto/ ({', '.join(stale)}): "
        "run `python scripts/gen_protos.py` and commit the result "
        "(a different grpcio-tools version also changes the generated headers)"
    )


# One declaration per line in our .proto style; every kind that needs a leading comment.
DECLARATION = re.compile(
    r"""^\s*(?:
        (?P<block>message|enum|service|oneof)\s+(?P<block_name>\w+)\s*\{
      | rpc\s+(?P<rpc>\w+)\s*\(
      | (?:(?:optional|repeated)\s+)?(?:map\s*<[^>]+>|[\w.]+)\s+(?P<field>\w+)\s*=\s*\d+\s*(?:\[[^\]]*\])?\s*;
      | (?P<value>[A-Z][A-Z0-9_]*)\s*=\s*-?\d+\s*;
    )""",
    re.VERBOSE,
)
NOT_DECLARATION = re.compile(
    r"^\s*(?://.*|\}\s*|syntax\s.*|package\s.*|import\s.*|option\s.*|reserved\s.*)?$"
)


def undocumented(path: Path) -> list[str]:
    """Declarations of ``path`` without a ``//`` comment on the line right above them."""
    problems = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if NOT_DECLARATION.match(line):
            continue
        match = DECLARATION.match(line)
        if match is None:
            problems.append(f"{path.name}:{number}: line not understood by this check: {line.strip()!r}")
            continue
        above = lines[number - 2].strip() if number >= 2 else ""
        if not above.startswith("//"):
            name = next(v for k, v in match.groupdict().items() if v and k != "block")
            problems.append(f"{path.name}:{number}: {name} has no leading comment")
    return problems


def test_all_contract_files_are_there() -> None:
    assert [p.stem for p in PROTOS] == ["common", "elo", "game", "matchmaker", "model", "replay"]


@pytest.mark.parametrize("path", PROTOS, ids=lambda p: p.name)
def test_every_declaration_has_a_leading_comment(path: Path) -> None:
    problems = undocumented(path)
    assert not problems, "\n".join(problems)


def test_the_comment_check_finds_a_missing_comment(tmp_path: Path) -> None:
    proto = tmp_path / "x.proto"
    proto.write_text(
        'syntax = "proto3";\n// A thing.\nmessage Thing {\n  // Documented.\n  int32 a = 1;\n'
        "  repeated string b = 2;\n  map<string, double> c = 3;\n}\nenum E {\n  E_UNSPECIFIED = 0;\n}\n"
        "service S {\n  rpc Go(Thing) returns (Thing);\n}\n"
    )
    problems = undocumented(proto)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "b has no leading comment",
        "c has no leading comment",
        "E has no leading comment",
        "E_UNSPECIFIED has no leading comment",
        "S has no leading comment",
        "Go has no leading comment",
    ]


# (service, rpc) -> (client streams, server streams): the shapes other code depends on.
RPCS = {
    ("game", "GameService"): {
        "CreateGame": (False, False),
        "JoinGame": (False, False),
        "StreamView": (False, True),
        "WatchGame": (False, True),
        "SubmitMoves": (False, False),
        "ClearMoves": (False, False),
        "Surrender": (False, False),
        "GetGame": (False, False),
        "ListGames": (False, False),
        "StepBatch": (True, True),
    },
    ("matchmaker", "MatchmakerService"): {
        "FindMatch": (False, False),
        "Cancel": (False, False),
        "WatchTicket": (False, True),
        "ListQueues": (False, False),
        "CreateTournament": (False, False),
        "GetTournament": (False, False),
        "ListTournaments": (False, False),
        "SampleOpponents": (False, False),
    },
    ("model", "ModelService"): {
        "PublishPolicy": (True, False),
        "GetPolicy": (False, True),
        "GetVersion": (False, False),
        "ListVersions": (False, False),
        "GetLineage": (False, False),
        "ListAliases": (False, False),
        "Promote": (False, False),
        "Rollback": (False, False),
        "Retire": (False, False),
        "ListEvents": (False, False),
    },
    ("elo", "EloService"): {
        "ReportResult": (False, False),
        "GetRating": (False, False),
        "GetRatings": (False, False),
        "Leaderboard": (False, False),
        "RatingHistory": (False, False),
        "HeadToHead": (False, False),
    },
    ("replay", "ReplayService"): {
        "CreateTable": (False, False),
        "ListTables": (False, False),
        "RecordExperience": (True, False),
        "GetExperienceBatch": (False, True),
        "UpdatePriorities": (False, False),
        "GetTableStats": (False, False),
        "Checkpoint": (False, False),
        "LoadArchive": (False, False),
    },
}


@pytest.mark.parametrize(("module", "service"), list(RPCS), ids=lambda x: str(x))
def test_services_have_their_rpcs(module: str, service: str) -> None:
    pb2 = importlib.import_module(f"generals_rl.v1.{module}_pb2")
    pb2_grpc = importlib.import_module(f"generals_rl.v1.{module}_pb2_grpc")
    descriptor = pb2.DESCRIPTOR.services_by_name[service]
    assert descriptor.full_name == f"generals_rl.v1.{service}"
    shapes = {m.name: (m.client_streaming, m.server_streaming) for m in descriptor.methods}
    assert shapes == RPCS[(module, service)]
    assert hasattr(pb2_grpc, f"{service}Stub") and hasattr(pb2_grpc, f"add_{service}Servicer_to_server")


def test_generated_modules_import_each_other_by_package() -> None:
    from generals_rl.v1 import common_pb2, game_pb2, replay_pb2

    view = game_pb2.GameView(observation=common_pb2.Observation(armies=common_pb2.Tensor(shape=[2, 2])))
    assert game_pb2.GameView.FromString(view.SerializeToString()) == view
    batch = replay_pb2.ExperienceBatch(keys=[1, 2])
    assert batch.trajectories.observations.armies.dtype == common_pb2.DTYPE_UNSPECIFIED
