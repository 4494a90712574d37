"""我的成绩: every quiz a person may take or has taken, with the score that counts (by the
quiz's counted-attempt rule, `core.counted_attempt`), the attempts used and left (with the
person's 补考/延期, `app/quizzes/allowance.py`), and a link to each finished attempt's result.
Scores only: no answer or 解析 is on this page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from app.quizzes.allowance import allowance, override_of
from app.quizzes.core import COUNTED_POLICIES, IN_PROGRESS, counted_attempt
from app.quizzes.overrides import overrides_of
from app.tables import Attempt, Quiz


async def quiz_scores(account_id: int) -> list[dict[str, Any]]:
    """One entry per quiz open to cadres or attempted by the person, in the course's order
    (quizzes without a module last): its finished attempts in the order finished, the one
    that counts, the attempts used and left, and the attempt in progress if any."""
    attempts = await (
        Attempt.select(
            Attempt.id,
            Attempt.quiz,
            Attempt.status,
            Attempt.score,
            Attempt.passed,
            Attempt.finished_at,
            Attempt.finished_by,
        )
        .where(
            Attempt.account == account_id,
            Attempt.practice.eq(False),
            Attempt.quiz.is_not_null(),
        )
        .order_by(Attempt.finished_at)
        .order_by(Attempt.id)
    )
    attempted = sorted({row["quiz"] for row in attempts})
    open_to_cadres = Quiz.active.eq(True) & Quiz.published.eq(True)
    quizzes = await Quiz.select(
        Quiz.id,
        Quiz.slug,
        Quiz.title,
        Quiz.max_attempts,
        Quiz.time_limit_minutes,
        Quiz.opens_at,
        Quiz.closes_at,
        Quiz.override_count,
        Quiz.counted_attempt,
        Quiz.pass_mark,
        Quiz.full_marks,
        Quiz.active,
        Quiz.published,
        Quiz.module.title.as_alias("module_title"),
        Quiz.module.sort_order.as_alias("module_order"),
    ).where(open_to_cadres | Quiz.id.is_in(attempted) if attempted else open_to_cadres)
    quizzes.sort(
        key=lambda q: (q["module_order"] is None, q["module_order"] or 0, q["title"], q["id"])
    )
    overrides = await overrides_of(account_id, quizzes)
    for quiz in quizzes:
        mine = [row for row in attempts if row["quiz"] == quiz["id"]]
        done = [row for row in mine if row["status"] != IN_PROGRESS]
        counted_id = counted_attempt(
            [(row["id"], row["score"] or 0) for row in done], quiz["counted_attempt"]
        )
        quiz["attempts"] = done
        quiz["counted"] = next((row for row in done if row["id"] == counted_id), None)
        quiz["counted_rule"] = COUNTED_POLICIES.get(quiz["counted_attempt"], "")
        quiz["used"] = len(done)
        allowed = allowance(quiz, override_of(overrides.get(quiz["id"])))
        quiz["allowed"] = allowed
        quiz["override"] = overrides.get(quiz["id"]) if allowed.extended else None
        quiz["left"] = allowed.attempts_left(len(done))
        quiz["current"] = next((row for row in mine if row["status"] == IN_PROGRESS), None)
        quiz["open"] = bool(quiz["active"] and quiz["published"])
    return quizzes


@get("/my/scores", name="my_scores")
async def my_scores(request: Request) -> Template:
    return Template(
        "quizzes/my_scores.html", context={"quizzes": await quiz_scores(request.user.id)}
    )


route_handlers = [my_scores]
