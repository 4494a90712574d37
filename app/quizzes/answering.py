"""Answering a quiz, apart from its pages: loading an attempt, saving answers as they are
given, finishing an attempt once (by the cadre, at its deadline, by the sweep, or, for
practice, when a quiz starts), the mistake book's entries of a finished attempt, and when
answers are hidden from a person.

While a person is answering a quiz, no page shows them the answer or 解析 of any question:
not the results of practice or of earlier attempts, not the mistake book
(`answers_hidden_for` decides it for every page). Practice still open when a quiz starts is
closed then (`close_practice`).

An answer is acknowledged only after it is stored. Saving and finishing both take the
attempt row's lock first (a no-op UPDATE … WHERE status = 'in_progress'), so an answer is
either stored before the attempt is graded, or refused with a message: never lost between.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.exceptions import NotFoundException

from app.accounts.guards import in_scope
from app.banks.model import LETTERS
from app.db import Prepared, Statement, write_transaction
from app.lib.parsing import valid_id
from app.quizzes.core import (
    GRACE,
    IN_PROGRESS,
    Grade,
    PaperItem,
    grade_paper,
    paper_of,
)
from app.quizzes.overrides import latest_closing
from app.tables import Answer, Attempt, Mistake, QuestionVersion, User
from app.trainings.credits import credit_quiz_pass
from app.trainings.progress import refresh_after_quiz

logger = logging.getLogger("peixun")
SWEEP_EVERY = 60  # seconds
STAFF_ROLES = ("trainer", "federation_admin")
QUIZ_STARTED = "quiz_started"  # how practice closed by the start of a quiz was finished

ATTEMPT_COLUMNS = (
    Attempt.id,
    Attempt.account,
    Attempt.practice,
    Attempt.practice_source,
    Attempt.status,
    Attempt.paper,
    Attempt.started_at,
    Attempt.deadline_at,
    Attempt.finished_at,
    Attempt.finished_by,
    Attempt.awarded,
    Attempt.total,
    Attempt.score,
    Attempt.passed,
    Attempt.page_leaves,
    Attempt.quiz.id.as_alias("quiz_id"),
    Attempt.quiz.slug.as_alias("quiz_slug"),
    Attempt.quiz.title.as_alias("quiz_title"),
    Attempt.quiz.full_marks.as_alias("full_marks"),
    Attempt.quiz.pass_mark.as_alias("pass_mark"),
    Attempt.quiz.partial_credit.as_alias("partial_credit"),
    Attempt.quiz.review.as_alias("review"),
    Attempt.quiz.closes_at.as_alias("closes_at"),
    Attempt.quiz.override_count.as_alias("override_count"),
    Attempt.account.name.as_alias("account_name"),
    Attempt.account.unit.path.as_alias("unit_path"),
)


# Loaded with every answer saved: built once (`app/db.Prepared`).
_ATTEMPT = Prepared(
    lambda attempt_id: Attempt.select(*ATTEMPT_COLUMNS).where(Attempt.id == attempt_id).first(),
    int,
)
_RESPONSES = Prepared(
    lambda attempt_id: Answer.select(Answer.position, Answer.response).where(
        Answer.attempt == attempt_id
    ),
    int,
)
_OPEN_PRACTICE = Prepared(
    lambda account_id: Attempt.select(Attempt.id).where(
        Attempt.account == account_id,
        Attempt.practice.eq(True),
        Attempt.status == IN_PROGRESS,
    ),
    int,
)
_QUESTIONS_OF = Prepared(
    lambda versions: QuestionVersion.select(QuestionVersion.id, QuestionVersion.question).where(
        QuestionVersion.id.is_in(versions)
    ),
    list,
)
_KNOWN_MISTAKES = Prepared(
    lambda account, questions: Mistake.select(Mistake.id, Mistake.question).where(
        Mistake.account == account, Mistake.question.is_in(questions)
    ),
    int,
    list,
)
_NEW_MISTAKES = (
    'INSERT INTO "mistake" ("account", "question", "question_version", "attempt", '
    '"wrong_count", "last_wrong_at", "mastered_at") VALUES {rows} ON CONFLICT DO NOTHING'
)
_LOCK = Statement(
    Attempt, 'UPDATE "attempt" SET "status" = {} WHERE "id" = {} AND "status" = {} RETURNING "id"'
)
_SAVE = Statement(
    Answer,
    'INSERT INTO "answer" ("attempt", "position", "question_version", "response", "choice", '
    '"saved_at") VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT ("attempt", "position") DO UPDATE '
    'SET "response" = excluded."response", "choice" = excluded."choice", '
    '"saved_at" = excluded."saved_at"',
)


class AttemptClosed(Exception):
    """Answers sent to an attempt that is no longer in progress; the message is Chinese."""


# ---------------------------------------------------------------- loading


def review_shown(
    attempt: Mapping[str, Any], now: datetime, closed_at: datetime | None = None
) -> bool:
    """Whether the answers and 解析 may be shown, per the quiz's review policy. `closed_at`:
    when the quiz closed for every cadre (`review_closing`), if not its own closing."""
    if attempt["practice"] or attempt["quiz_id"] is None:
        return True
    policy = attempt["review"]
    if policy == "score_only":
        return False
    if policy == "after_close":
        # Answers may still arrive in the grace after the close: not shown before it ends.
        closed_at = closed_at or attempt["closes_at"]
        return closed_at is not None and now >= closed_at + GRACE
    return True


async def review_closing(attempt: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the attempt's quiz closed for every cadre: a 补考/延期 may close it later for
    some, and answers shown after the close wait for them too. Read only when it matters:
    a quiz reviewed after its close, already closed, with overrides."""
    closes_at = attempt.get("closes_at")
    if attempt.get("review") != "after_close" or closes_at is None or now < closes_at + GRACE:
        return closes_at
    return await latest_closing(attempt["quiz_id"], closes_at, attempt.get("override_count") or 0)


