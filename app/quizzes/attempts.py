"""Taking a quiz, the pages: the attempt page, saving answers from the form or from fetch,
submitting, leaving the page, and the result with its review. The work behind them (storing
answers, finishing once) is `app.quizzes.answering`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.db import write_transaction
from app.quizzes.answering import (
    AttemptClosed,
    answers_hidden_for,
    finish_attempt,
    finish_if_expired,
    load_attempt,
    past_grace,
    review_closing,
    review_shown,
    save_responses,
    saved_responses,
)
from app.quizzes.core import (
    IN_PROGRESS,
    REVIEW_POLICIES,
    PaperItem,
    ResponseError,
    clean_response,
    correct_response,
    is_answered,
    paper_of,
    unanswered_positions,
)
from app.quizzes.definitions import finished_attempts, in_progress, window_problem
from app.quizzes.overrides import allowance_for
from app.quizzes.paper_html import question_fragments
from app.tables import Answer, Attempt, AttemptEvent, Lesson, Module, QuestionVersion, Quiz

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
    if attempt["status"] == IN_PROGRESS and await finish_if_expired(
        attempt["id"], now, attempt["deadline_at"]
    ):
        flash(request, "作答时间已到，已按保存的答案自动交卷。", "info")
        attempt["status"] = "expired"
    if attempt["status"] != IN_PROGRESS:
        return Redirect(request.app.route_reverse("attempt_result", attempt_id=attempt["id"]))
    items = paper_of(attempt["paper"])
    responses = await saved_responses(attempt["id"])
    shown = shown_items(items)
    return Template(
        "quizzes/attempt.html",
        context={
            "attempt": attempt,
            "items": shown,
            "questions": question_fragments(shown, responses),
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
    by = "deadline" if past_grace(attempt["deadline_at"], now) else "cadre"
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


async def next_try(attempt: Mapping[str, Any], account_id: int, now: datetime) -> dict | None:
    """What the result of a quiz offers its cadre next: 再答一次 with the attempts left, the
    attempt still in progress, or why no other attempt can be made. None for practice, for
    someone else's result, or a quiz no longer open to cadres."""
    if attempt["practice"] or attempt["quiz_id"] is None or attempt["account"] != account_id:
        return None
    quiz = (
        await Quiz.select(
            Quiz.id,
            Quiz.slug,
            Quiz.max_attempts,
            Quiz.time_limit_minutes,
            Quiz.opens_at,
            Quiz.closes_at,
            Quiz.override_count,
        )
        .where(Quiz.id == attempt["quiz_id"], Quiz.active.eq(True), Quiz.published.eq(True))
        .first()
    )
    if quiz is None:
        return None
    used = len(await finished_attempts(quiz["id"], account_id))
    allowed, _ = await allowance_for(quiz, account_id)  # with the cadre's 补考/延期
    return {
        "quiz_slug": quiz["slug"],
        "used": used,
        "max": allowed.max_attempts,
        "left": allowed.attempts_left(used),
        "current": await in_progress(quiz["id"], account_id),
        "closed": window_problem(quiz, now, allowed),
    }


async def next_module(quiz_id: int | None) -> dict | None:
    """The course module after the quiz's own, in the course's order."""
    if quiz_id is None:
        return None
    quiz = await Quiz.select(Quiz.module).where(Quiz.id == quiz_id).first()
    if quiz is None or quiz["module"] is None:
        return None
    modules = (
        await Module.select(Module.id, Module.slug, Module.title)
        .where(Module.active.eq(True))
        .order_by(Module.sort_order, Module.id)
    )
    ids = [row["id"] for row in modules]
    if quiz["module"] not in ids or ids.index(quiz["module"]) + 1 >= len(ids):
        return None
    return modules[ids.index(quiz["module"]) + 1]


@get("/attempts/{attempt_id:int}/result", name="attempt_result")
async def attempt_result(request: Request, attempt_id: FromPath[int]) -> Template | Redirect:
    attempt = await load_attempt(request.user, attempt_id, own=False)
    now = datetime.now(UTC)
    if attempt["status"] == IN_PROGRESS and not await finish_if_expired(
        attempt["id"], now, attempt["deadline_at"]
    ):
        return Redirect(request.app.route_reverse("attempt", attempt_id=attempt["id"]))
    attempt = await load_attempt(request.user, attempt_id, own=False)
    items = paper_of(attempt["paper"])
    responses = await saved_responses(attempt["id"])
    # While the reader answers a quiz, no result shows answers (practice, earlier attempts).
    hidden_by = await answers_hidden_for(request.user.id, now)
    shown = hidden_by is None and review_shown(attempt, now, await review_closing(attempt, now))
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
            "hidden_by": hidden_by,
            "review_policy": REVIEW_POLICIES.get(attempt["review"] or "", ""),
            "wrong_count": sum(1 for m in marks.values() if not m["correct"])
            + len(items)
            - len(marks),
            "right_count": sum(1 for m in marks.values() if m["correct"]),
            "question_count": len(items),
            "next_try": await next_try(attempt, request.user.id, now),
            "next_module": await next_module(attempt["quiz_id"]),
        },
    )


router = Router(
    path="/",
    route_handlers=[attempt_page, attempt_answers, attempt_submit, attempt_event, attempt_result],
)
