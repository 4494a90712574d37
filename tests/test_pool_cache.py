"""The question pool a process keeps between papers: reused while nothing changed, read
again after any change to questions, versions, banks or reviews, whichever process (or a
statement outside the app) made it."""

from __future__ import annotations

import app.quizzes.definitions as definitions
from app.db import DB
from app.quizzes.core import DrawRule
from app.quizzes.definitions import quiz_pool
from app.tables import Bank, Question, QuestionReview, QuestionVersion

RULES = (DrawRule("single", 1, 1),)


def counting(monkeypatch) -> list[int]:
    reads: list[int] = []
    real = definitions._read_pool

    async def read(*args, **kwargs):
        reads.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(definitions, "_read_pool", read)
    return reads


async def keys() -> set[str]:
    return {q.question.key for q in await quiz_pool(RULES)}


async def test_the_pool_is_kept_until_something_changes(content, monkeypatch):
    reads = counting(monkeypatch)
    first = await keys()
    assert first and len(reads) == 1
    assert await keys() == first and len(reads) == 1  # kept

    question = await Question.select(Question.id, Question.key).first()
    # A change made outside this process's code: a plain statement.
    await DB.run_ddl(f'UPDATE "question" SET "active" = false WHERE "id" = {question["id"]}')
    assert await keys() == first - {question["key"]} and len(reads) == 2

    await DB.run_ddl(f'UPDATE "question" SET "active" = true WHERE "id" = {question["id"]}')
    assert await keys() == first and len(reads) == 3

    bank = await Bank.select(Bank.id).first()
    await DB.run_ddl(f'UPDATE "bank" SET "active" = false WHERE "id" = {bank["id"]}')
    assert len(await keys()) < len(first)
    await DB.run_ddl(f'UPDATE "bank" SET "active" = true WHERE "id" = {bank["id"]}')
    assert await keys() == first


async def test_a_new_version_and_a_review_are_seen_at_once(content, people):
    from app.banks.store import current_questions, save_question
    from app.course.versions import Amendment

    bank = await Bank.select(Bank.id).first()
    questions = await current_questions(bank["id"])
    key, question = next(iter(questions.items()))
    before = {q.question.key: q.version_id for q in await quiz_pool(RULES)}
    edited = question.__class__(**{**question.__dict__, "stem": question.stem + "（改）"})
    await save_question(bank["id"], edited, people["trainer"].id, new=False)
    after = {q.question.key: q.version_id for q in await quiz_pool(RULES)}
    assert after[key] != before[key]
    current = await QuestionVersion.select(QuestionVersion.id).where(
        QuestionVersion.question.key == key, QuestionVersion.is_current.eq(True)
    )
    assert after[key] == current[0]["id"]

    amendment = Amendment(title="测试", old_source="sources/a.txt", new_source="sources/b.txt")
    await amendment.save()
    row = await Question.select(Question.id).where(Question.key == key).first()
    await QuestionReview.insert(QuestionReview(question=row["id"], amendment=amendment.id))
    assert key not in await keys()
