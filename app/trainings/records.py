"""学习档案 (a cadre's learning record) for one year or all years: trainings with batch,
completion and certificate; quiz results (the attempt that counts by the quiz's rule, the
attempts used, passed); 学时 by source and the ledger rows behind them (read from the
学时台账, never worked out again); class sessions attended; the year's requirement.

`learning_record` builds it with a handful of queries; the page, the print view, the .xlsx
and the unit's .zip (`record_pages.py`) all show what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db import Statement
from app.quizzes.core import COUNTED_POLICIES, IN_PROGRESS, counted_attempt
from app.settings import get_settings
from app.tables import (
    TRAINING_KINDS,
    Attempt,
    Attendance,
    Completion,
    CreditEntry,
    Enrollment,
    User,
)
from app.trainings.credit_rules import SOURCES, Standing
from app.trainings.credits import CreditTotals, credit_totals, credit_year
from app.trainings.requirements import requirement_of


@dataclass(frozen=True)
class TrainingLine:
    training_id: int
    title: str
    kind: str
    batch: str
    enrolled_at: datetime
    active: bool
    lessons_read: int
    lessons_required: int
    sessions_attended: int
    sessions_total: int
    completed_at: datetime | None
    completion_id: int | None
    certificate_code: str
    completion_hours: float | None
    completion_score: float | None

    @property
    def status(self) -> str:
        if self.completed_at is not None:
            return "已结业"
        return "学习中" if self.active else "已取消报名"


@dataclass(frozen=True)
class QuizLine:
    quiz_id: int
    title: str
    attempts: int
    counted_score: float | None
    counted_rule: str
    passed: bool
    best_score: float | None
    last_finished_at: datetime | None


@dataclass(frozen=True)
class CreditLine:
    year: int
    source: str
    hours: float
    earned_at: datetime
    note: str

    @property
    def source_name(self) -> str:
        return SOURCES.get(self.source, self.source)


@dataclass(frozen=True)
class SessionLine:
    starts_at: datetime
    training: str
    batch: str
    topic: str
    place: str
    hours: float
    method: str


@dataclass(frozen=True)
class LearningRecord:
    account_id: int
    name: str
    unit: str
    position: str
    phone: str
    year: int | None  # None: all years
    years: list[int]  # years with something in the ledger, and this year
    trainings: list[TrainingLine]
    quizzes: list[QuizLine]
    totals: CreditTotals  # of `year`; for all years, `year` 0 and the sum of every year
    by_year: list[CreditTotals]  # every year with credits, newest first
    credits: list[CreditLine]  # the ledger rows, in the order earned
    sessions: list[SessionLine]
    standing_year: int
    standing: Standing
    generated_at: datetime = field(default_factory=lambda: datetime.now(get_settings().timezone))

    @property
    def period(self) -> str:
        return f"{self.year} 年" if self.year is not None else "全部年度"

    @property
    def sources(self) -> list[tuple[str, float]]:
        """学时 of each source (in `SOURCES` order, zero ones too)."""
        return [(name, self.totals.by_source.get(key, 0.0)) for key, name in SOURCES.items()]

    @property
    def completed(self) -> int:
        return sum(1 for t in self.trainings if t.completed_at is not None)

    @property
    def passed_quizzes(self) -> int:
        return sum(1 for q in self.quizzes if q.passed)

    @property
    def session_hours(self) -> float:
        return round(sum(s.hours for s in self.sessions), 2)


_BY_YEAR = Statement(
    CreditEntry,
    'SELECT "year", "source", SUM("hours") AS hours FROM "credit_entry" '
    'WHERE "account" = {} GROUP BY "year", "source"',
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first moment of the year and of the next, in the installation's time zone."""
    zone = get_settings().timezone
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def parse_year(text: str | None, now: datetime | None = None) -> int | None:
    """?year=2026 → 2026; ?year=all → None (all years); missing or odd → this year."""
    if text == "all":
        return None
    if text and text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return credit_year(now or datetime.now(get_settings().timezone))


async def _trainings(account_id: int, year: int | None) -> list[TrainingLine]:
    query = Enrollment.select(
        Enrollment.id,
        Enrollment.training,
        Enrollment.training.title.as_alias("title"),
        Enrollment.training.kind.as_alias("kind"),
        Enrollment.batch.name.as_alias("batch_name"),
        Enrollment.enrolled_at,
        Enrollment.active,
        Enrollment.lessons_read,
        Enrollment.lessons_required,
        Enrollment.sessions_attended,
        Enrollment.sessions_total,
        Enrollment.completed_at,
    ).where(Enrollment.account == account_id)
    completions = Completion.select(
        Completion.id,
        Completion.enrollment,
        Completion.completed_at,
        Completion.code,
        Completion.hours,
        Completion.score,
    ).where(Completion.account == account_id)
    if year is not None:
        start, end = year_bounds(year)
        query = query.where(
            ((Enrollment.enrolled_at >= start) & (Enrollment.enrolled_at < end))
            | ((Enrollment.completed_at >= start) & (Enrollment.completed_at < end))
        )
    rows = await query.order_by(Enrollment.enrolled_at).order_by(Enrollment.id)
    done = {c["enrollment"]: c for c in await completions}
    lines = []
    for row in rows:
        completion = done.get(row["id"])
        if not row["active"] and completion is None:
            continue  # withdrawn before completing: nothing to keep on the record
        lines.append(
            TrainingLine(
                training_id=row["training"],
                title=row["title"],
                kind=TRAINING_KINDS.get(row["kind"], row["kind"]),
                batch=row["batch_name"] or "",
                enrolled_at=row["enrolled_at"],
                active=row["active"],
                lessons_read=row["lessons_read"],
                lessons_required=row["lessons_required"],
                sessions_attended=row["sessions_attended"],
                sessions_total=row["sessions_total"],
                completed_at=completion["completed_at"] if completion else None,
                completion_id=completion["id"] if completion else None,
                certificate_code=completion["code"] if completion else "",
                completion_hours=completion["hours"] if completion else None,
                completion_score=completion["score"] if completion else None,
            )
        )
    return lines


