"""The routes of trainings: trainings and batches, enrollment, attendance, certificates."""

from typing import Any

from app.trainings import attendance, batches, certificates, enrollment, mine, pages

ROUTES: list[Any] = [
    *pages.route_handlers,
    *batches.route_handlers,
    *enrollment.route_handlers,
    *mine.route_handlers,
    attendance.router,
    attendance.checkin_router,
    certificates.router,
]
