"""``generals_rl.v1`` game messages <-> the Game Service's domain types, both ways.

The servicer reads requests (``*_from_proto``) and writes replies (``*_to_proto``); the client
does the opposite with the same functions, so both ends agree by construction. Reading checks
only what the wire can get wrong (unknown enum numbers, a missing oneof, bad tensors) and raises
``InvalidArgument`` naming the field; ranges and meaning are checked by the domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import torch
from google.protobuf.timestamp_pb2 import Timestamp

from generals_rl.game.observations import Observation
from generals_rl.services.common import tensors
from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.game.domain import (
    BatchSpec,
    BatchStep,
    BoardSpec,
    ClockKind,
    EndReason,
    EngineOptions,
    FullBoard,
    GameFilter,
    GameInfo,
    GamePage,
    GameResult,
    GameSpec,
    GeneratorSpec,
    Joiner,
    JoinResult,
    MapList,
    MapSpec,
    MapText,
    Mode,
    MoveOrderName,
    MovesQueued,
    Outcome,
    PlayerKind,
    PlayerRef,
    PlayerResult,
    ReplayStart,
    RewardOptions,
    SeatInfo,
    SeatSpec,
    SeatView,
    SpectatorFrame,
    Status,
)
from generals_rl.v1 import common_pb2, game_pb2

MODES: dict[int, Mode] = {common_pb2.GAME_MODE_1V1: "1v1", common_pb2.GAME_MODE_FFA: "ffa"}
KINDS: dict[int, PlayerKind] = {
    common_pb2.PLAYER_KIND_HUMAN: "human",
    common_pb2.PLAYER_KIND_BOT: "bot",
    common_pb2.PLAYER_KIND_MODEL: "model",
}
CLOCKS: dict[int, ClockKind | None] = {
    game_pb2.CLOCK_UNSPECIFIED: None,
    game_pb2.CLOCK_REAL_TIME: "real_time",
    game_pb2.CLOCK_LOCK_STEP: "lock_step",
}
STATUSES: dict[int, Status | None] = {
    game_pb2.GAME_STATUS_UNSPECIFIED: None,
    game_pb2.GAME_STATUS_PENDING: "pending",
    game_pb2.GAME_STATUS_RUNNING: "running",
    game_pb2.GAME_STATUS_FINISHED: "finished",
    game_pb2.GAME_STATUS_ABORTED: "aborted",
}
ORDERS: dict[int, MoveOrderName] = {
    game_pb2.MOVE_ORDER_UNSPECIFIED: "alternating",
    game_pb2.MOVE_ORDER_ALTERNATING: "alternating",
    game_pb2.MOVE_ORDER_GENERALS_BOTS: "generals-bots",
}
OUTCOMES: dict[int, Outcome | None] = {
    common_pb2.OUTCOME_UNSPECIFIED: None,
    common_pb2.OUTCOME_WIN: "win",
    common_pb2.OUTCOME_LOSS: "loss",
    common_pb2.OUTCOME_DRAW: "draw",
}
REASONS: dict[int, EndReason] = {
    common_pb2.END_REASON_GENERAL_CAPTURED: "general_captured",
    common_pb2.END_REASON_ELIMINATED: "eliminated",
    common_pb2.END_REASON_TICK_LIMIT: "tick_limit",
    common_pb2.END_REASON_ABORTED: "aborted",
}


def _pick(table: Mapping[int, Any], value: int, field: str) -> Any:
    if value not in table:
        raise InvalidArgument(f"{field}: unknown or missing value {value}")
    return table[value]


def _number(table: Mapping[int, Any], value: Any) -> Any:
    """The enum number of a domain value (the first entry that maps to it)."""
    for number, known in table.items():
        if known == value:
            return number
    return 0


def _time(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _when(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)


# -- players ----------------------------------------------------------------------------------


def player_from_proto(message: common_pb2.PlayerRef, field: str) -> PlayerRef:
    return PlayerRef(kind=_pick(KINDS, message.kind, f"{field}.kind"), id=message.id)


def optional_player(message: Any, field: str) -> PlayerRef | None:
    """An unset or kind-less PlayerRef is None."""
    if not message.HasField(field) or getattr(message, field).kind == common_pb2.PLAYER_KIND_UNSPECIFIED:
        return None
    return player_from_proto(getattr(message, field), field)


def player_to_proto(player: PlayerRef) -> common_pb2.PlayerRef:
    return common_pb2.PlayerRef(kind=_number(KINDS, player.kind), id=player.id)


# -- creating games ---------------------------------------------------------------------------


def _range(message: Any, field: str) -> tuple[Any, Any] | None:
    if not message.HasField(field):
        return None
    value = getattr(message, field)
    return (value.low, value.high)


def generator_from_proto(message: game_pb2.MapConfig) -> GeneratorSpec:
    return GeneratorSpec(
        side=_range(message, "side"),
        mountain_density=_range(message, "mountain_density"),
        cities=_range(message, "cities"),
        city_army=_range(message, "city_army"),
        min_distance=_range(message, "min_distance"),
        fair_radius=message.fair_radius if message.HasField("fair_radius") else None,
        fair_tolerance=message.fair_tolerance if message.HasField("fair_tolerance") else None,
        min_room=message.min_room if message.HasField("min_room") else None,
    )


def generator_to_proto(spec: GeneratorSpec) -> game_pb2.MapConfig:
    message = game_pb2.MapConfig()
    for name in ("side", "cities", "city_army", "min_distance"):
        value = getattr(spec, name)
        if value is not None:
            getattr(message, name).CopyFrom(game_pb2.IntRange(low=value[0], high=value[1]))
    if spec.mountain_density is not None:
        low, high = spec.mountain_density
        message.mountain_density.CopyFrom(game_pb2.FloatRange(low=low, high=high))
    if spec.fair_radius is not None:
        message.fair_radius = spec.fair_radius
    if spec.fair_tolerance is not None:
        message.fair_tolerance = spec.fair_tolerance
    if spec.min_room is not None:
        message.min_room = spec.min_room
    return message


def engine_from_proto(message: game_pb2.EngineOptions) -> EngineOptions:
    return EngineOptions(
        move_order=_pick(ORDERS, message.move_order, "engine.move_order"),
        max_ticks=message.max_ticks,
        city_regeneration=message.city_regeneration,
    )


def engine_to_proto(options: EngineOptions) -> game_pb2.EngineOptions:
    order = (
        game_pb2.MOVE_ORDER_GENERALS_BOTS
        if options.move_order == "generals-bots"
        else game_pb2.MOVE_ORDER_ALTERNATING
    )
    return game_pb2.EngineOptions(
        move_order=order, max_ticks=options.max_ticks, city_regeneration=options.city_regeneration
    )


def spec_from_proto(request: game_pb2.CreateGameRequest) -> GameSpec:
    source: MapSpec | None = None
    which = request.WhichOneof("map")
    if which == "generator":
        source = generator_from_proto(request.generator)
    elif which == "map_text":
        source = MapText(request.map_text)
    elif which == "replay":
        source = ReplayStart(data=request.replay.data, start_tick=request.replay.start_tick)
    return GameSpec(
        mode=_pick(MODES, request.mode, "mode"),
        num_players=request.num_players,
        map=source,
        seed=request.seed,
        speed=request.speed,
        clock=_pick(CLOCKS, request.clock, "clock"),
        engine=engine_from_proto(request.engine),
        seats=tuple(
            SeatSpec(player=optional_player(seat, "player"), hosted=seat.hosted) for seat in request.seats
        ),
        afk_ticks=request.afk_ticks,
        unrated=request.unrated,
        request_id=request.request_id,
    )


def spec_to_proto(spec: GameSpec) -> game_pb2.CreateGameRequest:
    request = game_pb2.CreateGameRequest(
        mode=_number(MODES, spec.mode),
        num_players=spec.num_players,
        seed=spec.seed,
        speed=spec.speed,
        clock=_number(CLOCKS, spec.clock),
        engine=engine_to_proto(spec.engine),
        seats=[
            game_pb2.SeatSpec(player=None if s.player is None else player_to_proto(s.player), hosted=s.hosted)
            for s in spec.seats
        ],
        afk_ticks=spec.afk_ticks,
        unrated=spec.unrated,
        request_id=spec.request_id,
    )
    if isinstance(spec.map, GeneratorSpec):
        request.generator.CopyFrom(generator_to_proto(spec.map))
    elif isinstance(spec.map, MapText):
        request.map_text = spec.map.text
    elif isinstance(spec.map, ReplayStart):
        request.replay.CopyFrom(game_pb2.ReplaySource(data=spec.map.data, start_tick=spec.map.start_tick))
    return request


def joiner_from_proto(request: game_pb2.JoinGameRequest) -> Joiner:
    which = request.WhichOneof("player")
    if which == "session_token":
        return Joiner(session_token=request.session_token)
    if which == "bot":
        return Joiner(bot=request.bot)
    if which == "model_version":
        return Joiner(model_version=request.model_version)
    raise InvalidArgument("player: give one of session_token, bot and model_version")


def joiner_to_proto(joiner: Joiner) -> dict[str, Any]:
    if joiner.session_token is not None:
        return {"session_token": joiner.session_token}
    if joiner.bot is not None:
        return {"bot": joiner.bot}
    return {"model_version": joiner.model_version}


# -- games ------------------------------------------------------------------------------------


def board_to_proto(board: BoardSpec) -> common_pb2.ObservationSpec:
    return common_pb2.ObservationSpec(
        height=board.height,
        width=board.width,
        num_players=board.num_players,
        num_actions=board.num_actions,
        plane_names=list(board.plane_names),
        scalar_names=list(board.scalar_names),
        rules_version=board.rules_version,
    )


def board_from_proto(message: common_pb2.ObservationSpec) -> BoardSpec:
    return BoardSpec(height=message.height, width=message.width, num_players=message.num_players)


def result_to_proto(result: GameResult) -> common_pb2.GameResult:
    return common_pb2.GameResult(
        game_id=result.game_id,
        mode=_number(MODES, result.mode),
        players=[
            common_pb2.PlayerResult(
                player=player_to_proto(p.player),
                seat=p.seat,
                outcome=_number(OUTCOMES, p.outcome),
                place=p.place,
                eliminated_tick=p.eliminated_tick,
            )
            for p in result.players
        ],
        ticks=result.ticks,
        reason=_number(REASONS, result.reason),
        started_at=_time(result.started_at),
        ended_at=_time(result.ended_at),
        replay_uri=result.replay_uri,
    )


def result_from_proto(message: common_pb2.GameResult) -> GameResult:
    return GameResult(
        game_id=message.game_id,
        mode=_pick(MODES, message.mode, "result.mode"),
        players=tuple(
            PlayerResult(
                player=player_from_proto(p.player, "result.players.player"),
                seat=p.seat,
                outcome=_pick(OUTCOMES, p.outcome, "result.players.outcome") or "draw",
                place=p.place,
                eliminated_tick=p.eliminated_tick,
            )
            for p in message.players
        ),
        ticks=message.ticks,
        reason=_pick(REASONS, message.reason, "result.reason"),
        started_at=_when(message, "started_at"),
        ended_at=_when(message, "ended_at"),
        replay_uri=message.replay_uri,
    )


def game_to_proto(info: GameInfo) -> game_pb2.Game:
    return game_pb2.Game(
        game_id=info.game_id,
        mode=_number(MODES, info.mode),
        status=_number(STATUSES, info.status),
        clock=_number(CLOCKS, info.clock),
        speed=info.speed,
        tick=info.tick,
        seats=[
            game_pb2.Seat(
                index=s.index,
                player=None if s.player is None else player_to_proto(s.player),
                display_name=s.display_name,
                hosted=s.hosted,
                joined=s.joined,
                connected=s.connected,
                alive=s.alive,
            )
            for s in info.seats
        ],
        spec=board_to_proto(info.board),
        engine=engine_to_proto(info.engine),
        seed=info.seed,
        afk_ticks=info.afk_ticks,
        unrated=info.unrated,
        created_at=_time(info.created_at),
        started_at=_time(info.started_at),
        ended_at=_time(info.ended_at),
        result=None if info.result is None else result_to_proto(info.result),
    )


def game_from_proto(message: game_pb2.Game) -> GameInfo:
    created = _when(message, "created_at")
    return GameInfo(
        game_id=message.game_id,
        mode=_pick(MODES, message.mode, "mode"),
        status=_pick(STATUSES, message.status, "status") or "pending",
        clock=_pick(CLOCKS, message.clock, "clock"),
        speed=message.speed,
        tick=message.tick,
        seats=tuple(
            SeatInfo(
                index=s.index,
                player=optional_player(s, "player"),
                display_name=s.display_name,
                hosted=s.hosted,
                joined=s.joined,
                connected=s.connected,
                alive=s.alive,
            )
            for s in message.seats
        ),
        board=board_from_proto(message.spec),
        engine=engine_from_proto(message.engine),
        seed=message.seed,
        afk_ticks=message.afk_ticks,
        unrated=message.unrated,
        created_at=created if created is not None else datetime.fromtimestamp(0, UTC),
        started_at=_when(message, "started_at"),
        ended_at=_when(message, "ended_at"),
        result=result_from_proto(message.result) if message.HasField("result") else None,
    )


def join_to_proto(result: JoinResult) -> game_pb2.JoinGameResponse:
    return game_pb2.JoinGameResponse(
        player_token=result.player_token, seat=result.seat, game=game_to_proto(result.game)
    )


def join_from_proto(message: game_pb2.JoinGameResponse) -> JoinResult:
    return JoinResult(
        player_token=message.player_token, seat=message.seat, game=game_from_proto(message.game)
    )


def filter_from_proto(request: game_pb2.ListGamesRequest) -> GameFilter:
    return GameFilter(
        status=_pick(STATUSES, request.status, "status"),
        mode=None if request.mode == common_pb2.GAME_MODE_UNSPECIFIED else _pick(MODES, request.mode, "mode"),
        player=optional_player(request, "player"),
    )


def filter_to_proto(filter: GameFilter, page_size: int, page_token: str) -> game_pb2.ListGamesRequest:
    return game_pb2.ListGamesRequest(
        page=common_pb2.PageRequest(page_size=page_size, page_token=page_token),
        status=_number(STATUSES, filter.status),
        mode=_number(MODES, filter.mode),
        player=None if filter.player is None else player_to_proto(filter.player),
    )


def page_to_proto(page: GamePage) -> game_pb2.ListGamesResponse:
    return game_pb2.ListGamesResponse(
        games=[game_to_proto(g) for g in page.games],
        page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
    )


def page_from_proto(message: game_pb2.ListGamesResponse) -> GamePage:
    return GamePage(
        games=tuple(game_from_proto(g) for g in message.games),
        next_page_token=message.page.next_page_token,
        total_size=message.page.total_size,
    )


# -- views ------------------------------------------------------------------------------------


_WIRE_DTYPES: dict[torch.dtype, Any] = {info.torch: code for code, info in tensors.DTYPES.items()}


def fill_tensor(target: common_pb2.Tensor, value: torch.Tensor) -> None:
    """Write ``value`` into a Tensor field in place: one copy of the data (a nested constructor or
    ``CopyFrom`` would copy megabytes of a StepBatch response again at every level)."""
    target.dtype = _WIRE_DTYPES[value.dtype]
    target.shape[:] = list(value.shape)
    target.data = value.detach().cpu().contiguous().numpy().tobytes()


def fill_observation(target: common_pb2.Observation, obs: Observation) -> None:
    fill_tensor(target.armies, obs.armies)
    fill_tensor(target.planes, obs.planes)
    fill_tensor(target.scalars, obs.scalars)
    fill_tensor(target.action_mask, obs.action_mask)


def observation_to_proto(obs: Observation) -> common_pb2.Observation:
    message = common_pb2.Observation()
    fill_observation(message, obs)
    return message


def observation_from_proto(message: common_pb2.Observation, field: str = "observation") -> Observation:
    return Observation(
        armies=tensors.to_torch(message.armies, name=f"{field}.armies"),
        planes=tensors.to_torch(message.planes, name=f"{field}.planes"),
        scalars=tensors.to_torch(message.scalars, name=f"{field}.scalars"),
        action_mask=tensors.to_torch(message.action_mask, name=f"{field}.action_mask"),
    )


def view_to_proto(view: SeatView) -> game_pb2.GameView:
    message = game_pb2.GameView()
    fill_view(message, view)
    return message


def fill_view(target: game_pb2.GameView, view: SeatView) -> None:
    """Write ``view`` into a GameView field in place."""
    target.game_id = view.game_id
    target.tick = view.tick
    target.seat = view.seat
    target.queued_actions[:] = list(view.queued_actions)
    target.alive = view.alive
    target.status = _number(STATUSES, view.status)
    target.done = view.done
    if view.winner is not None:
        target.winner = view.winner
    target.outcome = _number(OUTCOMES, view.outcome)
    if view.next_tick_at is not None:
        target.next_tick_at.FromDatetime(view.next_tick_at)
    fill_observation(target.observation, view.observation)


def view_from_proto(message: game_pb2.GameView) -> SeatView:
    return SeatView(
        game_id=message.game_id,
        tick=message.tick,
        seat=message.seat,
        observation=observation_from_proto(message.observation),
        queued_actions=tuple(message.queued_actions),
        alive=message.alive,
        status=_pick(STATUSES, message.status, "status") or "running",
        done=message.done,
        winner=message.winner if message.HasField("winner") else None,
        outcome=_pick(OUTCOMES, message.outcome, "outcome"),
        next_tick_at=_when(message, "next_tick_at"),
    )


def spectator_to_proto(frame: SpectatorFrame) -> game_pb2.SpectatorView:
    message = game_pb2.SpectatorView(
        game_id=frame.game_id,
        tick=frame.tick,
        fog_of=-1 if frame.fog_of is None else frame.fog_of,
        alive=list(frame.alive),
        status=_number(STATUSES, frame.status),
        done=frame.done,
        result=None if frame.result is None else result_to_proto(frame.result),
        next_tick_at=_time(frame.next_tick_at),
        skipped=frame.skipped,
    )
    if frame.view is not None:
        fill_view(message.seat_view, frame.view)
    if frame.board is not None:
        board = message.full_board
        fill_tensor(board.armies, frame.board.armies)
        fill_tensor(board.owners, frame.board.owners)
        fill_tensor(board.terrain, frame.board.terrain)
        fill_tensor(board.scalars, frame.board.scalars)
    return message


def spectator_from_proto(message: game_pb2.SpectatorView) -> SpectatorFrame:
    which = message.WhichOneof("board")
    board = None
    if which == "full_board":
        full = message.full_board
        board = FullBoard(
            armies=tensors.to_torch(full.armies, name="full_board.armies"),
            owners=tensors.to_torch(full.owners, name="full_board.owners"),
            terrain=tensors.to_torch(full.terrain, name="full_board.terrain"),
            scalars=tensors.to_torch(full.scalars, name="full_board.scalars"),
        )
    return SpectatorFrame(
        game_id=message.game_id,
        tick=message.tick,
        fog_of=None if message.fog_of < 0 else message.fog_of,
        view=view_from_proto(message.seat_view) if which == "seat_view" else None,
        board=board,
        alive=tuple(message.alive),
        status=_pick(STATUSES, message.status, "status") or "running",
        done=message.done,
        result=result_from_proto(message.result) if message.HasField("result") else None,
        next_tick_at=_when(message, "next_tick_at"),
        skipped=message.skipped,
    )


def queued_to_proto(queued: MovesQueued) -> game_pb2.SubmitMovesResponse:
    return game_pb2.SubmitMovesResponse(queue_length=queued.queue_length, tick=queued.tick)


def queued_from_proto(message: game_pb2.SubmitMovesResponse) -> MovesQueued:
    return MovesQueued(queue_length=message.queue_length, tick=message.tick)


# -- batched lock-step games ------------------------------------------------------------------


def batch_spec_from_proto(message: game_pb2.BatchSpec) -> BatchSpec:
    maps: GeneratorSpec | MapList | None = None
    which = message.WhichOneof("maps")
    if which == "generator":
        maps = generator_from_proto(message.generator)
    elif which == "fixed":
        maps = MapList(tuple(message.fixed.map_texts))
    reward = message.reward
    return BatchSpec(
        num_games=message.num_games,
        mode=_pick(MODES, message.mode, "create.mode"),
        num_players=message.num_players,
        maps=maps,
        seed=message.seed,
        engine=engine_from_proto(message.engine),
        hosted_bots=tuple(message.hosted_bots),
        reward=RewardOptions(**{f.name: getattr(reward, f.name) for f in dataclasses.fields(RewardOptions)}),
        autoreset=message.autoreset,
        record=message.record,
        players=tuple(player_from_proto(p, f"create.players[{i}]") for i, p in enumerate(message.players)),
        unrated=message.unrated,
    )


def batch_spec_to_proto(spec: BatchSpec) -> game_pb2.BatchSpec:
    message = game_pb2.BatchSpec(
        mode=_number(MODES, spec.mode),
        num_games=spec.num_games,
        num_players=spec.num_players,
        seed=spec.seed,
        engine=engine_to_proto(spec.engine),
        hosted_bots=list(spec.hosted_bots),
        reward=game_pb2.RewardOptions(**dataclasses.asdict(spec.reward)),
        autoreset=spec.autoreset,
        record=spec.record,
        players=[player_to_proto(p) for p in spec.players],
        unrated=spec.unrated,
    )
    if isinstance(spec.maps, GeneratorSpec):
        message.generator.CopyFrom(generator_to_proto(spec.maps))
    elif isinstance(spec.maps, MapList):
        message.fixed.CopyFrom(game_pb2.MapList(map_texts=list(spec.maps.texts)))
    return message


def batch_step_to_proto(result: BatchStep) -> game_pb2.StepBatchResponse:
    message = game_pb2.StepBatchResponse(
        step=result.step,
        finished_game_ids=list(result.finished_game_ids),
        controlled_seats=list(result.controlled_seats),
    )
    fill_observation(message.observation, result.observation)
    fill_tensor(message.rewards, result.rewards)
    fill_tensor(message.dones, result.dones)
    fill_tensor(message.truncated, result.truncated)
    fill_tensor(message.winners, result.winners)
    fill_tensor(message.alive, result.alive)
    if result.board is not None:
        message.spec.CopyFrom(board_to_proto(result.board))
    if result.final_observation is not None:
        fill_observation(message.final_observation, result.final_observation)
    return message


def batch_step_from_proto(message: game_pb2.StepBatchResponse) -> BatchStep:
    return BatchStep(
        step=message.step,
        observation=observation_from_proto(message.observation),
        rewards=tensors.to_torch(message.rewards, name="rewards"),
        dones=tensors.to_torch(message.dones, name="dones"),
        truncated=tensors.to_torch(message.truncated, name="truncated"),
        winners=tensors.to_torch(message.winners, name="winners"),
        alive=tensors.to_torch(message.alive, name="alive"),
        final_observation=(
            observation_from_proto(message.final_observation, "final_observation")
            if message.HasField("final_observation")
            else None
        ),
        finished_game_ids=tuple(message.finished_game_ids),
        board=board_from_proto(message.spec) if message.HasField("spec") else None,
        controlled_seats=tuple(message.controlled_seats),
    )
