"""The routes of quizzes: the quiz page, attempts, the mistake book, trainers' pages."""

from typing import Any

from app.quizzes import admin, attempts, definitions, mistakes

ROUTES: list[Any] = [
    definitions.router,
    admin.router,
    attempts.router,
    mistakes.router,
]
