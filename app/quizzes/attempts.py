"""Taking a quiz: the attempt page, saving answers as they are given, submitting once,
finishing attempts past their deadline, and the result with its review.

An answer is acknowledged only after it is stored. Saving and finishing both take the
attempt row's lock first (a no-op UPDATE … WHERE status = 'in_progress'), so an answer is
either stored before the attempt is graded, or refused with a message: never lost between.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.guards import in_scope
from app.banks.model import LETTERS
from app.db import write_transaction
from app.quizzes.core import (
    REVIEW_POLICIES,
    Grade,
    PaperItem,
    ResponseError,
    clean_response,
    correct_response,
    grade_paper,
    is_answered,
    unanswered_positions,
)
from app.quizzes.definitions import GRACE, IN_PROGRESS, paper_of
from app.tables import Answer, Attempt, AttemptEvent, Lesson, Mistake, QuestionVersion, User
from app.trainings.progress import refresh_account

logger = logging.getLogger("peixun")
SWEEP_EVERY = 60  # seconds
STAFF_ROLES = ("trainer", "federation_admin")

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
    Attempt.account.name.as_alias("account_name"),
    Attempt.account.unit.path.as_alias("unit_path"),
)


class AttemptClosed(Exception):
    """Answers sent to an attempt that is no longer in progress; the message is Chinese."""


# ---------------------------------------------------------------- loading


async def load_attempt(user: User, attempt_id: int, *, own: bool = True) -> dict[str, Any]:
    """The attempt, if it is the person's own; staff may also read (own=False) attempts of
    cadres in their scope. Anyone else gets 404, so an attempt's existence is not revealed."""
    attempt = None
    if 0 < attempt_id < 2**31:
        attempt = await Attempt.select(*ATTEMPT_COLUMNS).where(Attempt.id == attempt_id).first()
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
    rows = await Answer.select(Answer.position, Answer.response).where(Answer.attempt == attempt_id)
    return {row["position"]: tuple(json.loads(row["response"])) for row in rows}


def bank_choice(item: PaperItem, response: tuple[str, ...]) -> str:
    """The options chosen, in the bank's letters (the paper may have shuffled them)."""
    if item.type in ("single", "multiple"):
        return "".join(sorted(LETTERS[item.option_order[LETTERS.index(r)]] for r in response))
    return "".join(response) if item.type == "true_false" else ""


# ---------------------------------------------------------------- saving and finishing


async def _lock_in_progress(attempt_id: int) -> dict[str, Any] | None:
    """Take the attempt's row lock if it is still in progress (inside a write transaction)."""
    rows = (
        await Attempt.update({Attempt.status: IN_PROGRESS})
        .where(Attempt.id == attempt_id, Attempt.status == IN_PROGRESS)
        .returning(Attempt.id, Attempt.deadline_at, Attempt.account)
    )
    return rows[0] if rows else None


def _past_grace(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline + GRACE


async def save_responses(
    attempt: Mapping[str, Any], responses: Mapping[int, tuple[str, ...]], now: datetime
) -> None:
    """Store answers; raises AttemptClosed if the attempt is finished or past its deadline
    (then it is finished with what was saved before)."""
    items = {item.position: item for item in paper_of(attempt["paper"])}
    late = False
    async with write_transaction():
        locked = await _lock_in_progress(attempt["id"])
        if locked is None:
            raise AttemptClosed("本次测验已经交卷，这次的答案没有保存。")
        if _past_grace(locked["deadline_at"], now):
            await _finish_locked(attempt["id"], "deadline", now)
            late = True  # committed below; raising here would roll the finishing back
            responses = {}
        for position, response in responses.items():
            item = items[position]
            await Answer.insert(
                Answer(
                    attempt=attempt["id"],
                    position=position,
                    question_version=item.version_id,
                    response=json.dumps(list(response), ensure_ascii=False),
                    choice=bank_choice(item, response),
                    saved_at=now,
                )
            ).on_conflict(
                target=(Answer.attempt, Answer.position),
                action="DO UPDATE",
                values=[Answer.response, Answer.choice, Answer.saved_at],
            )
    if late:
        await _refresh(attempt["account"])
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
    attempt_id: int, now: datetime, attempt: dict[str, Any] | None = None
) -> _Finish:
    """Grade the attempt as its answers stand and look up its 错题本 rows (reads only).
    `attempt`, its row as the request already read it, saves reading it again."""
    if attempt is None:
        attempt = await Attempt.select(*ATTEMPT_COLUMNS).where(Attempt.id == attempt_id).first()
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
    if wrong and review_shown(attempt, now):
        rows = await QuestionVersion.select(QuestionVersion.id, QuestionVersion.question).where(
            QuestionVersion.id.is_in(sorted(wrong))
        )
        mistakes = {row["question"]: row["id"] for row in rows}
        known = await Mistake.select(Mistake.id, Mistake.question).where(
            Mistake.account == attempt["account"], Mistake.question.is_in(list(mistakes))
        )
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


