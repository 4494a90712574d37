"""Sign-in, sign-out, password change, and who is signed in."""

from __future__ import annotations

import asyncio
import unicodedata
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.passwords import hash_password, password_problem, verify_password
from app.accounts.throttle import account_lock, address_throttled
from app.db import Statement, write_transaction
from app.lib.forms import FormBody
from app.sessions import (
    ABSOLUTE_TIMEOUT,
    ACCOUNT_KEY,
    delete_expired_sessions,
    rotate_session,
)
from app.settings import get_settings
from app.tables import LoginAttempt, Unit, User

# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password("peixun-timing-equaliser")


def _now() -> datetime:
    return datetime.now(UTC)


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    client = connection.client
    return client.host if client else ""


def _password_stamp(user: User) -> str:
    return str(user.password_changed_at or "")


def _signed_in_query() -> str:
    """The person with their unit, written out once: it runs on every request, and building
    it with Piccolo's joined `objects(User.unit)` costs about 1 ms each time."""
    person = ", ".join(f'a."{c._meta.db_column_name}"' for c in User._meta.columns)
    unit = ", ".join(
        f'u."{c._meta.db_column_name}" AS "unit.{c._meta.db_column_name}"'
        for c in Unit._meta.columns
    )
    return (
        f'SELECT {person}, {unit} FROM "{User._meta.tablename}" a '
        f'LEFT JOIN "{Unit._meta.tablename}" u ON u."id" = a."unit" '
        'WHERE a."id" = {} AND a."active" = {}'
    )


_SIGNED_IN = Statement(User, _signed_in_query())
# Signing in: every statement written once (a morning's sign-ins run them thousands of times).
_PERSON = Statement(
    User,
    'SELECT {} FROM "account" WHERE "username" = {{}}'.format(
        ", ".join(f'"{c._meta.db_column_name}"' for c in User._meta.columns)
    ),
)
_NEW_TRY = Statement(
    LoginAttempt,
    'INSERT INTO "login_attempt" ("username", "ip", "succeeded", "refused", "created_at") '
    'VALUES ({}, {}, {}, {}, {}) RETURNING "id"',
)
_FROM_ADDRESS = Statement(
    LoginAttempt,
    'SELECT COUNT(*) AS "count" FROM "login_attempt" WHERE "ip" = {} AND "succeeded" = {} '
    'AND "created_at" > {} AND "id" <= {}',
)
_LAST_SUCCESS = Statement(
    LoginAttempt,
    'SELECT "id" FROM "login_attempt" WHERE "username" = {} AND "succeeded" = {} '
    'ORDER BY "id" DESC LIMIT 1',
)
_FAILURES = Statement(
    LoginAttempt,
    'SELECT "created_at" FROM "login_attempt" WHERE "username" = {} AND "succeeded" = {} '
    'AND "refused" = {} AND "id" < {} AND "id" > {} ORDER BY "id" DESC LIMIT 20',
)
_MARK_TRY = Statement(
    LoginAttempt, 'UPDATE "login_attempt" SET "succeeded" = {}, "refused" = {} WHERE "id" = {}'
)
_SIGNED_IN_AT = Statement(User, 'UPDATE "account" SET "last_login_at" = {} WHERE "id" = {}')


T = TypeVar("T")


def _loaded(table: type[T], values: dict[str, Any]) -> T:
    """A row read with every column, as Piccolo's `Table(**values, _exists_in_db=True)` makes
    it (the same attributes) without its per-column defaults and checks."""
    row = table.__new__(table)
    row._exists_in_db = True
    row._was_created = None
    row.__dict__.update(values)
    return row


