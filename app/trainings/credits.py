"""The 学时台账 (credit ledger): one function per event that earns 学时, called by the
handlers of those events, and `credit_totals`, which every page, report and the API read.

Each credit has a key saying what it is for (`reading:{module}`, `quiz:{quiz}`,
`session:{session}`, `training:{training}`) and a year (Beijing time). The rows of one
account, year and key are numbered (`sequence`, unique with them), and their sum is what the
key is worth that year: an event works out what that should be (`credit_rules.py`) and
writes only the difference, so a repeated event writes nothing, and a correction (an
attendance taken back, an attempt regraded) is a new negative row that names the entry it
takes back (`corrects`). Rows are never updated or deleted.

Writers run inside the caller's write transaction where there is one (a finished attempt, a
check-in, the attendance list, a completion); reading time is credited after the heartbeat
that stored it, in a transaction of its own, only when the converted total grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db import Statement, is_sqlite, write_transaction
from app.settings import get_settings
from app.tables import CreditEntry
from app.trainings.credit_rules import (
    CreditRules,
    hours_text,
    reading_hours,
    reading_year_seconds,
    top_up,
    training_hours,
    year_of,
)

_COLUMNS = (
    '"account", "year", "source", "key", "sequence", "hours", "earned_at", "training", '
    '"corrects", "evidence", "note"'
)
_INSERT = Statement(
    CreditEntry,
    f'INSERT INTO "credit_entry" ({_COLUMNS}) VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, '
    "{}, {}, {}, {}) ON CONFLICT DO NOTHING",
)
_ROWS = Statement(
    CreditEntry,
    'SELECT "id", "account", "year", "sequence", "hours", "evidence" FROM "credit_entry" '
    'WHERE "account" = {} AND "key" = {} ORDER BY "id"',
)
# A passed quiz, in the transaction that finished the attempt: one statement, which writes
# the credit unless the quiz already earned it that year (net above 0).
_QUIZ_SQL = (
    f'INSERT INTO "credit_entry" ({_COLUMNS}) '
    "SELECT {}, {}, 'quiz', {}, t.seq + 1, {}, {}, NULL, NULL, {}, {} FROM ("
    'SELECT COALESCE(MAX("sequence"), 0) AS seq, COALESCE(SUM("hours"), 0) AS net '
    'FROM "credit_entry" WHERE "account" = {} AND "year" = {} AND "key" = {}'
    ") AS t WHERE t.net < 0.005 ON CONFLICT DO NOTHING"
)
_QUIZ = {
    "sqlite": Statement(CreditEntry, _QUIZ_SQL),
    "postgres": Statement(
        CreditEntry,
        _QUIZ_SQL.replace(
            "SELECT {}, {}, 'quiz', {}, t.seq + 1, {}, {}, NULL, NULL, {}, {} FROM (",
            "SELECT {}::integer, {}::integer, 'quiz', {}::varchar, t.seq + 1, "
            "{}::double precision, {}::timestamptz, NULL, NULL, {}::text, {}::text FROM (",
        ),
    ),
}
_TOTALS = Statement(
    CreditEntry,
    'SELECT "source", SUM("hours") AS hours FROM "credit_entry" '
    'WHERE "account" = {} AND "year" = {} GROUP BY "source"',
)


def current_rules() -> CreditRules:
    """The rules of this installation (environment, `app/settings.py`)."""
    settings = get_settings()
    return CreditRules(
        reading_unit_minutes=settings.credit_reading_minutes,
        reading_half_minutes=settings.credit_reading_half_minutes,
        quiz_hours=settings.credit_quiz_hours,
        training_mode=settings.credit_training_mode,
    )


def credit_year(moment: datetime) -> int:
    return year_of(moment, get_settings().timezone)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- the one writer


@dataclass
class _Credit:
    """What one event says a key should be worth in a year."""

    account: int
    year: int
    source: str
    key: str
    target: float
    evidence: dict[str, Any]
    note: str  # for a positive row
    correction_note: str = ""  # for a negative one
    training: int | None = None
    only_grow: bool = False  # reading: time read is never taken back


async def _settle(
    credit: _Credit, now: datetime, rows: list[dict[str, Any]] | None = None
) -> float:
    """Write the difference between what the key is worth that year and `target`; returns
    it (0: nothing written). `rows`: the account's rows of the key, if already read."""
    if rows is None:
        rows = await _ROWS.rows(credit.account, credit.key)
    mine = [row for row in rows if row["year"] == credit.year]
    change = top_up(sum(row["hours"] for row in mine), credit.target)
    if change == 0 or (change < 0 and credit.only_grow):
        return 0.0
    corrects = None
    note = credit.note
    if change < 0:
        positive = [row for row in mine if row["hours"] > 0]
        corrects = positive[-1]["id"] if positive else None
        note = credit.correction_note or f"更正：减去 {hours_text(-change)} 学时"
    sequence = max((row["sequence"] for row in mine), default=0) + 1
    await _INSERT.rows(
        credit.account,
        credit.year,
        credit.source,
        credit.key,
        sequence,
        change,
        now,
        credit.training,
        corrects,
        _json(credit.evidence),
        note,
    )
    return change


