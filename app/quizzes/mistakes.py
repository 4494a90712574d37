"""The mistake book (错题本): every question a cadre answered wrongly, practice over it or
over a module's bank (untimed, not counted), and marking a question as mastered. Both show
answers: neither is open while the cadre answers a quiz (`answers_hidden_for`)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.banks.store import VERSION_COLUMNS, question_of
from app.db import write_transaction
from app.lib.forms import FormBody
from app.lib.parsing import valid_id
from app.quizzes.answering import answers_hidden_for, close_practice
from app.quizzes.core import (
    DrawRule,
    PaperItem,
    PoolQuestion,
    correct_response,
    draw_paper,
    paper_json,
    paper_of,
)
from app.quizzes.definitions import quiz_pool
from app.tables import Answer, Attempt, Bank, Mistake, QuestionVersion, User

PRACTICE_SIZE = 20


async def open_mistakes(account_id: int, *, mastered: bool = False) -> list[dict[str, Any]]:
    query = Mistake.select(
        Mistake.id,
        Mistake.question,
        Mistake.question_version,
        Mistake.attempt,
        Mistake.wrong_count,
        Mistake.last_wrong_at,
        Mistake.mastered_at,
        Mistake.question.key.as_alias("key"),
        Mistake.question.bank.title.as_alias("bank_title"),
        Mistake.question_version.type.as_alias("type"),
        Mistake.question_version.stem.as_alias("stem"),
        Mistake.question_version.options.as_alias("options"),
        Mistake.question_version.answer.as_alias("answer"),
        Mistake.question_version.blanks.as_alias("blanks"),
        Mistake.question_version.explanation.as_alias("explanation"),
        Mistake.question_version.source_ref.as_alias("source_ref"),
    ).where(Mistake.account == account_id)
    if mastered:
        query = query.where(Mistake.mastered_at.is_not_null())
    else:
        query = query.where(Mistake.mastered_at.is_null())
    return await query.order_by(Mistake.last_wrong_at, ascending=False)


def _answer_text(item: PaperItem) -> str:
    if item.type == "fill_blank":
        return "；".join(" / ".join(accepted) for accepted in item.blanks)
    return "".join(item.answer)


def _bank_item(row: dict[str, Any]) -> PaperItem:
    """The question as its bank has it, for a mistake whose paper no longer has it."""
    options = tuple(json.loads(row["options"]))
    return PaperItem(
        position=0,
        version_id=row["question_version"],
        key=row["key"],
        type=row["type"],
        stem=row["stem"],
        options=options,
        option_order=tuple(range(len(options))),
        answer=tuple(json.loads(row["answer"])),
        blanks=tuple(tuple(b) for b in json.loads(row["blanks"])),
        points=0,
        explanation=row["explanation"],
        source_ref=row["source_ref"],
    )


async def as_on_the_paper(rows: list[dict[str, Any]]) -> None:
    """Give each mistake the question as the paper it was last got wrong on showed it: the
    options in that paper's order and letters (`item`), and the cadre's answer there
    (`response`), so the mistake book reads like the result page."""
    attempt_ids = sorted({row["attempt"] for row in rows})
    papers = {
        row["id"]: row["paper"]
        for row in await Attempt.select(Attempt.id, Attempt.paper).where(
            Attempt.id.is_in(attempt_ids or [0])
        )
    }
    answers = {
        (row["attempt"], row["question_version"]): row
        for row in await Answer.select(
            Answer.attempt, Answer.question_version, Answer.position, Answer.response
        ).where(Answer.attempt.is_in(attempt_ids or [0]))
    }
    items: dict[tuple[int, int], PaperItem] = {}
    for attempt_id, text in papers.items():
        for item in paper_of(text):
            items[(attempt_id, item.version_id)] = item
    for row in rows:
        where = (row["attempt"], row["question_version"])
        item = items.get(where) or _bank_item(row)
        answer = answers.get(where)
        row["item"] = item
        row["response"] = tuple(json.loads(answer["response"])) if answer else ()
        row["correct"] = correct_response(item)
        row["answer_text"] = _answer_text(item)
        row["explanation"] = item.explanation or row["explanation"]


@get("/mistakes", name="mistakes")
async def mistakes_page(request: Request, show: FromQuery[str] = "open") -> Template:
    user: User = request.user
    hidden_by = await answers_hidden_for(user.id, datetime.now(UTC))
    if hidden_by is not None:
        return Template(
            "quizzes/mistakes.html",
            context={"mistakes": [], "show": show, "banks": [], "hidden_by": hidden_by},
        )
    rows = await open_mistakes(user.id, mastered=show == "mastered")
    await as_on_the_paper(rows)
    banks = (
        await Bank.select(Bank.slug, Bank.title)
        .where(Bank.active.eq(True))
        .order_by(Bank.module.sort_order)
    )
    return Template(
        "quizzes/mistakes.html",
        context={"mistakes": rows, "show": show, "banks": banks, "hidden_by": None},
    )


@post("/mistakes/{mistake_id:int}/mastered", name="mistake_mastered")
async def mistake_mastered(request: Request, mistake_id: FromPath[int]) -> Redirect:
    user: User = request.user
    done = []
    if valid_id(mistake_id):
        done = (
            await Mistake.update({Mistake.mastered_at: datetime.now(UTC)})
            .where(Mistake.id == mistake_id, Mistake.account == user.id)
            .returning(Mistake.id)
        )
    if not done:
        raise NotFoundException("没有找到这道错题。")
    flash(request, "已标为已掌握，这道题不再出现在错题本里。", "success")
    return Redirect(request.app.route_reverse("mistakes"))


async def practice_pool(user: User, source: str) -> list[PoolQuestion]:
    """The questions a practice draws from: the open mistakes, or a bank's active ones."""
    if source == "mistakes":
        question_ids = [row["question"] for row in await open_mistakes(user.id)]
        if not question_ids:
            return []
        rows = await QuestionVersion.select(
            *VERSION_COLUMNS, QuestionVersion.question.bank.slug.as_alias("bank")
        ).where(
            QuestionVersion.question.is_in(question_ids),
            QuestionVersion.is_current.eq(True),
            QuestionVersion.question.active.eq(True),
        )
        return [PoolQuestion(r["id"], r["bank"], question_of(r["key"], r)) for r in rows]
    return await quiz_pool((DrawRule("single", 1, 1, banks=(source,)),))