async def active_user(uid: int) -> User | None:
    """An active person, with `unit` loaded as a Unit (as `User.objects(User.unit)` gives)."""
    rows = await _SIGNED_IN.rows(uid, True)
    if not rows:
        return None
    row = rows[0]
    user = _loaded(User, {k: v for k, v in row.items() if not k.startswith("unit.")})
    if row["unit.id"] is not None:
        user.unit = _loaded(Unit, {k[5:]: v for k, v in row.items() if k.startswith("unit.")})
    return user


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> User | None:
    """The signed-in, active person of this session, or None when it has ended."""
    uid = session.get(ACCOUNT_KEY)
    auth_at = session.get("auth_at")
    if not isinstance(uid, int) or not isinstance(auth_at, (int, float)):
        return None
    if _now().timestamp() - auth_at > ABSOLUTE_TIMEOUT.total_seconds():
        return None
    user = await active_user(uid)
    if user is None or session.get("pw") != _password_stamp(user):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else goes home."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(request: Request, username: str = "", error: str = "", status: int = 200):
    return Template(
        "auth/login.html",
        context={
            "username": username,
            "error": error,
            "next": request.query_params.get("next", ""),
        },
        status_code=status,
    )


@get("/login", name="login", exclude_from_auth=True)
async def login_page(request: Request) -> Template:
    return _login_page(request)


def normalize_username(text: str) -> str:
    """Usernames are compared without case or width: phone keyboards capitalise the first letter."""
    return unicodedata.normalize("NFKC", text).strip().lower()


async def _refusal(attempt: LoginAttempt, now: datetime) -> tuple[str, int] | None:
    """Why this attempt is refused before any password is checked, or None.

    The attempt is stored first and counted with every earlier one, so requests that arrive
    together cannot all slip under the limits.
    """
    minute_ago = now - timedelta(minutes=1)
    (counted,) = await _FROM_ADDRESS.rows(attempt.ip, False, minute_ago, attempt.id)
    if address_throttled(counted["count"] - 1):
        return "登录尝试过于频繁，请一分钟后再试。", 429
    last = await _LAST_SUCCESS.rows(attempt.username, True)
    failures = await _FAILURES.rows(
        attempt.username, False, False, attempt.id, last[0]["id"] if last else 0
    )
    lock = account_lock([row["created_at"] for row in failures], now)
    if lock.locked_until:
        until = lock.locked_until.astimezone(get_settings().timezone).strftime("%H:%M")
        return (
            f"该账号连续 10 次密码错误，已被锁定 15 分钟，请于 {until} 后再试，"
            "或联系单位管理员重置密码。",
            403,
        )
    attempt.remaining_tries = lock.remaining_tries  # type: ignore[attr-defined]
    return None


_HASHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


# Verifications at once per process. One per process left a core idle whenever the workers'
# connections were shared unevenly (bench/cpu_cost.py: 67 % of argon2's limit); two let the
# busier process use both cores (77 %), and still keep a rush of sign-ins from piling dozens
# of 19 MiB hashes onto two cores.
HASHES_PER_PROCESS = 2


def _hashing() -> anyio.CapacityLimiter:
    """This event loop's threads for verifying passwords."""
    return _HASHERS.setdefault(
        asyncio.get_running_loop(), anyio.CapacityLimiter(HASHES_PER_PROCESS)
    )


TIDY_EVERY = timedelta(minutes=1)
_tidied = {"at": datetime.min.replace(tzinfo=UTC)}


async def _tidy(now: datetime) -> None:
    """Delete expired sessions and month-old sign-in attempts, at most once a minute per
    process (a morning's sign-ins need not each scan for them). Attempts matter for 15
    minutes; a month of them is kept for looking into incidents."""
    if now - _tidied["at"] < TIDY_EVERY:
        return
    _tidied["at"] = now
    await delete_expired_sessions()
    await LoginAttempt.delete().where(LoginAttempt.created_at < now - timedelta(days=30))