async def _finish_locked(attempt_id: int, by: str, now: datetime) -> Grade:
    """Grade and close an attempt whose row lock the caller holds."""
    finish = await _prepare_finish(attempt_id, now)
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
    new = set(finish.mistakes) - {row["question"] for row in finish.known}
    if new:
        await Mistake.insert(
            *(
                Mistake(
                    account=account_id,
                    question=question,
                    question_version=finish.mistakes[question],
                    attempt=attempt_id,
                    last_wrong_at=now,
                )
                for question in sorted(new)
            )
        ).on_conflict(action="DO NOTHING")  # a finish running at the same time noted it


async def finish_attempt(
    attempt_id: int, by: str, now: datetime, attempt: dict[str, Any] | None = None
) -> bool:
    """Finish an attempt in progress; False if it was already finished (the first result
    stands, so a double tap or a retried request records one result).

    The grading is worked out before the write lock is taken, so that the lock is held only
    for the writes; if an answer was saved meanwhile, it is worked out again under the lock."""
    finish = await _prepare_finish(attempt_id, now, attempt)
    if finish.attempt["status"] != IN_PROGRESS:
        return False
    async with write_transaction():
        locked = await _lock_in_progress(attempt_id)
        if locked is None:
            return False
        if await saved_responses(attempt_id) != finish.responses:
            finish = await _prepare_finish(attempt_id, now)
        await _write_finish(finish, by, now)
    await _refresh(locked["account"])  # a passed final quiz may complete a training
    return True


async def _refresh(account_id: int) -> None:
    """Recompute the cadre's training progress; a failure here must not turn a finished
    attempt into an error page (the next lesson read or attempt recomputes it again)."""
    try:
        await refresh_account(account_id)
    except Exception:
        logger.exception("更新培训进度失败：账号 %s", account_id)


async def finish_if_expired(attempt_id: int, now: datetime) -> bool:
    """Finish the attempt with its saved answers if its time (with the grace) is over."""
    row = (
        await Attempt.select(Attempt.deadline_at, Attempt.status)
        .where(Attempt.id == attempt_id)
        .first()
    )
    if row is None or row["status"] != IN_PROGRESS or not _past_grace(row["deadline_at"], now):
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


# ---------------------------------------------------------------- reading the form


def responses_from_form(
    items: Mapping[int, PaperItem], form: Any, *, whole_form: bool
) -> dict[int, tuple[str, ...]]:
    """The answers in a submitted form (fields q1, q2, …). Raises ResponseError for a question
    not on the paper or an answer it can't take. With `whole_form`, every question of the
    page is taken as answered as the form shows it (an empty field clears it)."""
    responses: dict[int, tuple[str, ...]] = {}
    for name in form:
        if not name.startswith("q"):
            continue
        if not _POSITION.fullmatch(name[1:]) or int(name[1:]) not in items:
            raise ResponseError(f"第 {name[1:][:6]} 题不在这份试卷上，答案没有保存。")
        position = int(name[1:])
        responses[position] = clean_response(items[position], form.getall(name))
    if whole_form:
        shown = [int(p) for p in form.get("positions", "").split(",") if _POSITION.fullmatch(p)]
        for position in shown:
            if position in items and position not in responses:
                responses[position] = ()
        # Only what changed on this page is written: an answer saved meanwhile from another
        # device is not overwritten by this page's older copy of it.
        for position in list(responses):
            if _shown_then(form.get(f"was{position}")) == list(responses[position]):
                del responses[position]
    return responses


