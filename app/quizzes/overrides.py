"""Reading a cadre's 补考/延期 (QuizOverride) where a quiz is taken or shown: starting an
attempt, the quiz page, a result's 再答一次, 我的成绩, the learning path, and when answers
may be reviewed. The rule itself is `app/quizzes/allowance.py`; granting and revoking are in
`app/quizzes/override_grants.py`.

A quiz row carries `override_count`, its overrides not revoked: a cadre's override is read
only when it is not 0, so quizzes without any cost no query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.db import Prepared
from app.quizzes.allowance import Allowance, allowance, override_of
from app.tables import QuizOverride

OVERRIDE_COLUMNS = (
    QuizOverride.id,
    QuizOverride.quiz,
    QuizOverride.extra_attempts,
    QuizOverride.extra_minutes,
    QuizOverride.closes_at,
    QuizOverride.reason,
    QuizOverride.revoked_at,
)

_ACTIVE = Prepared(
    lambda quiz_id, account_id: (
        QuizOverride.select(*OVERRIDE_COLUMNS)
        .where(
            QuizOverride.quiz == quiz_id,
            QuizOverride.account == account_id,
            QuizOverride.revoked_at.is_null(),
        )
        .first()
    ),
    int,
    int,
)


async def override_for(quiz: Mapping[str, Any], account_id: int) -> dict[str, Any] | None:
    """The cadre's override of `quiz` (a row with id and override_count) not revoked; None
    without a query when the quiz has none."""
    if not quiz.get("override_count"):
        return None
    return await _ACTIVE.first(quiz["id"], account_id)


async def allowance_for(
    quiz: Mapping[str, Any], account_id: int
) -> tuple[Allowance, dict[str, Any] | None]:
    """What the cadre may do on `quiz`, and their override row (None without one)."""
    row = await override_for(quiz, account_id)
    return allowance(quiz, override_of(row)), row


async def overrides_of(account_id: int, quizzes: Sequence[Mapping[str, Any]]) -> dict[int, dict]:
    """The cadre's overrides not revoked among `quizzes` (rows with id and override_count),
    by quiz id: one query, none when no quiz has an override."""
    ids = [q["id"] for q in quizzes if q.get("override_count")]
    if not ids:
        return {}
    rows = await QuizOverride.select(*OVERRIDE_COLUMNS).where(
        QuizOverride.account == account_id,
        QuizOverride.quiz.is_in(ids),
        QuizOverride.revoked_at.is_null(),
    )
    return {row["quiz"]: row for row in rows}


async def latest_closing(quiz_id: int, closes_at: datetime | None, override_count: int) -> Any:
    """When the quiz has closed for every cadre: its own closing, or the latest closing
    an override not revoked gives (a query only when it has one)."""
    if closes_at is None or not override_count:
        return closes_at
    rows = await QuizOverride.select(QuizOverride.closes_at).where(
        QuizOverride.quiz == quiz_id,
        QuizOverride.revoked_at.is_null(),
        QuizOverride.closes_at.is_not_null(),
    )
    return max([closes_at, *(row["closes_at"] for row in rows)])
