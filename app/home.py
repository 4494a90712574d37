"""The home page of each role, and the switch for 长辈模式 (senior mode)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from app.accounts.auth import retrieve_user, safe_next
from app.accounts.guards import scope_path
from app.course.lessons import course_progress, path_modules
from app.course.path import PathFacts, next_step
from app.settings import get_settings
from app.tables import ROLES, Unit, User
from app.trainings.credit_rules import SOURCES, Standing
from app.trainings.credits import credit_totals, credit_year, current_rules, upcoming_sessions
from app.trainings.mine import cadre_trainings, step_link
from app.trainings.requirements import requirement_of
from app.unit_reports.rounds import reports_due


@get("/", name="home")
async def home(request: Request) -> Template:
    user: User = request.user
    context: dict = {"role_name": ROLES.get(user.role, user.role)}
    if user.role in ("unit_admin", "federation_admin", "trainer"):
        path = scope_path(user)
        context["counts"] = {
            "units": await Unit.count().where(Unit.path.like(path + "%"), Unit.active.eq(True)),
            "cadres": await User.count().where(
                User.unit.path.like(path + "%"), User.active.eq(True), User.role == "cadre"
            ),
            "pending": await User.count().where(
                User.unit.path.like(path + "%"),
                User.active.eq(True),
                User.role == "cadre",
                User.last_login_at.is_null(),
            ),
        }
    if user.role == "unit_admin":
        context["reports_due"] = await reports_due(user)
        context["today"] = datetime.now(get_settings().timezone).date()
    if user.role == "cadre":
        progress = await course_progress(user)
        path = await path_modules(user.id)
        step = next_step(PathFacts(modules=tuple(path.values())))
        context["course"] = {
            "read": sum(m.read for m in progress),
            "lessons": sum(m.lessons for m in progress),
            "next": step_link(step, request.app.route_reverse),
        }
        context["trainings"] = await cadre_trainings(user, request.app.route_reverse, path)
        context["credits"] = await _credits(user, progress, path, context["trainings"])
    return Template(f"home/{user.role}.html", context=context)


async def _credits(user: User, progress: list, path: dict, trainings: list) -> dict:
    """This year's 学时 against the requirement, by source, and what earns more: modules not
    fully read, quizzes not yet passed, the next class sessions (a few of each)."""
    now = datetime.now(UTC)
    year = credit_year(now)
    totals = await credit_totals(user.id, year)
    requirement = await requirement_of(user, year)
    quizzes = {
        q.slug: q.title for m in path.values() for q in m.quizzes if q.can_take and not q.passed
    }
    for t in trainings:
        if t.get("quiz") and not t.get("quiz_passed") and not t.get("completed_at"):
            quizzes.setdefault(t["quiz"]["slug"], t["quiz"]["title"])
    return {
        "year": year,
        "standing": Standing(totals.total, requirement["hours"] if requirement else None),
        "sources": [(name, totals.by_source.get(key, 0.0)) for key, name in SOURCES.items()],
        "modules": [m for m in progress if m.lessons and m.read < m.lessons][:3],
        "quizzes": list(quizzes.items())[:3],
        "sessions": await upcoming_sessions(user.id, now),
        "rules": current_rules(),
    }


# This device's choice of 长辈模式, for the sign-in page and whoever signs in next on it.
SENIOR_COOKIE = "senior_mode"


@post("/preferences/font", name="toggle_font", exclude_from_auth=True)
async def toggle_font(request: Request) -> Redirect:
    """One tap switches 长辈模式 (senior mode) on or off: stored for the signed-in person
    (User.large_font) and on this device (a cookie), so the sign-in page keeps it too."""
    user = await retrieve_user(request.session, request)
    now_on = bool(user and user.large_font) or request.cookies.get(SENIOR_COOKIE) == "1"
    if user is not None:
        await User.update({User.large_font: not now_on}).where(User.id == user.id)
    referer = urlsplit(request.headers.get("referer", "/"))
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    cookie = Cookie(
        key=SENIOR_COOKIE,
        value="0" if now_on else "1",
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().https,
    )
    return Redirect(safe_next(back), cookies=[cookie])


route_handlers = [home, toggle_font]