_POSITION = re.compile(r"[0-9]{1,4}")


def _shown_then(value: str | None) -> list[str] | None:
    """The saved answer a page was drawn with (its `was` field, JSON), if it sent one."""
    try:
        shown = json.loads(value) if value else None
    except ValueError:
        return None
    return shown if isinstance(shown, list) else None


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    return None if deadline is None else max(0, int((deadline - now).total_seconds()))


# ---------------------------------------------------------------- pages


def shown_items(items: tuple[PaperItem, ...]) -> list[dict[str, Any]]:
    """What the page may know of each question while the attempt is in progress: no answer,
    no 解析, no bank letters."""
    return [
        {"position": i.position, "type": i.type, "stem": i.stem, "options": i.options}
        for i in items
    ]


@get("/attempts/{attempt_id:int}", name="attempt")
async def attempt_page(request: Request, attempt_id: FromPath[int]) -> Template | Redirect:
    attempt = await load_attempt(request.user, attempt_id)
    now = datetime.now(UTC)
    if attempt["status"] == IN_PROGRESS and await finish_if_expired(attempt["id"], now):
        flash(request, "作答时间已到，已按保存的答案自动交卷。", "info")
        attempt["status"] = "expired"
    if attempt["status"] != IN_PROGRESS:
        return Redirect(request.app.route_reverse("attempt_result", attempt_id=attempt["id"]))
    items = paper_of(attempt["paper"])
    responses = await saved_responses(attempt["id"])
    return Template(
        "quizzes/attempt.html",
        context={
            "attempt": attempt,
            "items": shown_items(items),
            "responses": responses,
            "answered": [
                i.position for i in items if is_answered(i, responses.get(i.position, ()))
            ],
            "seconds_left": _seconds_left(attempt["deadline_at"], now),
            "positions": ",".join(str(i.position) for i in items),
        },
    )


@post("/attempts/{attempt_id:int}/answers", name="attempt_answers", status_code=200)
async def attempt_answers(request: Request, attempt_id: FromPath[int]) -> Response | Redirect:
    attempt = await load_attempt(request.user, attempt_id)
    items = {item.position: item for item in paper_of(attempt["paper"])}
    now = datetime.now(UTC)
    form = await request.form()
    try:
        responses = responses_from_form(items, form, whole_form=not _wants_json(request))
        await save_responses(attempt, responses, now)
    except (ResponseError, AttemptClosed) as refused:
        status = 409 if isinstance(refused, AttemptClosed) else 400
        if _wants_json(request):
            return Response({"ok": False, "message": str(refused)}, status_code=status)
        flash(request, str(refused), "error")
        return Redirect(request.app.route_reverse("attempt", attempt_id=attempt["id"]))
    if _wants_json(request):
        return Response(
            {
                "ok": True,
                "saved": sorted(responses),
                "seconds_left": _seconds_left(attempt["deadline_at"], now),
            }
        )
    flash(request, f"已保存 {len(responses)} 题的答案。", "success")
    return Redirect(request.app.route_reverse("attempt", attempt_id=attempt["id"]))


@post("/attempts/{attempt_id:int}/submit", name="attempt_submit", status_code=200)
async def attempt_submit(request: Request, attempt_id: FromPath[int]) -> Template | Redirect:
    attempt = await load_attempt(request.user, attempt_id)
    result_url = request.app.route_reverse("attempt_result", attempt_id=attempt["id"])
    items = paper_of(attempt["paper"])
    now = datetime.now(UTC)
    form = await request.form()
    if attempt["status"] != IN_PROGRESS:
        return Redirect(result_url)
    # Answers sent along (the whole form without JavaScript, or those still pending in the
    # page) are saved first.
    if any(name.startswith("q") for name in form) or form.get("positions"):
        try:
            whole = bool(form.get("positions"))
            responses = responses_from_form({i.position: i for i in items}, form, whole_form=whole)
            await save_responses(attempt, responses, now)
        except AttemptClosed:
            return Redirect(result_url)
        except ResponseError as refused:
            flash(request, str(refused), "error")
            return Redirect(request.app.route_reverse("attempt", attempt_id=attempt["id"]))
    if form.get("confirm") != "1":
        missing = unanswered_positions(items, await saved_responses(attempt["id"]))
        if missing:
            return Template(
                "quizzes/confirm_submit.html", context={"attempt": attempt, "missing": missing}
            )
    # Time up: finished with the saved answers. Finished already: the first result stands.
    by = "deadline" if _past_grace(attempt["deadline_at"], now) else "cadre"
    await finish_attempt(attempt["id"], by, now, attempt)
    return Redirect(result_url)


