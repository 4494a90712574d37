"""The routes of quizzes: the quiz page, attempts, the mistake book, 我的成绩, trainers' pages."""

from typing import Any

from app.quizzes import (
    admin,
    attempts,
    definitions,
    mistakes,
    my_scores,
    override_pages,
    score_file,
)

ROUTES: list[Any] = [
    definitions.router,
    admin.router,
    override_pages.router,
    attempts.router,
    mistakes.router,
    *my_scores.route_handlers,
    score_file.router,
]
