"""How cadres did in the quizzes, for trainers: counts per quiz, the attempts of one quiz with
filters, its score distribution, correct rates per question, and the page-leave log.

Every number is aggregated in SQL (GROUP BY), so the pages stay quick with thousands of
attempts. The unit filter is a path prefix (a unit and its whole subtree).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get
from litestar.exceptions import NoRouteMatchFoundException, NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template
from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.query.functions.aggregate import Avg, Count
from piccolo.querystring import QueryString

from app.accounts.units import tree_order
from app.banks.store import question_numbers
from app.lib.pagination import Page
from app.lib.parsing import valid_id
from app.quizzes.core import IN_PROGRESS
from app.tables import Answer, Attempt, AttemptEvent, QuestionVersion, Quiz, Unit

STATUSES = {"in_progress": "作答中", "submitted": "已交卷", "expired": "超时自动交卷"}
STATUS_FILTERS = {"": "全部", "finished": "已结束", **STATUSES}
PASSED_FILTERS = {"": "全部", "yes": "合格", "no": "不合格"}
FINISHED_BY = {
    "cadre": "交卷",
    "deadline": "超时自动交卷",
    "sweep": "超时自动交卷",
    "quiz_started": "开始测验时自动交卷",  # practice left open when a quiz started
}
BANDS = 10
DIGITS = re.compile(r"[0-9]{1,10}")


def under_unit(path_column: Column, path: str) -> Where:
    """Rows whose unit path starts with `path`: the unit and everything below it. Paths hold
    only digits and slashes, so the prefix needs no escaping."""
    return path_column.like(path + "%")


def _true_count(column: Column, alias: str) -> QueryString:
    """How many rows have `column` true (the same SQL on SQLite and PostgreSQL)."""
    return QueryString("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", column, alias=alias)


# ---------------------------------------------------------------- per quiz


async def quiz_summaries() -> dict[int, dict[str, Any]]:
    """Quiz id → finished attempts, cadres who finished one, cadres who passed, passing
    attempts, average score, and attempts in progress (practice excluded)."""
    finished = await (
        Attempt.select(
            Attempt.quiz,
            Count(alias="finished"),
            Count(distinct=[Attempt.account], alias="cadres"),
            QueryString(
                "COUNT(DISTINCT CASE WHEN {} THEN {} END)",
                Attempt.passed,
                Attempt.account,
                alias="passed_cadres",
            ),
            _true_count(Attempt.passed, "passes"),
            Avg(Attempt.score, alias="average"),
        )
        .where(
            Attempt.quiz.is_not_null(),
            Attempt.practice.eq(False),
            Attempt.status != IN_PROGRESS,
        )
        .group_by(Attempt.quiz)
    )
    running = await (
        Attempt.select(Attempt.quiz, Count(alias="n"))
        .where(
            Attempt.quiz.is_not_null(),
            Attempt.practice.eq(False),
            Attempt.status == IN_PROGRESS,
        )
        .group_by(Attempt.quiz)
    )
    summaries: dict[int, dict[str, Any]] = {row["quiz"]: dict(row) for row in finished}
    for row in running:
        summaries.setdefault(row["quiz"], {})["in_progress"] = row["n"]
    return summaries


# ---------------------------------------------------------------- one quiz


@dataclass(frozen=True)
class Band:
    label: str
    count: int
    width: float  # of the bar, 0–100 (percent of the longest)


def band_bounds(full_marks: float) -> list[tuple[float, float]]:
    """The ten score bands, low to high: 0–9, 10–19, … 90–100 for 100 full marks."""
    step = full_marks / BANDS
    return [(step * i, step * (i + 1)) for i in range(BANDS)]


def band_label(low: float, high: float, last: bool) -> str:
    def plain(value: float) -> str:
        return f"{value:g}"

    if last:
        return f"{plain(low)}–{plain(high)}"
    upper = high - 1 if float(high).is_integer() and float(low).is_integer() else high
    return f"{plain(low)}–{plain(upper)}" if upper != high else f"{plain(low)}–<{plain(high)}"


def _band_case(full_marks: float) -> QueryString:
    """CASE giving each score its band number 0–9 (scores at full marks fall in the last)."""
    thresholds = [low for low, _ in band_bounds(full_marks)][1:]
    whens = " ".join(
        f"WHEN {{}} >= {float(low)!r} THEN {number}"
        for number, low in reversed(list(enumerate(thresholds, start=1)))
    )
    return QueryString(f"CASE {whens} ELSE 0 END", *[Attempt.score] * len(thresholds))


def attempt_conditions(quiz_id: int, unit_path: str | None) -> list[Any]:
    conditions: list[Any] = [Attempt.quiz == quiz_id, Attempt.practice.eq(False)]
    if unit_path:
        conditions.append(under_unit(Attempt.account.unit.path, unit_path))
    return conditions


async def score_bands(quiz_id: int, full_marks: float, unit_path: str | None) -> list[Band]:
    """How many finished attempts scored in each tenth of the full marks."""
    rows = await (
        Attempt.select(_band_case(full_marks).as_alias("band"), Count(alias="n"))
        .where(
            *attempt_conditions(quiz_id, unit_path),
            Attempt.status != IN_PROGRESS,
            Attempt.score.is_not_null(),
        )
        .group_by(QueryString('"band"'))
    )
    counts = {int(row["band"]): row["n"] for row in rows}
    longest = max(counts.values(), default=0)
    bounds = band_bounds(full_marks)
    return [
        Band(
            label=band_label(low, high, number == BANDS - 1),
            count=counts.get(number, 0),
            width=100 * counts.get(number, 0) / longest if longest else 0,
        )
        for number, (low, high) in enumerate(bounds)
    ]


async def question_rates(quiz_id: int, unit_path: str | None) -> list[dict[str, Any]]:
    """Per question (any version) of the quiz's finished attempts: times answered, times
    right and the rate, lowest rate first."""
    question = Answer.question_version.question
    conditions: list[Any] = [
        Answer.attempt.quiz == quiz_id,
        Answer.attempt.practice.eq(False),
        Answer.attempt.status != IN_PROGRESS,
        Answer.correct.is_not_null(),
    ]
    if unit_path:
        conditions.append(under_unit(Answer.attempt.account.unit.path, unit_path))
    rows = await (
        Answer.select(
            question.as_alias("question_id"),
            question.key.as_alias("key"),
            question.bank.slug.as_alias("bank"),
            question.bank.title.as_alias("bank_title"),
            question.bank.as_alias("bank_id"),
            Count(alias="answered"),
            _true_count(Answer.correct, "right"),
        )
        .where(*conditions)
        .group_by(question, question.key, question.bank.slug, question.bank.title, question.bank)
    )
    numbers = await question_numbers({row["bank_id"] for row in rows})
    stems = await QuestionVersion.select(
        QuestionVersion.question, QuestionVersion.stem, QuestionVersion.type
    ).where(
        QuestionVersion.is_current.eq(True),
        QuestionVersion.question.is_in([row["question_id"] for row in rows] or [0]),
    )
    current = {row["question"]: row for row in stems}
    rates = []
    for row in rows:
        right = int(row["right"] or 0)
        version = current.get(row["question_id"], {})
        rates.append(
            {
                **row,
                "right": right,
                "rate": right / row["answered"] if row["answered"] else 0.0,
                "stem": version.get("stem", ""),
                "type": version.get("type", ""),
                # how pages name it: its number in its bank (第 N 题), not its key
                "number": numbers.get((row["bank_id"], row["key"])),
            }
        )
    rates.sort(key=lambda r: (r["rate"], -r["answered"], r["bank"], r["key"]))
    return rates


def question_url(request: Request, bank: str, key: str) -> str:
    try:
        return request.app.route_reverse("question", bank_slug=bank, key=key)
    except NoRouteMatchFoundException:
        return f"/banks/{quote(bank)}/questions/{quote(key)}"


# ---------------------------------------------------------------- page leaves


@dataclass(frozen=True)
class Absence:
    left_at: datetime | None
    returned_at: datetime | None
    seconds: int | None  # None while not back (or the return was never reported)


def absences(events: Sequence[Mapping[str, Any]]) -> list[Absence]:
    """Leave and return events (in time order) paired into the periods away from the page."""
    periods: list[Absence] = []
    left: datetime | None = None
    for event in events:
        if event["kind"] == "leave":
            if left is not None:
                periods.append(Absence(left, None, None))
            left = event["created_at"]
        elif event["kind"] == "return":
            back = event["created_at"]
            seconds = int((back - left).total_seconds()) if left is not None else None
            periods.append(Absence(left, back, seconds))
            left = None
    if left is not None:
        periods.append(Absence(left, None, None))
    return periods


# ---------------------------------------------------------------- what the pages show


async def quiz_by_slug(slug: str) -> dict[str, Any]:
    """The quiz whose attempts are shown, active or not; NotFoundException when none."""
    quiz = (
        await Quiz.select(Quiz.id, Quiz.slug, Quiz.title, Quiz.full_marks, Quiz.active)
        .where(Quiz.slug == slug[:80])
        .first()
    )
    if quiz is None:
        raise NotFoundException("没有找到这个测验。")
    return quiz


@dataclass(frozen=True)
class AttemptFilters:
    """The filters of the attempts page as the query string gave them (checked when used)."""

    unit: str = ""  # a unit id: that unit and its whole subtree
    status: str = ""  # a key of STATUS_FILTERS
    passed: str = ""  # a key of PASSED_FILTERS
    page: int = 1


@dataclass(frozen=True)
class AttemptsView:
    """Everything the attempts page of one quiz shows, for the filters it was asked with."""

    quiz: dict[str, Any]
    attempts: list[dict[str, Any]]  # this page of the attempts that match the filters
    pager: Page
    counts: dict[str, dict[str, Any]]  # status → attempts and passes, in the unit filter only
    bands: list[Band]
    rates: list[dict[str, Any]]
    leaves: list[dict[str, Any]]  # the attempts that left the page most often
    units: list[dict[str, Any]]  # every unit, in tree order, for the unit filter
    unit: dict[str, Any] | None  # the unit filtered on
    filters: dict[str, Any]  # the filters in effect (unknown values dropped)


ATTEMPT_COLUMNS = (
    Attempt.id,
    Attempt.status,
    Attempt.started_at,
    Attempt.finished_at,
    Attempt.finished_by,
    Attempt.score,
    Attempt.passed,
    Attempt.page_leaves,
    Attempt.account.name.as_alias("cadre_name"),
    Attempt.account.unit.name.as_alias("unit_name"),
)


async def quiz_attempts_view(quiz: dict[str, Any], filters: AttemptFilters) -> AttemptsView:
    """The attempts of `quiz` (practice excluded) with their counts, score bands, correct
    rates and page leaves; a filter with an unknown value is ignored."""
    units = tree_order(
        await Unit.select(Unit.id, Unit.name, Unit.path, Unit.depth, Unit.parent, Unit.sort_order)
    )
    unit = None
    if DIGITS.fullmatch(filters.unit):
        unit = next((u for u in units if u["id"] == int(filters.unit)), None)
    unit_path = unit["path"] if unit else None
    status = filters.status if filters.status in STATUS_FILTERS else ""
    passed = filters.passed if filters.passed in PASSED_FILTERS else ""
    scope = attempt_conditions(quiz["id"], unit_path)
    conditions = list(scope)
    if status == "finished":
        conditions.append(Attempt.status != IN_PROGRESS)
    elif status:
        conditions.append(Attempt.status == status)
    if passed:
        conditions.append(Attempt.passed.eq(passed == "yes"))
    by_status = await (
        Attempt.select(Attempt.status, Count(alias="n"), _true_count(Attempt.passed, "passes"))
        .where(*scope)
        .group_by(Attempt.status)
    )
    pager = Page(number=filters.page, total=await Attempt.count().where(*conditions))
    attempts = await (
        Attempt.select(*ATTEMPT_COLUMNS)
        .where(*conditions)
        .order_by(Attempt.started_at, ascending=False)
        .order_by(Attempt.id, ascending=False)
        .offset(pager.offset)
        .limit(pager.size)
    )
    leaves = await (
        Attempt.select(*ATTEMPT_COLUMNS)
        .where(*scope, Attempt.page_leaves > 0)
        .order_by(Attempt.page_leaves, ascending=False)
        .order_by(Attempt.id, ascending=False)
        .limit(100)
    )
    return AttemptsView(
        quiz=quiz,
        attempts=attempts,
        pager=pager,
        counts={row["status"]: row for row in by_status},
        bands=await score_bands(quiz["id"], quiz["full_marks"] or 100, unit_path),
        rates=await question_rates(quiz["id"], unit_path),
        leaves=leaves,
        units=units,
        unit=unit,
        filters={"unit": unit["id"] if unit else "", "status": status, "passed": passed},
    )


@dataclass(frozen=True)
class AttemptDetail:
    attempt: dict[str, Any]  # with the quiz's slug and title, the cadre's name and unit
    events: list[dict[str, Any]]  # page leaves and returns, in time order


async def attempt_detail(attempt_id: int) -> AttemptDetail:
    """One attempt (practice too) with its page-leave log; NotFoundException when none."""
    attempt = None
    if valid_id(attempt_id):
        attempt = (
            await Attempt.select(
                Attempt.id,
                Attempt.status,
                Attempt.practice,
                Attempt.started_at,
                Attempt.deadline_at,
                Attempt.finished_at,
                Attempt.finished_by,
                Attempt.score,
                Attempt.passed,
                Attempt.page_leaves,
                Attempt.quiz.slug.as_alias("quiz_slug"),
                Attempt.quiz.title.as_alias("quiz_title"),
                Attempt.account.name.as_alias("cadre_name"),
                Attempt.account.username.as_alias("cadre_username"),
                Attempt.account.unit.name.as_alias("unit_name"),
            )
            .where(Attempt.id == attempt_id)
            .first()
        )
    if attempt is None:
        raise NotFoundException("没有找到这次答题记录。")
    events = await (
        AttemptEvent.select(AttemptEvent.kind, AttemptEvent.created_at)
        .where(AttemptEvent.attempt == attempt["id"])
        .order_by(AttemptEvent.created_at)
        .order_by(AttemptEvent.id)
    )
    return AttemptDetail(attempt, events)


# ---------------------------------------------------------------- pages


@get("/quizzes/{quiz_slug:str}/attempts", name="quiz_attempts")
async def quiz_attempts(
    request: Request,
    quiz_slug: FromPath[str],
    unit_id: Annotated[str, QueryParameter(name="unit")] = "",
    status: FromQuery[str] = "",
    passed: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    quiz = await quiz_by_slug(quiz_slug)
    view = await quiz_attempts_view(quiz, AttemptFilters(unit_id, status, passed, page))
    return Template(
        "quizzes/admin_attempts.html",
        context={
            "quiz": view.quiz,
            "attempts": view.attempts,
            "pager": view.pager,
            "counts": view.counts,
            "bands": view.bands,
            "rates": view.rates,
            "question_urls": {
                (r["bank"], r["key"]): question_url(request, r["bank"], r["key"])
                for r in view.rates
            },
            "leaves": view.leaves,
            "units": view.units,
            "unit": view.unit,
            "filters": view.filters,
            "status_filters": STATUS_FILTERS,
            "passed_filters": PASSED_FILTERS,
            "statuses": STATUSES,
            "finished_by": FINISHED_BY,
        },
    )


@get("/attempts/{attempt_id:int}", name="attempt_admin")
async def attempt_admin(attempt_id: FromPath[int]) -> Template:
    detail = await attempt_detail(attempt_id)
    return Template(
        "quizzes/admin_attempt.html",
        context={
            "attempt": detail.attempt,
            "events": detail.events,
            "absences": absences(detail.events),
            "statuses": STATUSES,
            "finished_by": FINISHED_BY,
        },
    )


route_handlers = [quiz_attempts, attempt_admin]