@post("/attempts/{attempt_id:int}/events", name="attempt_event", status_code=204)
async def attempt_event(request: Request, attempt_id: FromPath[int]) -> None:
    """The page reports that the cadre left it or came back; logged, never blocking."""
    attempt = await load_attempt(request.user, attempt_id)
    kind = (await request.form()).get("kind")
    if kind not in ("leave", "return") or attempt["status"] != IN_PROGRESS:
        return
    async with write_transaction():
        await AttemptEvent.insert(AttemptEvent(attempt=attempt["id"], kind=kind))
        if kind == "leave":
            await Attempt.update({Attempt.page_leaves: Attempt.page_leaves + 1}).where(
                Attempt.id == attempt["id"]
            )


def review_shown(attempt: Mapping[str, Any], now: datetime) -> bool:
    """Whether the answers and 解析 may be shown, per the quiz's review policy."""
    if attempt["practice"] or attempt["quiz_id"] is None:
        return True
    policy = attempt["review"]
    if policy == "score_only":
        return False
    if policy == "after_close":
        # Answers may still arrive in the grace after the close: not shown before it ends.
        return attempt["closes_at"] is not None and now >= attempt["closes_at"] + GRACE
    return True


async def passage_links(request: Request, items: tuple[PaperItem, ...]) -> dict[int, str]:
    """Position → URL of the lesson passage each question cites."""
    versions = await QuestionVersion.select(
        QuestionVersion.id, QuestionVersion.question.bank.module.slug.as_alias("module")
    ).where(QuestionVersion.id.is_in([i.version_id for i in items] or [0]))
    module_of = {row["id"]: row["module"] for row in versions}
    lessons = await Lesson.select(
        Lesson.slug, Lesson.source_ref, Lesson.module.slug.as_alias("module")
    ).where(Lesson.module.slug.is_in(sorted({m for m in module_of.values() if m}) or [""]))
    lesson_of = {(row["module"], row["source_ref"]): row["slug"] for row in lessons}
    links = {}
    for item in items:
        module = module_of.get(item.version_id)
        slug = lesson_of.get((module, item.source_ref))
        if slug:
            links[item.position] = request.app.route_reverse(
                "lesson", module_slug=module, lesson_slug=slug
            )
    return links


@get("/attempts/{attempt_id:int}/result", name="attempt_result")
async def attempt_result(request: Request, attempt_id: FromPath[int]) -> Template | Redirect:
    attempt = await load_attempt(request.user, attempt_id, own=False)
    now = datetime.now(UTC)
    if attempt["status"] == IN_PROGRESS and not await finish_if_expired(attempt["id"], now):
        return Redirect(request.app.route_reverse("attempt", attempt_id=attempt["id"]))
    attempt = await load_attempt(request.user, attempt_id, own=False)
    items = paper_of(attempt["paper"])
    responses = await saved_responses(attempt["id"])
    shown = review_shown(attempt, now)
    answers = await Answer.select(Answer.position, Answer.correct, Answer.awarded).where(
        Answer.attempt == attempt["id"]
    )
    marks = {row["position"]: row for row in answers}
    return Template(
        "quizzes/result.html",
        context={
            "attempt": attempt,
            "items": items if shown else (),
            "responses": responses,
            "marks": marks,
            "correct": {i.position: correct_response(i) for i in items} if shown else {},
            "links": await passage_links(request, items) if shown else {},
            "review_shown": shown,
            "review_policy": REVIEW_POLICIES.get(attempt["review"] or "", ""),
            "wrong_count": sum(1 for m in marks.values() if not m["correct"])
            + len(items)
            - len(marks),
        },
    )


router = Router(
    path="/",
    route_handlers=[attempt_page, attempt_answers, attempt_submit, attempt_event, attempt_result],
)