async def answers_hidden_for(account_id: int, now: datetime) -> dict[str, Any] | None:
    """The quiz attempt the person is answering, if any; while there is one, no page shows
    them the answer or 解析 of any question. An attempt past its deadline and grace takes no
    more answers, so it hides nothing (it is finished as it stands)."""
    rows = (
        await Attempt.select(
            Attempt.id, Attempt.deadline_at, Attempt.quiz.title.as_alias("quiz_title")
        )
        .where(
            Attempt.account == account_id,
            Attempt.status == IN_PROGRESS,
            Attempt.practice.eq(False),
        )
        .order_by(Attempt.started_at)
    )
    return next((row for row in rows if not past_grace(row["deadline_at"], now)), None)


async def load_attempt(user: User, attempt_id: int, *, own: bool = True) -> dict[str, Any]:
    """The attempt, if it is the person's own; staff may also read (own=False) attempts of
    cadres in their scope. Anyone else gets 404, so an attempt's existence is not revealed."""
    attempt = None
    if valid_id(attempt_id):
        attempt = await _ATTEMPT.first(attempt_id)
    if attempt is not None and attempt["account"] != user.id:
        may_read = not own and (
            user.role in STAFF_ROLES
            or (user.role == "unit_admin" and in_scope(user, attempt["unit_path"]))
        )
        if not may_read:
            attempt = None
    if attempt is None:
        raise NotFoundException("没有找到这次答题记录。")
    return attempt


async def saved_responses(attempt_id: int) -> dict[int, tuple[str, ...]]:
    rows = await _RESPONSES.rows(attempt_id)
    return {row["position"]: tuple(json.loads(row["response"])) for row in rows}


def bank_choice(item: PaperItem, response: tuple[str, ...]) -> str:
    """The options chosen, in the bank's letters (the paper may have shuffled them)."""
    if item.type in ("single", "multiple"):
        return "".join(sorted(LETTERS[item.option_order[LETTERS.index(r)]] for r in response))
    return "".join(response) if item.type == "true_false" else ""


# ---------------------------------------------------------------- saving and finishing


async def _lock_in_progress(attempt_id: int) -> bool:
    """Take the attempt's row lock if it is still in progress (inside a write transaction)."""
    return bool(await _LOCK.rows(IN_PROGRESS, attempt_id, IN_PROGRESS))