async def _quizzes(account_id: int, year: int | None) -> list[QuizLine]:
    """Finished attempts that are not practice (finished in the year), by quiz: the one
    that counts by the quiz's rule (`core.counted_attempt`, as 我的成绩 shows it)."""
    query = Attempt.select(
        Attempt.id,
        Attempt.quiz,
        Attempt.quiz.title.as_alias("title"),
        Attempt.quiz.counted_attempt.as_alias("policy"),
        Attempt.score,
        Attempt.passed,
        Attempt.finished_at,
    ).where(
        Attempt.account == account_id,
        Attempt.practice.eq(False),
        Attempt.quiz.is_not_null(),
        Attempt.status != IN_PROGRESS,
        Attempt.finished_at.is_not_null(),
    )
    if year is not None:
        start, end = year_bounds(year)
        query = query.where(Attempt.finished_at >= start, Attempt.finished_at < end)
    rows = await query.order_by(Attempt.finished_at).order_by(Attempt.id)
    by_quiz: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_quiz.setdefault(row["quiz"], []).append(row)
    lines = []
    for quiz_id, done in by_quiz.items():
        policy = done[0]["policy"]
        counted_id = counted_attempt([(r["id"], r["score"] or 0) for r in done], policy)
        counted = next(r for r in done if r["id"] == counted_id)
        scores = [r["score"] for r in done if r["score"] is not None]
        lines.append(
            QuizLine(
                quiz_id=quiz_id,
                title=done[0]["title"],
                attempts=len(done),
                counted_score=counted["score"],
                counted_rule=COUNTED_POLICIES.get(policy, ""),
                passed=bool(counted["passed"]),
                best_score=max(scores) if scores else None,
                last_finished_at=done[-1]["finished_at"],
            )
        )
    lines.sort(key=lambda q: (q.title, q.quiz_id))
    return lines


async def _credits(account_id: int, year: int | None) -> list[CreditLine]:
    query = CreditEntry.select(
        CreditEntry.year,
        CreditEntry.source,
        CreditEntry.hours,
        CreditEntry.earned_at,
        CreditEntry.note,
    ).where(CreditEntry.account == account_id)
    if year is not None:
        query = query.where(CreditEntry.year == year)
    rows = await query.order_by(CreditEntry.earned_at).order_by(CreditEntry.id)
    return [CreditLine(**row) for row in rows]


async def _sessions(account_id: int, year: int | None) -> list[SessionLine]:
    session = Attendance.session
    query = Attendance.select(
        session.starts_at.as_alias("starts_at"),
        session.batch.training.title.as_alias("training"),
        session.batch.name.as_alias("batch"),
        session.topic.as_alias("topic"),
        session.place.as_alias("place"),
        session.hours.as_alias("hours"),
        Attendance.method,
    ).where(
        Attendance.account == account_id,
        Attendance.present.eq(True),
        session.cancelled_at.is_null(),
    )
    if year is not None:
        start, end = year_bounds(year)
        query = query.where(session.starts_at >= start, session.starts_at < end)
    rows = await query.order_by(session.starts_at)
    return [
        SessionLine(
            starts_at=r["starts_at"],
            training=r["training"] or "",
            batch=r["batch"] or "",
            topic=r["topic"] or "",
            place=r["place"] or "",
            hours=float(r["hours"] or 0.0),
            method="老师标记" if r["method"] == "trainer" else "签到码",
        )
        for r in rows
    ]


async def _by_year(account_id: int) -> list[CreditTotals]:
    years: dict[int, dict[str, float]] = {}
    for row in await _BY_YEAR.rows(account_id):
        years.setdefault(row["year"], {})[row["source"]] = round(row["hours"] or 0.0, 2)
    return [
        CreditTotals(year, round(sum(sources.values()), 2), sources)
        for year, sources in sorted(years.items(), reverse=True)
    ]


async def learning_record(account_id: int, year: int | None) -> LearningRecord | None:
    """The record of this account for `year` (None: all years); None when no such account."""
    person = await User.objects(User.unit).where(User.id == account_id).first()
    if person is None:
        return None
    this_year = credit_year(datetime.now(get_settings().timezone))
    by_year = await _by_year(account_id)
    if year is not None:
        totals = await credit_totals(account_id, year)
    else:
        sums: dict[str, float] = {}
        for t in by_year:
            for source, hours in t.by_source.items():
                sums[source] = round(sums.get(source, 0.0) + hours, 2)
        totals = CreditTotals(0, round(sum(t.total for t in by_year), 2), sums)
    standing_year = year if year is not None else this_year
    if year is not None:
        earned = totals.total
    else:
        earned = next((t.total for t in by_year if t.year == this_year), 0.0)
    requirement = await requirement_of(person, standing_year)
    return LearningRecord(
        account_id=account_id,
        name=person.name,
        unit=person.unit.name,
        position=person.position,
        phone=person.phone,
        year=year,
        years=sorted({this_year, *(t.year for t in by_year)}, reverse=True),
        trainings=await _trainings(account_id, year),
        quizzes=await _quizzes(account_id, year),
        totals=totals,
        by_year=by_year,
        credits=await _credits(account_id, year),
        sessions=await _sessions(account_id, year),
        standing_year=standing_year,
        standing=Standing(earned, requirement["hours"] if requirement else None),
    )
