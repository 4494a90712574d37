"""Guards named after their rule, and the helpers that load an object and check its scope."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler

from app.lib.parsing import valid_id
from app.tables import Unit, User

# Pages a person who must still choose a password may open.
_OPEN_BEFORE_PASSWORD_CHANGE = ("/password", "/logout", "/login", "/static/")


class PasswordChangeRequired(NotAuthorizedException):
    """The person signed in with a generated password and must choose their own first."""


async def own_password_chosen(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """People with a generated password are sent to choose their own before anything else."""
    user = connection.scope.get("user")
    if (
        user is not None
        and user.must_change_password
        and not connection.url.path.startswith(_OPEN_BEFORE_PASSWORD_CHANGE)
    ):
        raise PasswordChangeRequired("请先设置您自己的密码。")


ADMIN_ROLES = ("unit_admin", "federation_admin")


def requires_role(*roles: str):
    """A guard that lets in the given roles; federation staff may do everything."""

    # Guards are coroutines: Litestar would run a plain function in a worker thread.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if user is None or (user.role not in roles and user.role != "federation_admin"):
            raise PermissionDeniedException("您的账号没有访问此页面的权限。")

    guard.__name__ = f"requires_role_{'_'.join(roles)}"
    guard.roles = (*roles, "federation_admin")  # type: ignore[attr-defined]
    return guard


def scope_path(user: User) -> str:
    """The unit path prefix this person may see: everything for federation staff."""
    return "/" if user.role == "federation_admin" else user.unit.path


def in_scope(user: User, unit_path: str) -> bool:
    return unit_path.startswith(scope_path(user))


async def load_unit(user: User, unit_id: int) -> Unit:
    """The unit with this id, if the person may manage it; 404 otherwise, 403 outside the scope."""
    unit = await Unit.objects().where(Unit.id == unit_id).first() if valid_id(unit_id) else None
    if unit is None:
        raise NotFoundException("没有找到这个单位。")
    if not in_scope(user, unit.path):
        raise PermissionDeniedException("这个单位不在您的管理范围内。")
    return unit


async def load_person(user: User, person_id: int) -> User:
    """The account with this id with its unit loaded, if within the person's scope."""
    person = None
    if valid_id(person_id):
        person = await User.objects(User.unit).where(User.id == person_id).first()
    if person is None:
        raise NotFoundException("没有找到这个人员。")
    if not in_scope(user, person.unit.path):
        raise PermissionDeniedException("这个人员不在您的管理范围内。")
    if user.role != "federation_admin" and person.role == "federation_admin":
        raise PermissionDeniedException("您不能管理市总工会管理员的账号。")
    if user.role != "federation_admin" and person.role == "trainer":
        # Unit admins may not give this role, so neither may they take over such an account.
        raise PermissionDeniedException("您不能管理培训管理员的账号。")
    if (
        user.role == "unit_admin"
        and person.role == "unit_admin"
        and person.id != user.id
        and person.unit.id == user.unit.id
    ):
        # Admins of the same unit are peers: only the level above manages them.
        raise PermissionDeniedException("同一单位的管理员账号由上级工会管理。")
    return person
