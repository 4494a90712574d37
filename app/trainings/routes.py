"""The routes of trainings: trainings and batches, enrollment, attendance, certificates,
the yearly 学时 requirement, the 学习档案."""

from typing import Any

from app.trainings import (
    attendance,
    attendance_sheet,
    batches,
    certificates,
    enrollment,
    mine,
    my_certificates,
    pages,
    record_pages,
    requirements,
)

ROUTES: list[Any] = [
    *pages.route_handlers,
    *batches.route_handlers,
    *enrollment.route_handlers,
    *mine.route_handlers,
    *my_certificates.route_handlers,
    attendance.router,
    attendance.checkin_router,
    attendance_sheet.router,
    certificates.router,
    requirements.router,
    *record_pages.route_handlers,
    record_pages.router,
]