@post("/login", name="login_submit", exclude_from_auth=True)
async def login_submit(request: Request, data: FormBody) -> Template | Redirect:
    username = normalize_username(data.get("username", ""))
    password = data.get("password", "")
    now = _now()
    if not username or not password:
        return _login_page(request, username, "请输入用户名和密码。", 400)

    # Longer than any username (so no account is found), but still counted.
    attempt = LoginAttempt(
        username=username[: LoginAttempt.username.length], ip=client_ip(request), created_at=now
    )
    (row,) = await _NEW_TRY.rows(attempt.username, attempt.ip, False, False, now)
    attempt.id = row["id"]
    refusal = await _refusal(attempt, now)
    if refusal:
        await _MARK_TRY.rows(False, True, attempt.id)
        message, status = refusal
        return _login_page(request, username, message, status)

    found = await _PERSON.rows(username)
    user = _loaded(User, found[0]) if found else None
    # argon2 takes tens of milliseconds: off the event loop, so other requests go on; a few at
    # a time per process (`HASHES_PER_PROCESS`): more at once only share the cores and the
    # memory argon2 fills, each taking longer.
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = (
        await anyio.to_thread.run_sync(verify_password, stored, password, limiter=_hashing())
        and user is not None
    )
    if not ok:
        left = attempt.remaining_tries - 1
        message = "用户名或密码错误。"
        if left <= 0:
            message += "该账号已被锁定 15 分钟。"
        elif left <= 5:
            message += f"再错 {left} 次，账号将被锁定 15 分钟。"
        return _login_page(request, username, message, 400)
    if not user.active:
        return _login_page(request, username, "该账号已停用，请联系单位管理员。", 403)

    async with write_transaction():  # one commit for both
        await _MARK_TRY.rows(True, False, attempt.id)
        await _SIGNED_IN_AT.rows(now, user.id)
    await _tidy(now)
    rotate_session(request)
    request.set_session(
        {ACCOUNT_KEY: user.id, "auth_at": now.timestamp(), "pw": _password_stamp(user)}
    )
    if user.must_change_password:
        flash(request, "首次登录，请先设置您自己的密码。", "info")
        return Redirect(request.app.route_reverse("password"))
    return Redirect(safe_next(data.get("next")))


@post("/logout", name="logout", exclude_from_auth=True)
async def logout(request: Request) -> Redirect:
    request.set_session({})
    rotate_session(request)
    flash(request, "您已安全退出。", "success")
    return Redirect(request.app.route_reverse("login"))


@get("/password", name="password")
async def password_page(request: Request) -> Template:
    return Template("auth/password.html", context={"errors": {}})


@post("/password", name="password_submit")
async def password_submit(request: Request, data: FormBody) -> Template | Redirect:
    user: User = request.user
    current = data.get("current_password", "")
    new = data.get("new_password", "")
    confirm = data.get("new_password_confirm", "")
    errors: dict[str, str] = {}
    if not await anyio.to_thread.run_sync(verify_password, user.password_hash, current):
        errors["current_password"] = "当前密码不正确。"
    problem = password_problem(new, user.username)
    if problem:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = "新密码不能与当前密码相同。"
    if not errors.get("new_password") and new != confirm:
        errors["new_password_confirm"] = "两次输入的新密码不一致。"
    if errors:
        return Template("auth/password.html", context={"errors": errors}, status_code=400)

    now = _now()
    new_hash = await anyio.to_thread.run_sync(hash_password, new)
    async with write_transaction():
        await User.update(
            {
                User.password_hash: new_hash,
                User.must_change_password: False,
                User.password_changed_at: now,
            }
        ).where(User.id == user.id)
        await audit.record(request, "password.change", user, f"{user.name} 修改了自己的密码")
    user.password_changed_at = now
    refreshed = await User.objects().where(User.id == user.id).first()
    rotate_session(request)
    request.set_session(
        {**request.session, "pw": _password_stamp(refreshed), "auth_at": now.timestamp()}
    )
    flash(request, "密码已修改。", "success")
    return Redirect(request.app.route_reverse("home"))


route_handlers = [login_page, login_submit, logout, password_page, password_submit]
