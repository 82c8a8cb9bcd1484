"""``generals_rl.v1`` Elo messages <-> the domain types of ``domain.py``, both ways (the servicer reads
requests and writes responses; the client does the opposite).

Enumerations become the domain's strings: an unset one is ``""``, an unknown number ``"?<n>"``, so
the domain's checks reject them with a message naming what was sent. Going the other way, a string
the contract cannot carry is ``InvalidArgument`` before anything is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.elo.domain import (
    GameReport,
    HeadToHeadRecord,
    HistoryPage,
    LeaderboardPage,
    Page,
    PlayerRating,
    PlayerRef,
    RatingChange,
    RatingPoint,
    ReportOutcome,
    SeatResult,
)
from generals_rl.v1 import common_pb2, elo_pb2

KINDS: dict[int, str] = {
    common_pb2.PLAYER_KIND_HUMAN: "human",
    common_pb2.PLAYER_KIND_BOT: "bot",
    common_pb2.PLAYER_KIND_MODEL: "model",
}
MODES: dict[int, str] = {common_pb2.GAME_MODE_1V1: "1v1", common_pb2.GAME_MODE_FFA: "ffa"}
OUTCOMES: dict[int, str] = {
    common_pb2.OUTCOME_WIN: "win",
    common_pb2.OUTCOME_LOSS: "loss",
    common_pb2.OUTCOME_DRAW: "draw",
}
REASONS: dict[int, str] = {
    common_pb2.END_REASON_GENERAL_CAPTURED: "general_captured",
    common_pb2.END_REASON_ELIMINATED: "eliminated",
    common_pb2.END_REASON_TICK_LIMIT: "tick_limit",
    common_pb2.END_REASON_ABORTED: "aborted",
}
ORDERS: dict[int, str] = {
    elo_pb2.LEADERBOARD_ORDER_UNSPECIFIED: "rating",
    elo_pb2.LEADERBOARD_ORDER_RATING: "rating",
    elo_pb2.LEADERBOARD_ORDER_LOWER: "lower",
    elo_pb2.LEADERBOARD_ORDER_ELO: "elo",
}
_UINT32 = 2**32 - 1


def name_of(value: int, names: dict[int, str]) -> str:
    """The domain string of an enumeration value: ``""`` unset, ``"?<n>"`` unknown."""
    return "" if value == 0 and 0 not in names else names.get(value, f"?{value}")


def number_of(what: str, value: str, names: dict[int, str]) -> int:
    """The enumeration value of a domain string (``""``: unset)."""
    if value == "":
        return 0
    for number, name in names.items():
        if name == value:
            return number
    if value.startswith("?") and value[1:].isdigit():
        return int(value[1:])
    raise InvalidArgument(f"unknown {what} {value!r}: one of {', '.join(sorted(set(names.values())))}")


def uint(what: str, value: int) -> int:
    if not 0 <= value <= _UINT32:
        raise InvalidArgument(f"{what} must lie in 0..{_UINT32}, got {value}")
    return value


def time_from(message: Timestamp, is_set: bool) -> datetime | None:
    return message.ToDatetime(tzinfo=UTC) if is_set else None


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidArgument(f"times must be timezone-aware, got {value.isoformat()}")
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


# players


def player_from(message: common_pb2.PlayerRef) -> PlayerRef:
    return PlayerRef(name_of(message.kind, KINDS), message.id)


def player_to(ref: PlayerRef) -> common_pb2.PlayerRef:
    return common_pb2.PlayerRef(kind=number_of("player kind", ref.kind, KINDS), id=ref.id)  # type: ignore[arg-type]


# results


def report_from(request: elo_pb2.ReportResultRequest) -> GameReport:
    r = request.result
    seats = tuple(
        SeatResult(player_from(p.player), p.seat, name_of(p.outcome, OUTCOMES), p.place, p.eliminated_tick)
        for p in r.players
    )
    return GameReport(
        game_id=r.game_id,
        mode=name_of(r.mode, MODES),
        players=seats,
        ticks=r.ticks,
        reason=name_of(r.reason, REASONS),
        started_at=time_from(r.started_at, r.HasField("started_at")),
        ended_at=time_from(r.ended_at, r.HasField("ended_at")),
        replay_uri=r.replay_uri,
    )


def report_to(report: GameReport) -> elo_pb2.ReportResultRequest:
    seats = [
        common_pb2.PlayerResult(
            player=player_to(s.player),
            seat=uint("a seat", s.seat),
            outcome=number_of("outcome", s.outcome, OUTCOMES),  # type: ignore[arg-type]
            place=uint("a place", s.place),
            eliminated_tick=uint("an elimination tick", s.eliminated_tick),
        )
        for s in report.players
    ]
    result = common_pb2.GameResult(
        game_id=report.game_id,
        mode=number_of("mode", report.mode, MODES),  # type: ignore[arg-type]
        players=seats,
        ticks=uint("ticks", report.ticks),
        reason=number_of("end reason", report.reason, REASONS),  # type: ignore[arg-type]
        started_at=timestamp(report.started_at),
        ended_at=timestamp(report.ended_at),
        replay_uri=report.replay_uri,
    )
    return elo_pb2.ReportResultRequest(result=result)


def change_to(c: RatingChange) -> elo_pb2.RatingChange:
    return elo_pb2.RatingChange(
        player=player_to(c.player),
        elo_before=c.elo_before,
        elo_after=c.elo_after,
        rating_before=c.rating_before,
        rating_after=c.rating_after,
        deviation_before=c.deviation_before,
        deviation_after=c.deviation_after,
    )


def change_from(m: elo_pb2.RatingChange) -> RatingChange:
    return RatingChange(
        player_from(m.player),
        m.elo_before,
        m.elo_after,
        m.rating_before,
        m.rating_after,
        m.deviation_before,
        m.deviation_after,
    )


def outcome_to(outcome: ReportOutcome) -> elo_pb2.ReportResultResponse:
    return elo_pb2.ReportResultResponse(
        duplicate=outcome.duplicate, changes=[change_to(c) for c in outcome.changes]
    )


def outcome_from(m: elo_pb2.ReportResultResponse) -> ReportOutcome:
    return ReportOutcome(m.duplicate, tuple(change_from(c) for c in m.changes))


# ratings


def rating_to(r: PlayerRating) -> elo_pb2.Rating:
    return elo_pb2.Rating(
        player=player_to(r.player),
        mode=number_of("mode", r.mode, MODES),  # type: ignore[arg-type]
        elo=r.elo,
        rating=r.rating,
        deviation=r.deviation,
        lower=r.lower,
        upper=r.upper,
        method=r.method,
        games=r.games,
        wins=r.wins,
        losses=r.losses,
        draws=r.draws,
        updated_at=timestamp(r.updated_at),
        rank=r.rank,
    )


def rating_from(m: elo_pb2.Rating) -> PlayerRating:
    return PlayerRating(
        player=player_from(m.player),
        mode=name_of(m.mode, MODES),
        elo=m.elo,
        rating=m.rating,
        deviation=m.deviation,
        method=m.method,
        games=m.games,
        wins=m.wins,
        losses=m.losses,
        draws=m.draws,
        updated_at=time_from(m.updated_at, m.HasField("updated_at")),
        rank=m.rank,
    )


def page_to(page: Page) -> common_pb2.PageResponse:
    return common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size)


def page_from(m: common_pb2.PageResponse) -> Page:
    return Page(m.next_page_token, m.total_size)


def leaderboard_to(page: LeaderboardPage) -> elo_pb2.LeaderboardResponse:
    return elo_pb2.LeaderboardResponse(
        entries=[rating_to(e) for e in page.entries], page=page_to(page.page), as_of=timestamp(page.as_of)
    )


def leaderboard_from(m: elo_pb2.LeaderboardResponse) -> LeaderboardPage:
    return LeaderboardPage(
        tuple(rating_from(e) for e in m.entries), page_from(m.page), time_from(m.as_of, m.HasField("as_of"))
    )


def history_to(page: HistoryPage) -> elo_pb2.RatingHistoryResponse:
    points = [
        elo_pb2.RatingPoint(
            game_id=p.game_id,
            at=timestamp(p.at),
            outcome=number_of("outcome", p.outcome, OUTCOMES),  # type: ignore[arg-type]
            place=p.place,
            opponents=[player_to(o) for o in p.opponents],
            elo=p.elo,
            rating=p.rating,
            deviation=p.deviation,
        )
        for p in page.points
    ]
    return elo_pb2.RatingHistoryResponse(points=points, page=page_to(page.page))


def history_from(m: elo_pb2.RatingHistoryResponse) -> HistoryPage:
    points = tuple(
        RatingPoint(
            game_id=p.game_id,
            at=p.at.ToDatetime(tzinfo=UTC),
            outcome=name_of(p.outcome, OUTCOMES),
            place=p.place,
            opponents=tuple(player_from(o) for o in p.opponents),
            elo=p.elo,
            rating=p.rating,
            deviation=p.deviation,
        )
        for p in m.points
    )
    return HistoryPage(points, page_from(m.page))


def head_to_head_to(h: HeadToHeadRecord) -> elo_pb2.HeadToHeadResponse:
    return elo_pb2.HeadToHeadResponse(
        a=player_to(h.a),
        b=player_to(h.b),
        games=h.games,
        a_wins=h.a_wins,
        b_wins=h.b_wins,
        draws=h.draws,
        a_score=h.a_score,
        a_expected=h.a_expected,
        recent_game_ids=list(h.recent_game_ids),
    )


def head_to_head_from(m: elo_pb2.HeadToHeadResponse) -> HeadToHeadRecord:
    return HeadToHeadRecord(
        player_from(m.a),
        player_from(m.b),
        m.games,
        m.a_wins,
        m.b_wins,
        m.draws,
        m.a_score,
        m.a_expected,
        tuple(m.recent_game_ids),
    )
