"""The routes of accounts: sign-in, units, people, cadre import, the audit log."""

from typing import Any

from app.accounts import audit, auth, people, people_import, units

ROUTES: list[Any] = [
    *auth.route_handlers,
    *audit.route_handlers,
    units.router,
    people.router,
    people_import.router,
]
