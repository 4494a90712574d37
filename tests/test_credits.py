"""The 学时台账: each event writes exactly one row, a repeat writes none, and a correction
is a new row naming the entry it takes back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.quizzes.answering import finish_attempt
from app.tables import (
    Attempt,
    ClassSession,
    CreditEntry,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    Training,
    TrainingModule,
)
from app.trainings import credits
from app.trainings.checkin import check_in, save_attendance, update_session
from app.trainings.credit_rules import CreditRules
from app.trainings.credits import (
    credit_quiz_regraded,
    credit_reading,
    credit_totals,
    credit_year,
)
from app.trainings.progress import recompute
from tests.conftest import login, post_form
from tests.test_attendance import make_rotation
from tests.test_quizzes import QUIZ, answer_all, start


async def ledger(account: int) -> list[dict]:
    return await CreditEntry.select().where(CreditEntry.account == account).order_by(CreditEntry.id)


def this_year() -> int:
    return credit_year(datetime.now(UTC))


# ---------------------------------------------------------------- reading


async def _module_with_lessons(n: int = 2) -> tuple[int, list[int]]:
    module = Module(slug="xuefen-mokuai", title="学时测试模块")
    await module.save()
    lessons = []
    for i in range(n):
        lesson = Lesson(
            key=f"xuefen-mokuai/{i}", module=module.id, slug=str(i), source_ref="一", title="课"
        )
        await lesson.save()
        lessons.append(lesson.id)
    return module.id, lessons


async def _read(account: int, lesson: int, minutes: float) -> None:
    seconds = int(minutes * 60)
    row = (
        await LessonProgress.objects()
        .where(LessonProgress.account == account, LessonProgress.lesson == lesson)
        .first()
    )
    if row is None:
        await LessonProgress(account=account, lesson=lesson, active_seconds=seconds).save()
    else:
        await LessonProgress.update({LessonProgress.active_seconds: seconds}).where(
            LessonProgress.id == row.id
        )


async def test_reading_time_of_a_module_earns_its_increments_once(people):
    cadre = people["cadre"].id
    module, lessons = await _module_with_lessons()
    now = datetime.now(UTC)
    await _read(cadre, lessons[0], 10)
    assert await credit_reading(cadre, module, now) == 0  # 10 minutes: nothing yet
    await _read(cadre, lessons[1], 6)  # 16 minutes over the module's two lessons
    assert await credit_reading(cadre, module, now) == 0.5
    assert await credit_reading(cadre, module, now) == 0  # a repeat writes nothing
    await _read(cadre, lessons[0], 25)  # 31 minutes
    assert await credit_reading(cadre, module, now) == 0.5
    rows = await ledger(cadre)
    assert [(r["source"], r["key"], r["hours"], r["sequence"]) for r in rows] == [
        ("reading", f"reading:{module}", 0.5, 1),
        ("reading", f"reading:{module}", 0.5, 2),
    ]
    evidence = json.loads(rows[-1]["evidence"])
    assert evidence["lessons"] == {str(lessons[0]): 25, str(lessons[1]): 6}
    assert evidence["year_minutes"] == 31 and rows[-1]["year"] == this_year()
    assert (await credit_totals(cadre, this_year())).by_source == {"reading": 1.0}


async def test_last_years_reading_is_not_counted_again_this_year(people):
    cadre = people["cadre"].id
    module, lessons = await _module_with_lessons(1)
    await _read(cadre, lessons[0], 40)
    last_year = datetime.now(UTC) - timedelta(days=366)
    assert await credit_reading(cadre, module, last_year) == 1.0  # 40 min: 1 学时 last year
    assert await credit_reading(cadre, module, datetime.now(UTC)) == 0  # 0 new minutes
    await _read(cadre, lessons[0], 60)  # 20 minutes more, read this year
    assert await credit_reading(cadre, module, datetime.now(UTC)) == 0.5
    assert (await credit_totals(cadre, this_year())).total == 0.5


async def test_the_lesson_heartbeat_writes_the_reading_credit(client, people):
    cadre = people["cadre"]
    _, lessons = await _module_with_lessons(1)
    await _read(cadre.id, lessons[0], 14.75)  # 14 min 45 s: 15 s short of 0.5 学时
    await LessonProgress.update(
        {LessonProgress.last_seen_at: datetime.now(UTC) - timedelta(seconds=20)}
    ).where(LessonProgress.account == cadre.id)
    await login(client, cadre.username)
    response = await post_form(client, "/course/xuefen-mokuai/0/heartbeat")
    assert response.status_code == 201 or response.status_code == 200, response.text
    rows = await ledger(cadre.id)
    assert [(r["source"], r["hours"]) for r in rows] == [("reading", 0.5)]


# ---------------------------------------------------------------- quizzes


@pytest.fixture
async def cadre_client(client, people, content):
    await login(client, "13800000001")
    return client


async def test_a_passed_quiz_earns_its_credit_once_a_year(cadre_client, people):
    cadre = people["cadre"].id
    attempt = await start(cadre_client)
    await answer_all(cadre_client, attempt, right=True)
    # Three finishes at once (a double tap, a retry): one result, one credit.
    now = datetime.now(UTC)
    await asyncio.gather(*(finish_attempt(attempt, "cadre", now) for _ in range(3)))
    rows = await ledger(cadre)
    quiz = await Quiz.select(Quiz.id, Quiz.title).where(Quiz.slug == QUIZ).first()
    assert [(r["source"], r["key"], r["hours"]) for r in rows] == [
        ("quiz", f"quiz:{quiz['id']}", 0.5)
    ]
    assert json.loads(rows[0]["evidence"]) == {
        "attempt": attempt,
        "quiz": quiz["id"],
        "score": 100.0,
    }
    assert quiz["title"] in rows[0]["note"]
    second = await start(cadre_client)
    await answer_all(cadre_client, second, right=True)
    assert await finish_attempt(second, "cadre", datetime.now(UTC))
    assert len(await ledger(cadre)) == 1  # the second pass of the year earns nothing


async def test_a_failed_attempt_earns_nothing(cadre_client, people):
    attempt = await start(cadre_client)
    await answer_all(cadre_client, attempt, right=False)
    assert await finish_attempt(attempt, "cadre", datetime.now(UTC))
    assert await ledger(people["cadre"].id) == []


async def test_a_regrade_from_pass_to_fail_writes_a_correction(cadre_client, people):
    cadre = people["cadre"].id
    attempt = await start(cadre_client)
    await answer_all(cadre_client, attempt, right=True)
    await finish_attempt(attempt, "cadre", datetime.now(UTC))
    quiz = (await Attempt.select(Attempt.quiz).where(Attempt.id == attempt).first())["quiz"]
    year = this_year()
    assert await credit_quiz_regraded(cadre, quiz, year, datetime.now(UTC)) == 0  # still passes
    await Attempt.update({Attempt.passed: False, Attempt.score: 40.0}).where(Attempt.id == attempt)
    assert await credit_quiz_regraded(cadre, quiz, year, datetime.now(UTC)) == -0.5
    assert await credit_quiz_regraded(cadre, quiz, year, datetime.now(UTC)) == 0  # once
    earned, correction = await ledger(cadre)
    assert correction["hours"] == -0.5 and correction["corrects"] == earned["id"]
    assert "重新判分" in correction["note"] and correction["sequence"] == 2
    assert (await credit_totals(cadre, year)).total == 0


# ---------------------------------------------------------------- class sessions


async def test_attendance_earns_the_sessions_hours_and_unmarking_corrects_it(tree, people):
    cadre, trainer = people["cadre"], people["trainer"]
    rotation = await make_rotation(tree, [cadre], sessions=2)
    session = await ClassSession.select().where(ClassSession.id == rotation.session.id).first()
    session.update(training_id=rotation.training.id, training_title="集中轮训测试")
    session["batch_name"] = "第一期"
    now = datetime.now(UTC)
    first = await check_in(None, cadre.id, "123456", now)
    assert first.session is not None
    again = await check_in(None, cadre.id, "123456", now)
    assert again.already
    key = f"session:{session['id']}"
    rows = await ledger(cadre.id)
    # One session of two attended: not complete, so no training row yet.
    assert [(r["source"], r["key"], r["hours"]) for r in rows] == [("session", key, 3.0)]
    assert json.loads(rows[0]["evidence"]) == {
        "session": session["id"],
        "training": rotation.training.id,
    }

    await save_attendance(None, trainer.id, session, set(), {cadre.id: True})  # unmarked
    rows = await ledger(cadre.id)
    assert [(r["hours"], r["corrects"]) for r in rows] == [(3.0, None), (-3.0, rows[0]["id"])]
    assert "取消" in rows[1]["note"] and "出席" in rows[1]["note"]
    await save_attendance(None, trainer.id, session, set(), {cadre.id: True})  # stale page
    assert len(await ledger(cadre.id)) == 2

    await save_attendance(None, trainer.id, session, {cadre.id}, {cadre.id: False})  # again
    rows = await ledger(cadre.id)
    assert [(r["hours"], r["sequence"]) for r in rows] == [(3.0, 1), (-3.0, 2), (3.0, 3)]
    assert (await credit_totals(cadre.id, credit_year(session["starts_at"]))).total == 3.0


async def test_changing_a_sessions_hours_corrects_its_attendees(tree, people):
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre], sessions=2)
    await check_in(None, cadre.id, "123456", datetime.now(UTC))
    session = await ClassSession.select().where(ClassSession.id == rotation.session.id).first()
    session.update(training_id=rotation.training.id, training_title="集中轮训测试")
    session["batch_name"] = "第一期"
    values = {k: session[k] for k in ("starts_at", "ends_at", "topic", "place")}
    await update_session(None, session, {**values, "hours": 2.0})
    rows = await ledger(cadre.id)
    assert [r["hours"] for r in rows] == [3.0, -1.0]
    assert "学时由 3 改为 2" in rows[1]["note"]


# ---------------------------------------------------------------- completed trainings


async def _special_training(tree, people, credit_hours: float = 6.0) -> int:
    module, lessons = await _module_with_lessons(1)
    quiz = Quiz(slug="xuefen-jieye", title="结业测验")
    await quiz.save()
    training = Training(
        title="学时专题培训", kind="special", unit=tree["city"].id, credit_hours=credit_hours
    )
    await training.save()
    await TrainingModule(training=training.id, module=module).save()
    cadre = people["cadre"]
    await Enrollment(training=training.id, account=cadre.id, unit=cadre.unit).save()
    await LessonProgress(account=cadre.id, lesson=lessons[0], read_at=datetime.now(UTC)).save()
    return training.id


async def test_a_completed_training_earns_its_hours_once(tree, people):
    training = await _special_training(tree, people)
    assert await recompute(training) == 1
    assert await recompute(training) == 0
    rows = await ledger(people["cadre"].id)
    assert [(r["source"], r["key"], r["hours"], r["training"]) for r in rows] == [
        ("training", f"training:{training}", 6.0, training)
    ]
    evidence = json.loads(rows[0]["evidence"])
    assert evidence["completion"] and evidence["mode"] == "top_up"
    assert "学时专题培训" in rows[0]["note"]


@pytest.mark.parametrize(("mode", "expected"), [("top_up", 5.0), ("none", 0.0), ("full", 8.0)])
async def test_a_rotations_completion_counts_its_sessions_once(
    tree, people, monkeypatch, mode, expected
):
    monkeypatch.setattr(credits, "current_rules", lambda: CreditRules(training_mode=mode))
    cadre = people["cadre"]
    rotation = await make_rotation(tree, [cadre])  # one session of 3 学时; training: 8
    await check_in(None, cadre.id, "123456", datetime.now(UTC))  # attends: completes
    rows = await ledger(cadre.id)
    training_rows = [r["hours"] for r in rows if r["source"] == "training"]
    assert training_rows == ([expected] if expected else [])
    assert [r["hours"] for r in rows if r["source"] == "session"] == [3.0]
    assert all(r["training"] == rotation.training.id for r in rows)


async def test_a_session_taken_back_after_completion_tops_the_training_up(tree, people):
    cadre, trainer = people["cadre"], people["trainer"]
    rotation = await make_rotation(tree, [cadre])
    await check_in(None, cadre.id, "123456", datetime.now(UTC))
    year = this_year()
    assert (await credit_totals(cadre.id, year)).total == 8.0  # 3 + the top-up of 5
    session = await ClassSession.select().where(ClassSession.id == rotation.session.id).first()
    session.update(training_id=rotation.training.id, training_title="集中轮训测试")
    session["batch_name"] = "第一期"
    await save_attendance(None, trainer.id, session, set(), {cadre.id: True})
    totals = await credit_totals(cadre.id, year)
    # The completion stays (it is never taken away), and the training counts 8 once.
    assert totals.total == 8.0 and totals.by_source == {"session": 0.0, "training": 8.0}
    assert [r["hours"] for r in await ledger(cadre.id)] == [3.0, 5.0, -3.0, 3.0]