# ---------------------------------------------------------------- reading

_MODULE_SECONDS = Statement(
    CreditEntry,
    'SELECT lp."lesson", lp."active_seconds" FROM "lesson_progress" lp '
    'JOIN "lesson" l ON l."id" = lp."lesson" WHERE lp."account" = {} AND l."module" = {}',
)


async def credit_reading(account_id: int, module_id: int, now: datetime) -> float:
    """After reading time was stored: write the growth of the module's converted 学时 this
    year, if any. The year's reading time is the module's total less what it was when last
    credited in an earlier year. Two reads when nothing is due."""
    rules = current_rules()
    key = f"reading:{module_id}"
    credit = await _reading_credit(account_id, module_id, key, now, rules)
    if credit is None:
        return 0.0
    async with write_transaction():  # again under the lock: another heartbeat may have won
        rows = await _ROWS.rows(account_id, key)
        credit = await _reading_credit(account_id, module_id, key, now, rules, rows)
        return await _settle(credit, now, rows) if credit else 0.0


async def _reading_credit(
    account_id: int,
    module_id: int,
    key: str,
    now: datetime,
    rules: CreditRules,
    rows: list[dict[str, Any]] | None = None,
) -> _Credit | None:
    lessons = await _MODULE_SECONDS.rows(account_id, module_id)
    total = sum(row["active_seconds"] or 0 for row in lessons)
    if rows is None:
        rows = await _ROWS.rows(account_id, key)
    year = credit_year(now)
    earlier = [(row["year"], json.loads(row["evidence"]).get("seconds", 0)) for row in rows]
    seconds = reading_year_seconds(total, earlier, year)
    target = reading_hours(seconds, rules)
    net = sum(row["hours"] for row in rows if row["year"] == year)
    if top_up(net, target) <= 0:
        return None
    return _Credit(
        account=account_id,
        year=year,
        source="reading",
        key=key,
        target=target,
        evidence={
            "module": module_id,
            "seconds": total,
            "year_minutes": seconds // 60,
            "lessons": {str(r["lesson"]): (r["active_seconds"] or 0) // 60 for r in lessons},
        },
        note=f"阅读课程模块 {seconds // 60} 分钟，本年计 {hours_text(target)} 学时",
        only_grow=True,
    )


# ---------------------------------------------------------------- quizzes


async def credit_quiz_pass(attempt: Mapping[str, Any], score: float | None, now: datetime) -> None:
    """A non-practice attempt that passed its quiz (inside the transaction that finished it;
    the caller checks practice, quiz and passed): the quiz's credit for the year, unless the
    quiz already earned it that year. One statement."""
    hours = current_rules().quiz_hours
    if hours <= 0:
        return
    year, key = credit_year(now), f"quiz:{attempt['quiz_id']}"
    evidence = {"attempt": attempt["id"], "quiz": attempt["quiz_id"], "score": score}
    note = f"通过测验“{attempt.get('quiz_title') or ''}”"
    statement = _QUIZ["sqlite" if is_sqlite() else "postgres"]
    account = attempt["account"]
    await statement.rows(account, year, key, hours, now, _json(evidence), note, account, year, key)


_PASSED_IN = Statement(
    CreditEntry,
    'SELECT "id", "score" FROM "attempt" WHERE "account" = {} AND "quiz" = {} '
    'AND NOT "practice" AND "passed" AND "finished_at" >= {} AND "finished_at" < {} '
    'ORDER BY "finished_at" LIMIT 1',
)


async def credit_quiz_regraded(account_id: int, quiz_id: int, year: int, now: datetime) -> float:
    """After an attempt's `passed` was changed (a regrade): the quiz's credit of that year
    follows whether any non-practice attempt of the year still passes. A pass turned into a
    fail writes a correction row; the change written is returned."""
    zone = get_settings().timezone
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    async with write_transaction():
        passed = await _PASSED_IN.rows(account_id, quiz_id, start, end)
        evidence: dict[str, Any] = {"quiz": quiz_id, "regraded": True}
        if passed:
            evidence.update(attempt=passed[0]["id"], score=passed[0]["score"])
        return await _settle(
            _Credit(
                account=account_id,
                year=year,
                source="quiz",
                key=f"quiz:{quiz_id}",
                target=current_rules().quiz_hours if passed else 0.0,
                evidence=evidence,
                note="重新判分后测验通过",
                correction_note="更正：重新判分后测验未通过，收回该测验学时",
            ),
            now,
        )


# ---------------------------------------------------------------- class sessions

_SESSION = Statement(
    CreditEntry,
    'SELECT s."id", s."hours", s."starts_at", s."topic", b."training", t."title", '
    't."credit_hours" FROM "class_session" s JOIN "batch" b ON b."id" = s."batch" '
    'JOIN "training" t ON t."id" = b."training" WHERE s."id" = {}',
)
_PRESENT = Statement(
    CreditEntry,
    'SELECT "account" FROM "attendance" WHERE "session" = {} AND "present"',
)


async def credit_attendance(
    session_id: int, accounts: Iterable[int], now: datetime, reason: str = ""
) -> float:
    """After attendance of a class session changed for these accounts (inside the write
    transaction that changed it): each present cadre is credited the session's hours, each
    cadre no longer present gets a correction row. A training completed already has its
    top-up adjusted, so nothing counts twice. Returns the net change written."""
    accounts = sorted(set(accounts))
    session = (await _SESSION.rows(session_id))[0] if accounts else None
    if session is None:
        return 0.0
    present = {row["account"] for row in await _PRESENT.rows(session_id)}
    year, key = credit_year(session["starts_at"]), f"session:{session_id}"
    title, topic = session["title"], session["topic"]
    written = 0.0
    for account in accounts:
        change = await _settle(
            _Credit(
                account=account,
                year=year,
                source="session",
                key=key,
                target=float(session["hours"]) if account in present else 0.0,
                evidence={"session": session_id, "training": session["training"]},
                note=f"出席“{title}”面授课程：{topic}",
                correction_note=reason or f"更正：取消“{title}”面授课程（{topic}）的出席",
                training=session["training"],
            ),
            now,
        )
        if change:
            written += change
            await _adjust_top_up(account, session["training"], session["credit_hours"], now)
    return written


# ---------------------------------------------------------------- completed trainings

_SESSION_HOURS = Statement(
    CreditEntry,
    'SELECT COALESCE(SUM("hours"), 0) AS hours FROM "credit_entry" '
    'WHERE "account" = {} AND "training" = {} AND "source" = \'session\'',
)


async def credit_completion(
    account_id: int,
    training: Mapping[str, Any],
    completion_id: int,
    now: datetime,
) -> float:
    """A training completed (inside the transaction that stored the completion): its 学时 by
    the training mode (`credit_rules.training_hours`). `training`: its row (id, title,
    credit_hours)."""
    rules = current_rules()
    sessions = (await _SESSION_HOURS.rows(account_id, training["id"]))[0]["hours"] or 0.0
    target = training_hours(training["credit_hours"] or 0.0, sessions, rules)
    return await _settle(
        _Credit(
            account=account_id,
            year=credit_year(now),
            source="training",
            key=f"training:{training['id']}",
            target=target,
            evidence={
                "training": training["id"],
                "completion": completion_id,
                "credit_hours": training["credit_hours"],
                "session_hours": sessions,
                "mode": rules.training_mode,
            },
            note=f"“{training['title']}”结业",
            training=training["id"],
        ),
        now,
    )


async def _adjust_top_up(account: int, training: int, credit_hours: float, now: datetime) -> None:
    """Session hours of a training changed after its completion was credited ("top_up"
    mode): the completion's row is topped up or corrected in its own year, so the training
    still counts its credit hours once."""
    rules = current_rules()
    if rules.training_mode != "top_up":
        return
    rows = await _ROWS.rows(account, f"training:{training}")
    if not rows:
        return
    year = rows[0]["year"]
    sessions = (await _SESSION_HOURS.rows(account, training))[0]["hours"] or 0.0
    await _settle(
        _Credit(
            account=account,
            year=year,
            source="training",
            key=f"training:{training}",
            target=training_hours(credit_hours or 0.0, sessions, rules),
            evidence={"training": training, "session_hours": sessions, "mode": "top_up"},
            note="面授学时变动，补足结业学时",
            correction_note="更正：面授学时已计入，结业学时相应减少",
            training=training,
        ),
        now,
        rows,
    )


# ---------------------------------------------------------------- totals


@dataclass(frozen=True)
class CreditTotals:
    """A cadre's 学时 of a year: the total and by source (`credit_rules.SOURCES`)."""

    year: int
    total: float
    by_source: dict[str, float] = field(default_factory=dict)


async def credit_totals(account_id: int, year: int) -> CreditTotals:
    """The 学时 a cadre earned in a year, summed in SQL (corrections included)."""
    rows = await _TOTALS.rows(account_id, year)
    by_source = {row["source"]: round(row["hours"] or 0.0, 2) for row in rows}
    return CreditTotals(year, round(sum(by_source.values()), 2), by_source)


# ---------------------------------------------------------------- what earns more

_UPCOMING = Statement(
    CreditEntry,
    'SELECT s."id", s."starts_at", s."topic", s."place", s."hours", t."title" '
    'FROM "class_session" s JOIN "enrollment" e ON e."batch" = s."batch" '
    'JOIN "training" t ON t."id" = e."training" '
    'WHERE e."account" = {} AND e."active" AND s."cancelled_at" IS NULL '
    'AND s."starts_at" >= {} ORDER BY s."starts_at" LIMIT {}',
)


async def upcoming_sessions(account_id: int, now: datetime, limit: int = 3) -> list[dict]:
    """The next class sessions of the cadre's batches, not cancelled: attending earns their
    学时."""
    return await _UPCOMING.rows(account_id, now, limit)
