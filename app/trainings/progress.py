"""Keeping each enrollment's stored progress, and its completion, up to date.

Called on the events that can change them: a lesson read, an attempt finished, an
attendance marked, an enrollment made or a training's rule edited. Rosters and the
dashboard read what is stored here and never compute progress themselves.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from app.db import Prepared, write_transaction
from app.quizzes.core import counted_attempt
from app.tables import (
    Attempt,
    Attendance,
    ClassSession,
    Completion,
    Enrollment,
    Lesson,
    LessonProgress,
    Quiz,
    Training,
    TrainingModule,
)
from app.trainings.completion import Facts, evaluate, lacks_text
from app.trainings.credits import credit_completion

CHUNK = 500
_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def certificate_code() -> str:
    return "".join(secrets.choice(_CODE_LETTERS) for _ in range(10))


# Run for each cadre after every quiz submitted and lesson read: built once (`app/db.Prepared`).
_MODULES = Prepared(
    lambda training: TrainingModule.select(TrainingModule.module).where(
        TrainingModule.training == training
    ),
    int,
)
_LESSONS = Prepared(
    lambda modules: Lesson.select(Lesson.id).where(
        Lesson.module.is_in(modules), Lesson.active.eq(True)
    ),
    list,
)
_READ = Prepared(
    lambda accounts, lessons: LessonProgress.select(
        LessonProgress.account, LessonProgress.lesson
    ).where(
        LessonProgress.account.is_in(accounts),
        LessonProgress.lesson.is_in(lessons),
        LessonProgress.read_at.is_not_null(),
    ),
    list,
    list,
)
_FINISHED = Prepared(
    lambda quiz, accounts: (
        Attempt.select(Attempt.id, Attempt.account, Attempt.score, Attempt.passed)
        .where(
            Attempt.quiz == quiz,
            Attempt.account.is_in(accounts),
            Attempt.practice.eq(False),
            Attempt.status != "in_progress",
        )
        .order_by(Attempt.finished_at)
    ),
    int,
    list,
)
_ATTENDED = Prepared(
    lambda sessions, accounts: Attendance.select(Attendance.account, Attendance.session).where(
        Attendance.session.is_in(sessions),
        Attendance.account.is_in(accounts),
        Attendance.present.eq(True),
    ),
    list,
    list,
)
_TRAINING = Prepared(lambda training: Training.select().where(Training.id == training).first(), int)
_ENROLLED = Prepared(
    lambda training, accounts: Enrollment.select(
        Enrollment.id, Enrollment.account, Enrollment.batch, Enrollment.completed_at
    ).where(
        Enrollment.training == training,
        Enrollment.active.eq(True),
        Enrollment.account.is_in(accounts),
    ),
    int,
    list,
)
_QUIZ = Prepared(
    lambda quiz: Quiz.select(Quiz.id, Quiz.counted_attempt).where(Quiz.id == quiz).first(), int
)
_SESSIONS = Prepared(
    lambda training: ClassSession.select(
        ClassSession.id, ClassSession.batch, ClassSession.hours
    ).where(
        ClassSession.batch.training == training,
        ClassSession.cancelled_at.is_null(),  # a cancelled session is nobody's to attend
    ),
    int,
)
_TRAININGS_WITH_QUIZ = Prepared(
    lambda account, quiz: Enrollment.select(Enrollment.training).where(
        Enrollment.account == account,
        Enrollment.active.eq(True),
        Enrollment.training.final_quiz == quiz,
    ),
    int,
    int,
)
_TRAININGS_OF = Prepared(
    lambda account: Enrollment.select(Enrollment.training).where(
        Enrollment.account == account, Enrollment.active.eq(True)
    ),
    int,
)


async def required_lessons(training_id: int) -> frozenset[int]:
    modules = [row["module"] for row in await _MODULES.rows(training_id)]
    if not modules:
        return frozenset()
    return frozenset(row["id"] for row in await _LESSONS.rows(modules))


async def _read(accounts: list[int], lessons: frozenset[int]) -> dict[int, set[int]]:
    read: dict[int, set[int]] = defaultdict(set)
    if not lessons:
        return read
    for row in await _READ.rows(accounts, sorted(lessons)):
        read[row["account"]].add(row["lesson"])
    return read


async def _counted(accounts: list[int], quiz: dict[str, Any] | None) -> dict[int, dict]:
    if quiz is None:
        return {}
    by_account: dict[int, list[dict]] = defaultdict(list)
    for row in await _FINISHED.rows(quiz["id"], accounts):
        by_account[row["account"]].append(row)
    counted = {}
    for account, attempts in by_account.items():
        chosen = counted_attempt([(a["id"], a["score"] or 0) for a in attempts], quiz["policy"])
        attempt = next(a for a in attempts if a["id"] == chosen)
        counted[account] = {
            "id": attempt["id"],
            "score": attempt["score"],
            "passed": bool(attempt["passed"]),
        }
    return counted


async def _attended(accounts: list[int], sessions: Iterable[int]) -> dict[int, set[int]]:
    attended: dict[int, set[int]] = defaultdict(set)
    ids = sorted(sessions)
    if not ids:
        return attended
    for row in await _ATTENDED.rows(ids, accounts):
        attended[row["account"]].add(row["session"])
    return attended


async def recompute(training_id: int, account_ids: Iterable[int] | None = None) -> int:
    """Bring the training's enrollments (or those of the given cadres) up to date, and
    store a completion for each cadre who now meets the rule. Returns how many completed."""
    training = await _TRAINING.first(training_id)
    if training is None:
        return 0
    if account_ids is not None:
        enrollments = await _ENROLLED.rows(training_id, sorted(set(account_ids)))
    else:
        enrollments = await Enrollment.select(
            Enrollment.id, Enrollment.account, Enrollment.batch, Enrollment.completed_at
        ).where(Enrollment.training == training_id, Enrollment.active.eq(True))
    lessons = await required_lessons(training_id)
    quiz = None
    if training["final_quiz"]:
        row = await _QUIZ.first(training["final_quiz"])
        quiz = {"id": row["id"], "policy": row["counted_attempt"]} if row else None
    sessions_by_batch: dict[int, dict[int, float]] = defaultdict(dict)
    if training["kind"] == "rotation":
        for row in await _SESSIONS.rows(training_id):
            sessions_by_batch[row["batch"]][row["id"]] = row["hours"]
    all_sessions = {s for by in sessions_by_batch.values() for s in by}
    completed = 0
    for start in range(0, len(enrollments), CHUNK):
        chunk = enrollments[start : start + CHUNK]
        accounts = [e["account"] for e in chunk]
        read = await _read(accounts, lessons)
        counted = await _counted(accounts, quiz)
        attended = await _attended(accounts, all_sessions)
        now = datetime.now(UTC)
        async with write_transaction():
            for enrollment in chunk:
                account = enrollment["account"]
                facts = Facts(
                    kind=training["kind"],
                    required_lessons=lessons,
                    read_lessons=frozenset(read.get(account, ())),
                    has_quiz=quiz is not None,
                    attempt=counted.get(account),
                    sessions=sessions_by_batch.get(enrollment["batch"], {}),
                    attended=frozenset(attended.get(account, ())),
                    attendance_share=training["attendance_share"],
                    credit_hours=training["credit_hours"],
                )
                completed += await _store(training, enrollment, facts, now)
    return completed


async def _store(training: dict, enrollment: dict, facts: Facts, now: datetime) -> int:
    training_id = training["id"]
    progress = evaluate(facts)
    values = {
        Enrollment.lessons_required: progress.lessons_required,
        Enrollment.lessons_read: progress.lessons_read,
        Enrollment.quiz_score: progress.quiz_score,
        Enrollment.quiz_passed: progress.quiz_passed,
        Enrollment.sessions_total: progress.sessions_total,
        Enrollment.sessions_attended: progress.sessions_attended,
        Enrollment.hours: progress.hours,
        Enrollment.updated_at: now,
    }
    newly = progress.complete and enrollment["completed_at"] is None
    if newly:
        # A completion, once earned, stays: later changes to the course don't take it away.
        values[Enrollment.completed_at] = now
        stored = (
            await Completion.insert(
                Completion(
                    training=training_id,
                    account=enrollment["account"],
                    enrollment=enrollment["id"],
                    completed_at=now,
                    evidence=json.dumps(progress.evidence(facts), ensure_ascii=False),
                    hours=progress.hours,
                    score=progress.quiz_score,
                    code=certificate_code(),
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Completion.id)
        )
        if stored:  # the training's 学时 (app/trainings/credits.py)
            await credit_completion(enrollment["account"], training, stored[0]["id"], now)
    await Enrollment.update(values).where(Enrollment.id == enrollment["id"])
    return int(newly)


async def refresh_account(account_id: int) -> None:
    """Recompute every training the cadre is enrolled in (after they read or finish)."""
    for row in await _TRAININGS_OF.rows(account_id):
        await recompute(row["training"], [account_id])


async def refresh_after_quiz(account_id: int, quiz_id: int) -> None:
    """Recompute the trainings whose final quiz this is, after the cadre finished it: a quiz
    attempt is a fact of those trainings only."""
    for row in await _TRAININGS_WITH_QUIZ.rows(account_id, quiz_id):
        await recompute(row["training"], [account_id])


# ---------------------------------------------------------------- reading stored progress


def enrollment_lacks(row: dict[str, Any]) -> tuple[str, ...]:
    """What an enrollment row (with the training's kind, quiz and share) still lacks."""
    return lacks_text(
        kind=row["kind"],
        lessons_required=row["lessons_required"],
        lessons_read=row["lessons_read"],
        has_quiz=bool(row["final_quiz"]),
        quiz_passed=row["quiz_passed"],
        quiz_score=row["quiz_score"],
        sessions_total=row["sessions_total"],
        sessions_attended=row["sessions_attended"],
        attendance_share=row["attendance_share"],
    )


def progress_columns() -> tuple:
    return (
        Enrollment.all_columns(),
        Enrollment.training.title.as_alias("title"),
        Enrollment.training.kind.as_alias("kind"),
        Enrollment.training.final_quiz.as_alias("final_quiz"),
        Enrollment.training.attendance_share.as_alias("attendance_share"),
        Enrollment.batch.name.as_alias("batch_name"),
        Enrollment.batch.starts_on.as_alias("starts_on"),
        Enrollment.batch.ends_on.as_alias("ends_on"),
        Enrollment.batch.place.as_alias("place"),
    )