@post("/practice", name="practice_start")
async def practice_start(request: Request, data: FormBody) -> Redirect:
    user: User = request.user
    source = (data.get("source") or "mistakes")[:100]
    if await answers_hidden_for(user.id, datetime.now(UTC)) is not None:
        # Practice shows answers: not while a quiz is being answered.
        flash(request, "您有一个测验还没有交卷，交卷后才能练习。", "info")
        return Redirect(request.app.route_reverse("mistakes"))
    pool = await practice_pool(user, source)
    if not pool:
        flash(request, "没有可以练习的题目。", "info")
        return Redirect(request.app.route_reverse("mistakes"))
    rng = random.Random()
    picked = rng.sample(pool, min(PRACTICE_SIZE, len(pool)))
    counts = Counter(entry.question.type for entry in picked)
    rules = tuple(DrawRule(kind, n, 1.0) for kind, n in counts.items())
    paper = draw_paper(picked, rules, rng, shuffle_questions=True, shuffle_options=True)
    attempt = Attempt(
        quiz=None, account=user.id, practice=True, practice_source=source, paper=paper_json(paper)
    )
    async with write_transaction():
        await attempt.save()
    if await answers_hidden_for(user.id, datetime.now(UTC)) is not None:
        # A quiz started meanwhile, after it closed the open practice: this one is closed too.
        await close_practice(user.id, datetime.now(UTC))
    return Redirect(request.app.route_reverse("attempt", attempt_id=attempt.id))


router = Router(path="/", route_handlers=[mistakes_page, mistake_mastered, practice_start])
