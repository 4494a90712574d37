"""The home page of each role, and the large-font switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.response import Redirect, Template

from app.accounts.auth import safe_next
from app.accounts.guards import scope_path
from app.course.lessons import course_progress
from app.tables import ROLES, Unit, User
from app.trainings.mine import cadre_trainings


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
    if user.role == "cadre":
        progress = await course_progress(user)
        context["course"] = {
            "read": sum(m.read for m in progress),
            "lessons": sum(m.lessons for m in progress),
        }
        context["trainings"] = await cadre_trainings(user)
    return Template(f"home/{user.role}.html", context=context)


@post("/preferences/font", name="toggle_font")
async def toggle_font(request: Request) -> Redirect:
    user: User = request.user
    await User.update({User.large_font: not user.large_font}).where(User.id == user.id)
    referer = urlsplit(request.headers.get("referer", "/"))
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    return Redirect(safe_next(back))


route_handlers = [home, toggle_font]
