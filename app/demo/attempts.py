"""Demo attempts: some demo cadres have taken the module quizzes (passed, failed, or still
answering), so every trainer view has something to show. Made with the real drawing,
saving and grading code, from a seeded random generator."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from app.db import write_transaction
from app.quizzes.answering import bank_choice, finish_attempt
from app.quizzes.core import PaperItem, correct_response, draw_paper, paper_json, rules_of
from app.quizzes.definitions import quiz_pool
from app.tables import Answer, Attempt, Quiz, User

TAKERS_PER_QUIZ = 40
IN_PROGRESS_PER_QUIZ = 3


def _response(item: PaperItem, skill: float, rng: random.Random) -> tuple[str, ...]:
    """A cadre's answer: right with probability `skill`, else a plausible wrong one."""
    if rng.random() < skill:
        return correct_response(item)
    if item.type == "true_false":
        return ("错",) if item.answer == ("对",) else ("对",)
    if item.type == "fill_blank":
        return tuple(rng.choice(("不清楚", "职工", "改革")) for _ in item.blanks)
    letters = "ABCDEFGH"[: len(item.options)]
    wrong = [letter for letter in letters if letter not in item.answer] or list(letters)
    if item.type == "single":
        return (rng.choice(wrong),)
    return tuple(sorted({rng.choice(wrong), *item.answer[:1]}))


async def take_quiz(
    quiz: dict, account_id: int, skill: float, started: datetime, rng: random.Random, *, finish
) -> None:
    rules = rules_of(quiz["rules"])
    paper = draw_paper(await quiz_pool(rules), rules, rng, True, True)
    limit = timedelta(minutes=quiz["time_limit_minutes"] or 30)
    attempt = Attempt(
        quiz=quiz["id"],
        account=account_id,
        paper=paper_json(paper),
        started_at=started,
        deadline_at=started + limit if quiz["time_limit_minutes"] else None,
    )
    answered = paper if finish else paper[: max(1, len(paper) // 3)]
    async with write_transaction():
        await attempt.save()
        rows = []
        for item in answered:
            response = _response(item, skill, rng)
            rows.append(
                Answer(
                    attempt=attempt.id,
                    position=item.position,
                    question_version=item.version_id,
                    response=json.dumps(list(response), ensure_ascii=False),
                    choice=bank_choice(item, response),
                    saved_at=started + timedelta(minutes=1),
                )
            )
        await Answer.insert(*rows)
    if finish:
        await finish_attempt(attempt.id, "cadre", started + timedelta(minutes=rng.randint(6, 18)))


async def load_demo_attempts(seed: int = 2023) -> int:
    """Attempts at every module quiz by demo cadres; returns how many were made."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    quizzes = await Quiz.select().where(Quiz.module.is_not_null(), Quiz.active.eq(True))
    cadres = [
        row["id"]
        for row in await User.select(User.id)
        .where(User.role == "cadre", User.username != "cadre")
        .order_by(User.id)
    ]
    demo = await User.select(User.id).where(User.username == "cadre").first()
    made = 0
    for quiz in sorted(quizzes, key=lambda q: q["slug"]):
        for account_id in rng.sample(cadres, min(TAKERS_PER_QUIZ, len(cadres))):
            started = now - timedelta(days=rng.randint(1, 12), minutes=rng.randint(0, 600))
            await take_quiz(quiz, account_id, rng.uniform(0.55, 1.0), started, rng, finish=True)
            made += 1
        for account_id in rng.sample(cadres, IN_PROGRESS_PER_QUIZ):
            if not await Attempt.exists().where(
                Attempt.quiz == quiz["id"], Attempt.account == account_id
            ):
                started = now - timedelta(minutes=rng.randint(1, 5))
                await take_quiz(quiz, account_id, 0.8, started, rng, finish=False)
                made += 1
    first = next((q for q in quizzes if q["slug"] == "xuexi-daodu-quiz"), None)
    if demo and first:
        # The demo cadre failed once and then passed: the result page, the mistake book
        # and the quiz page's history all have something to show.
        await take_quiz(first, demo["id"], 0.4, now - timedelta(days=3), rng, finish=True)
        await take_quiz(first, demo["id"], 1.0, now - timedelta(days=2), rng, finish=True)
        made += 2
    return made