def past_grace(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline + GRACE


async def save_responses(
    attempt: Mapping[str, Any], responses: Mapping[int, tuple[str, ...]], now: datetime
) -> None:
    """Store answers; raises AttemptClosed if the attempt is finished or past its deadline
    (then it is finished with what was saved before). `attempt` as `load_attempt` gives it:
    its id, paper, deadline and account are used."""
    items = {item.position: item for item in paper_of(attempt["paper"])}
    late = False
    async with write_transaction():
        if not await _lock_in_progress(attempt["id"]):
            raise AttemptClosed("本次测验已经交卷，这次的答案没有保存。")
        if past_grace(attempt["deadline_at"], now):  # a deadline is never changed
            await _finish_locked(attempt["id"], "deadline", now)
            late = True  # committed below; raising here would roll the finishing back
            responses = {}
        for position, response in responses.items():
            item = items[position]
            await _SAVE.rows(
                attempt["id"],
                position,
                item.version_id,
                json.dumps(list(response), ensure_ascii=False),
                bank_choice(item, response),
                now,
            )
    if late:
        await _refresh(attempt)
        raise AttemptClosed("作答时间已到，已按之前保存的答案自动交卷，这次的答案没有保存。")


@dataclass
class _Finish:
    """What finishing an attempt writes, worked out from its saved answers."""

    attempt: dict[str, Any]
    responses: dict[int, tuple[str, ...]]
    grade: Grade
    mistakes: dict[int, int]  # question → the version got wrong
    known: list[dict[str, Any]]  # the cadre's 错题本 rows for those questions


async def _prepare_finish(
    attempt_id: int, now: datetime, attempt: dict[str, Any] | None = None, by: str = "cadre"
) -> _Finish:
    """Grade the attempt as its answers stand and look up its 错题本 rows (reads only).
    `attempt`, its row as the request already read it, saves reading it again."""
    if attempt is None:
        attempt = await _ATTEMPT.first(attempt_id)
    items = paper_of(attempt["paper"])
    responses = await saved_responses(attempt_id)
    grade = grade_paper(
        items,
        responses,
        pass_mark=attempt["pass_mark"] if attempt["pass_mark"] is not None else 0,
        full_marks=attempt["full_marks"] or 100,
        partial_credit=bool(attempt["partial_credit"]),
    )
    mistakes: dict[int, int] = {}
    known: list[dict[str, Any]] = []
    # The 错题本 shows answers and 解析: it collects mistakes only of papers whose review
    # shows them too, so a score-only quiz gives nothing away through it.
    version_at = {item.position: item.version_id for item in items}
    wrong = {version_at[r.position] for r in grade.items if not r.correct}
    if by == QUIZ_STARTED:  # practice left unfinished: only the questions answered wrongly
        given = {p for p, response in responses.items() if any(v.strip() for v in response)}
        wrong = {
            version_at[r.position] for r in grade.items if not r.correct and r.position in given
        }
    if wrong and review_shown(attempt, now, await review_closing(attempt, now)):
        rows = await _QUESTIONS_OF.rows(sorted(wrong))
        mistakes = {row["question"]: row["id"] for row in rows}
        known = await _KNOWN_MISTAKES.rows(attempt["account"], list(mistakes))
    return _Finish(attempt, responses, grade, mistakes, known)


async def _write_finish(finish: _Finish, by: str, now: datetime) -> None:
    """Close the attempt with its grade (the caller holds the attempt's row lock)."""
    attempt_id, grade = finish.attempt["id"], finish.grade
    await Attempt.update(
        {
            Attempt.status: "submitted" if by == "cadre" else "expired",
            Attempt.finished_at: now,
            Attempt.finished_by: by,
            Attempt.awarded: grade.awarded,
            Attempt.total: grade.total,
            Attempt.score: grade.score,
            Attempt.passed: grade.passed,
        }
    ).where(Attempt.id == attempt_id)
    marks: dict[tuple[bool, float], list[int]] = {}
    for result in grade.items:
        marks.setdefault((result.correct, result.awarded), []).append(result.position)
    for (correct, awarded), positions in marks.items():  # a few queries, not one per answer
        await Answer.update({Answer.correct: correct, Answer.awarded: awarded}).where(
            Answer.attempt == attempt_id, Answer.position.is_in(positions)
        )
    await _note_mistakes(finish, now)
    attempt = finish.attempt
    if grade.passed and not attempt["practice"] and attempt["quiz_id"] is not None:
        await credit_quiz_pass(attempt, grade.score, now)  # 学时: one statement


async def _finish_locked(attempt_id: int, by: str, now: datetime) -> Grade:
    """Grade and close an attempt whose row lock the caller holds."""
    finish = await _prepare_finish(attempt_id, now, by=by)
    await _write_finish(finish, by, now)
    return finish.grade


async def _note_mistakes(finish: _Finish, now: datetime) -> None:
    account_id, attempt_id = finish.attempt["account"], finish.attempt["id"]
    if finish.known:
        await Mistake.update(
            {
                Mistake.wrong_count: Mistake.wrong_count + 1,
                Mistake.attempt: attempt_id,
                Mistake.last_wrong_at: now,
                Mistake.mastered_at: None,
            }
        ).where(Mistake.id.is_in([row["id"] for row in finish.known]))
        for row in finish.known:  # the version got wrong this time
            await Mistake.update(
                {Mistake.question_version: finish.mistakes[row["question"]]}
            ).where(Mistake.id == row["id"])
    new = sorted(set(finish.mistakes) - {row["question"] for row in finish.known})
    if new:
        # One statement for all of them (Piccolo builds a row object for each, which costs
        # more than the insert); a finish running at the same time may have noted them.
        rows = ", ".join("({}, {}, {}, {}, 1, {}, NULL)" for _ in new)
        values = [
            v
            for question in new
            for v in (account_id, question, finish.mistakes[question], attempt_id, now)
        ]
        await Mistake.raw(_NEW_MISTAKES.format(rows=rows), *values)


async def finish_attempt(
    attempt_id: int, by: str, now: datetime, attempt: dict[str, Any] | None = None
) -> bool:
    """Finish an attempt in progress; False if it was already finished (the first result
    stands, so a double tap or a retried request records one result).

    The grading is worked out before the write lock is taken, so that the lock is held only
    for the writes; if an answer was saved meanwhile, it is worked out again under the lock."""
    finish = await _prepare_finish(attempt_id, now, attempt, by)
    if finish.attempt["status"] != IN_PROGRESS:
        return False
    async with write_transaction():
        if not await _lock_in_progress(attempt_id):
            return False
        if await saved_responses(attempt_id) != finish.responses:
            finish = await _prepare_finish(attempt_id, now, by=by)
        await _write_finish(finish, by, now)
    await _refresh(finish.attempt)  # a passed final quiz may complete a training
    return True


async def close_practice(account_id: int, now: datetime) -> int:
    """Finish the person's practice still open, as its answers stand, because a quiz has
    started: practice shows answers, so none stays open while a quiz is answered. Returns
    how many were closed."""
    rows = await _OPEN_PRACTICE.rows(account_id)
    closed = 0
    for row in rows:
        closed += await finish_attempt(row["id"], QUIZ_STARTED, now)
    return closed


async def _refresh(attempt: Mapping[str, Any]) -> None:
    """Recompute the progress of the trainings whose final quiz the finished attempt was
    (no other training's progress depends on it; practice counts for none); a failure here
    must not turn a finished attempt into an error page (the next lesson read or attempt
    recomputes it again)."""
    if attempt["practice"] or attempt["quiz_id"] is None:
        return
    try:
        await refresh_after_quiz(attempt["account"], attempt["quiz_id"])
    except Exception:
        logger.exception("更新培训进度失败：账号 %s", attempt["account"])


async def finish_if_expired(
    attempt_id: int, now: datetime, deadline: datetime | None = None
) -> bool:
    """Finish the attempt with its saved answers if its time (with the grace) is over.
    `deadline`, the attempt's deadline as the caller read it (a deadline never changes),
    spares reading it again while time is left."""
    if deadline is not None and not past_grace(deadline, now):
        return False
    row = (
        await Attempt.select(Attempt.deadline_at, Attempt.status)
        .where(Attempt.id == attempt_id)
        .first()
    )
    if row is None or row["status"] != IN_PROGRESS or not past_grace(row["deadline_at"], now):
        return False
    await finish_attempt(attempt_id, "deadline", now)
    return True


async def sweep_expired(now: datetime | None = None) -> int:
    """Finish every attempt past its deadline and grace; returns how many."""
    now = now or datetime.now(UTC)
    rows = await Attempt.select(Attempt.id).where(
        Attempt.status == IN_PROGRESS, Attempt.deadline_at < now - GRACE
    )
    finished = 0
    for row in rows:
        try:
            finished += await finish_attempt(row["id"], "sweep", now)
        except Exception:  # one attempt's trouble must not keep the others open
            logger.exception("结束超时答题失败：%s", row["id"])
    return finished


@asynccontextmanager
async def sweep_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Finish expired attempts every minute while the app runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await sweep_expired()
            except Exception:  # the next round tries again
                logger.exception("结束超时答题失败")

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
