"""`peixun demo` fills a year of 学时 (issue 17, item 6): every source over several months,
the year's requirement with cadres on both sides of it, and 补考/延期 grants, all written by
the ledger's own writers, so the ledger agrees with the reading time and attendance stored."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from app.db import DB, is_sqlite
from app.demo.loading import DEMO_PASSWORD, load_demo
from app.tables import (
    Attendance,
    AuditEvent,
    CreditEntry,
    CreditRequirement,
    Lesson,
    LessonProgress,
    QuizOverride,
    User,
)
from app.trainings.credit_rules import reading_hours
from app.trainings.credits import credit_year, current_rules
from tests.conftest import login, post_form

CADRES = 90


async def _demo() -> None:
    if is_sqlite():
        await load_demo(cadre_count=CADRES)
        return
    await DB.start_connection_pool(min_size=1, max_size=4)
    try:
        await load_demo(cadre_count=CADRES)
    finally:
        await DB.close_connection_pool()


async def test_the_demo_fills_a_year_of_credit_hours_from_every_source(content, client):
    await _demo()
    year = credit_year(datetime.now(UTC))
    entries = await CreditEntry.select().where(CreditEntry.year == year)
    sources = {row["source"] for row in entries}
    assert sources == {"reading", "quiz", "session", "training"}
    months = {row["earned_at"].astimezone(UTC).month for row in entries}
    assert len(months) >= 6, months  # spread over the year, not one day

    # Reading: what each module earned is the rule applied to the time stored for it.
    module_of = {r["id"]: r["module"] for r in await Lesson.select(Lesson.id, Lesson.module)}
    seconds: dict[tuple[int, int], int] = defaultdict(int)
    for row in await LessonProgress.select():
        seconds[(row["account"], module_of[row["lesson"]])] += row["active_seconds"] or 0
    earned: dict[tuple[int, int], float] = defaultdict(float)
    for row in entries:
        if row["source"] == "reading":
            earned[(row["account"], int(row["key"].split(":")[1]))] += row["hours"]
    rules = current_rules()
    assert earned, "no reading credited"
    for key, hours in earned.items():
        assert hours == reading_hours(seconds[key], rules), key
    visits = _counts(entries, "reading").values()
    assert any(n > 1 for n in visits), "no cadre read a module over several visits"

    # Sessions: each attendance earns the session's hours, and a completed rotation training
    # tops up to its 16 学时 without counting them twice.
    attended = await Attendance.count().where(Attendance.present.eq(True))
    session_rows = [row for row in entries if row["source"] == "session"]
    assert len(session_rows) == attended > 0
    assert all(row["hours"] == 3.0 for row in session_rows)
    by_training: dict[tuple[int, int], float] = defaultdict(float)
    for row in entries:
        if row["training"] is not None:
            by_training[(row["account"], row["training"])] += row["hours"]
    completed = [
        (row["account"], row["training"]) for row in entries if row["source"] == "training"
    ]
    assert completed
    assert all(by_training[key] in (8.0, 16.0) for key in completed)


def _counts(entries: list[dict], source: str) -> dict[tuple[int, str], int]:
    counted: dict[tuple[int, str], int] = defaultdict(int)
    for row in entries:
        if row["source"] == source:
            counted[(row["account"], row["key"])] += 1
    return counted


async def test_the_demo_requirement_has_cadres_on_both_sides_and_overrides_are_audited(
    content, client
):
    await _demo()
    year = credit_year(datetime.now(UTC))
    requirements = await CreditRequirement.select().where(CreditRequirement.year == year)
    assert {(r["unit_kind"], r["hours"]) for r in requirements} == {
        ("", 20.0),
        ("grassroots_union", 12.0),
    }
    totals: dict[int, float] = defaultdict(float)
    for row in await CreditEntry.select(CreditEntry.account, CreditEntry.hours):
        totals[row["account"]] += row["hours"]
    cadres = await User.select(User.id, User.phone, User.unit.kind.as_alias("kind")).where(
        User.role == "cadre", User.phone != ""
    )
    met = [
        c for c in cadres if totals[c["id"]] >= (12.0 if c["kind"] == "grassroots_union" else 20.0)
    ]
    assert 0 < len(met) < len(cadres)

    overrides = await QuizOverride.select()
    assert len(overrides) >= 3
    grants = await AuditEvent.count().where(AuditEvent.action == "quiz_override.grant")
    assert grants == len(overrides)
    demo = await User.select(User.id).where(User.username == "cadre").first()
    assert any(row["account"] == demo["id"] for row in overrides)

    # What the cadre sees: this year's 学时 against the requirement, and the grant.
    await login(client, "cadre", DEMO_PASSWORD)
    home = (await client.get("/")).text
    assert "学时" in home and "12" in home
    quiz = (await client.get("/quizzes/final-exam")).text
    assert "因公出差" in quiz
    await post_form(client, "/logout")

    # The city's 催学名单 lists those below, not those who met it.
    await login(client, "admin", DEMO_PASSWORD)
    listed = (await client.get(f"/reports/credits/reminders.csv?year={year}")).text
    assert all(c["phone"] not in listed for c in met)
    assert all(c["phone"] in listed for c in cadres if c not in met)
