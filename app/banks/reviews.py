"""Questions under review: an amendment changed or removed the passage they cite
(`app/course/versions.py` puts them here). Until a trainer confirms a question or saves a
new version of it, new papers leave it out (`app/quizzes/definitions.quiz_pool`); papers
already drawn keep the version they froze."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.tables import QuestionReview


async def under_review(bank_id: int | None = None) -> set[int]:
    """The questions (of the bank, or of every bank) with a review not yet resolved."""
    query = QuestionReview.select(QuestionReview.question).where(
        QuestionReview.resolved_at.is_null()
    )
    if bank_id is not None:
        query = query.where(QuestionReview.question.bank == bank_id)
    return {row["question"] for row in await query}


async def open_reviews(question_id: int) -> list[dict[str, Any]]:
    """Why a question is under review, one row per amendment, oldest first."""
    return await (
        QuestionReview.select(
            QuestionReview.reason,
            QuestionReview.created_at,
            QuestionReview.amendment.id.as_alias("amendment"),
            QuestionReview.amendment.title.as_alias("amendment_title"),
        )
        .where(QuestionReview.question == question_id, QuestionReview.resolved_at.is_null())
        .order_by(QuestionReview.id)
    )


async def resolve_reviews(question_id: int, user_id: int | None) -> int:
    """Close the question's open reviews (confirmed as it is, or edited); the caller holds
    the write transaction. Returns how many were open."""
    open_ids = [
        row["id"]
        for row in await QuestionReview.select(QuestionReview.id).where(
            QuestionReview.question == question_id, QuestionReview.resolved_at.is_null()
        )
    ]
    if open_ids:
        await QuestionReview.update(
            {
                QuestionReview.resolved_at: datetime.now(UTC),
                QuestionReview.resolved_by: user_id,
            }
        ).where(QuestionReview.id.is_in(open_ids))
    return len(open_ids)
