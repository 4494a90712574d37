"""The completion rule for both kinds of training, and the progress stored by recompute."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.tables import (
    Attempt,
    Attendance,
    Batch,
    ClassSession,
    Completion,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    Training,
    TrainingModule,
)
from app.trainings.completion import Facts, evaluate, sessions_needed
from app.trainings.progress import recompute

LESSONS = frozenset({1, 2, 3})
PASSED = {"id": 7, "score": 90.0, "passed": True}


def facts(**changes) -> Facts:
    base = {
        "kind": "special",
        "required_lessons": LESSONS,
        "read_lessons": LESSONS,
        "has_quiz": True,
        "attempt": PASSED,
        "credit_hours": 8.0,
    }
    return Facts(**{**base, **changes})


def test_a_special_training_needs_every_lesson_and_the_quiz_passed():
    assert evaluate(facts()).complete
    partway = evaluate(facts(read_lessons=frozenset({1})))
    assert not partway.complete
    assert partway.lacks == ("还有 2 篇课文未学完",)
    assert partway.hours == 0
    failed = evaluate(facts(attempt={"id": 8, "score": 60.0, "passed": False}))
    assert failed.lacks == ("结业测验未通过",) and failed.quiz_score == 60.0
    assert evaluate(facts(attempt=None)).lacks == ("结业测验未参加",)
    assert evaluate(facts(has_quiz=False, attempt=None)).complete


def test_a_rotation_also_needs_the_share_of_sessions_attended():
    sessions = {10: 3.0, 11: 3.0, 12: 3.0, 13: 3.0, 14: 3.0}
    short = evaluate(facts(kind="rotation", sessions=sessions, attended=frozenset({10, 11, 12})))
    assert short.lacks == ("签到 3/5 次，需至少 4 次",)
    assert short.hours == 9.0  # attended hours count before completion
    done = evaluate(facts(kind="rotation", sessions=sessions, attended=frozenset({10, 11, 12, 13})))
    assert done.complete and done.hours == 12.0 + 8.0
    # Attendance of a session of another batch does not count.
    assert evaluate(facts(kind="rotation", sessions={10: 3.0}, attended=frozenset({99}))).lacks
    assert evaluate(facts(kind="rotation", sessions={})).lacks == ("尚未安排面授课程",)


def test_sessions_needed_rounds_up():
    assert [sessions_needed(n, 0.8) for n in (1, 2, 4, 5, 10)] == [1, 2, 4, 4, 8]
    assert sessions_needed(3, 1.0) == 3


async def _training(tree, people, kind: str) -> tuple[int, int, list[int]]:
    module = Module(slug="ceshi-mokuai", title="测试模块")
    await module.save()
    lessons = []
    for n in range(2):
        lesson = Lesson(
            key=f"ceshi-mokuai/{n}", module=module.id, slug=str(n), source_ref=str(n), title="课"
        )
        await lesson.save()
        lessons.append(lesson.id)
    quiz = Quiz(slug="ceshi-jieye", title="结业测验")
    await quiz.save()
    training = Training(
        title="测试培训", kind=kind, unit=tree["city"].id, final_quiz=quiz.id, credit_hours=6.0
    )
    await training.save()
    await TrainingModule.insert(TrainingModule(training=training.id, module=module.id))
    batch = Batch(training=training.id, name="第一期")
    await batch.save()
    await Enrollment.insert(
        Enrollment(
            training=training.id,
            batch=batch.id,
            account=people["cadre"].id,
            unit=people["cadre"].unit,
        )
    )
    return training.id, quiz.id, lessons


async def test_recompute_stores_progress_and_one_completion_with_its_evidence(tree, people):
    training_id, quiz_id, lessons = await _training(tree, people, "special")
    cadre = people["cadre"].id
    assert await recompute(training_id) == 0
    row = await Enrollment.select().first()
    assert (row["lessons_required"], row["lessons_read"], row["completed_at"]) == (2, 0, None)

    now = datetime.now(UTC)
    for lesson in lessons:
        await LessonProgress.insert(LessonProgress(account=cadre, lesson=lesson, read_at=now))
    attempt = Attempt(
        quiz=quiz_id, account=cadre, status="submitted", score=85.0, passed=True, finished_at=now
    )
    await attempt.save()
    assert await recompute(training_id) == 1
    assert await recompute(training_id) == 0  # once only
    row = await Enrollment.select().first()
    assert row["completed_at"] is not None and row["quiz_score"] == 85.0 and row["hours"] == 6.0
    completion = await Completion.select().first()
    evidence = json.loads(completion["evidence"])
    assert evidence["lessons"] == sorted(lessons)
    assert evidence["attempt"]["id"] == attempt.id
    assert len(completion["code"]) == 10


async def test_attendance_counts_for_a_rotation(tree, people):
    training_id, _quiz, _lessons = await _training(tree, people, "rotation")
    batch = await Batch.select(Batch.id).first()
    sessions = []
    for hour in (9, 14):
        session = ClassSession(
            batch=batch["id"], starts_at=datetime(2023, 12, 5, hour, tzinfo=UTC), hours=3.0
        )
        await session.save()
        sessions.append(session.id)
    await Attendance.insert(Attendance(session=sessions[0], account=people["cadre"].id))
    await recompute(training_id)
    row = await Enrollment.select().first()
    assert (row["sessions_total"], row["sessions_attended"], row["hours"]) == (2, 1, 3.0)


async def test_finishing_a_quiz_updates_the_trainings_it_is_the_final_quiz_of(tree, people):
    from app.quizzes.answering import finish_attempt

    training_id, quiz_id, lessons = await _training(tree, people, "special")
    cadre = people["cadre"].id
    now = datetime.now(UTC)
    for lesson in lessons:
        await LessonProgress.insert(LessonProgress(account=cadre, lesson=lesson, read_at=now))
    other = Training(title="另一项培训", kind="special", unit=tree["city"].id, credit_hours=2.0)
    await other.save()
    await Enrollment.insert(Enrollment(training=other.id, account=cadre, unit=people["cadre"].unit))
    other_before = await Enrollment.select().where(Enrollment.training == other.id).first()

    async def finish(practice: bool) -> None:
        attempt = Attempt(
            quiz=quiz_id,
            account=cadre,
            practice=practice,
            status="in_progress",
            paper="[]",
            started_at=now,
        )
        await attempt.save()
        assert await finish_attempt(attempt.id, "cadre", now)

    await Quiz.update({Quiz.pass_mark: 0}).where(Quiz.id == quiz_id)
    await finish(practice=True)  # practice completes nothing
    assert (await Enrollment.select().where(Enrollment.training == training_id).first())[
        "completed_at"
    ] is None
    await finish(practice=False)
    mine = await Enrollment.select().where(Enrollment.training == training_id).first()
    assert mine["completed_at"] is not None and mine["quiz_passed"]
    untouched = await Enrollment.select().where(Enrollment.training == other.id).first()
    assert untouched == other_before  # not recomputed: the quiz is none of its facts
