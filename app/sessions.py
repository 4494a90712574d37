"""Server-side sessions kept in the database, so every worker shares them, and the CSRF
token bound to them.

A session ends after 30 minutes without a request (its record expires) or 12
hours after sign-in (checked by `app.accounts.auth`). Signing in gives the session a new
identifier. Anonymous visitors get no session record until something is stored.

Every form and every fetch of app/static/*.js sends a CSRF token, in the `_csrf_token` field
or the `x-csrftoken` header, equal to the `csrftoken` cookie (as Litestar's own CSRF check
asks). For a signed-in session the token is derived from the session's identifier, so a
cookie-and-token pair taken from another browser is worthless here; signing in and out
change the identifier and hand the browser the new token at once. An anonymous visitor (the
sign-in page) gets a random token signed by the server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from app.db import Prepared
from app.tables import SessionRecord

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import ASGIApp, Message, Receive, Scope, ScopeSession, Send

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# A record's expiry is pushed forward at most once a minute, not on every request.
RENEW_GRANULARITY = timedelta(minutes=1)
SESSION_COOKIE = "peixun_session"
# The signed-in account's id in a session's data (set at sign-in by `app.accounts.auth`).
ACCOUNT_KEY = "uid"
_ROTATE_KEY = "peixun.rotate_session"  # the identifier the session gets with this response
_LOADED_KEY = "peixun.session_loaded"


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


# Read on every request: built once (`app/db.Prepared`).
_SESSION = Prepared(
    lambda key: (
        SessionRecord.select(SessionRecord.data, SessionRecord.expires_at)
        .where(SessionRecord.key == key)
        .first()
    ),
    str,
)


class DatabaseStore(Store):
    """A Litestar store on the `session_record` table."""

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        delta = _seconds(expires_in)
        expires_at = _now() + delta if delta else None
        updated = (
            await SessionRecord.update(
                {SessionRecord.data: data, SessionRecord.expires_at: expires_at}
            )
            .where(SessionRecord.key == key)
            .returning(SessionRecord.id)
        )
        if not updated:
            await SessionRecord.insert(SessionRecord(key=key, data=data, expires_at=expires_at))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await _SESSION.first(key)
        if row is None:
            return None
        now = _now()
        expires_at = row["expires_at"]
        if expires_at is not None and expires_at <= now:
            await self.delete(key)
            return None
        delta = _seconds(renew_for)
        if delta and expires_at is not None and now + delta - expires_at > RENEW_GRANULARITY:
            await SessionRecord.update({SessionRecord.expires_at: now + delta}).where(
                SessionRecord.key == key
            )
        data = row["data"]
        return bytes(data) if data is not None else None

    async def delete(self, key: str) -> None:
        await SessionRecord.delete().where(SessionRecord.key == key)

    async def delete_all(self) -> None:
        await SessionRecord.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = (
            await SessionRecord.select(SessionRecord.expires_at)
            .where(SessionRecord.key == key)
            .first()
        )
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - _now()).total_seconds()))


async def delete_expired_sessions() -> None:
    await SessionRecord.delete().where(SessionRecord.expires_at < _now())


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give this session a new identifier when the response is sent (call at sign-in)."""
    connection.scope[_ROTATE_KEY] = secrets.token_urlsafe(32)  # type: ignore[literal-required]


def _new_session_id(scope: Scope) -> str | None:
    """The identifier `rotate_session` chose for this session, if it was called."""
    new_id = scope.get(_ROTATE_KEY)
    return new_id if isinstance(new_id, str) else None


class DatabaseSessionBackend(ServerSideSessionBackend):
    """Writes only what changed, and supports a new identifier on demand."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED_KEY] = self.serialize_data(data) if data else b""  # type: ignore[literal-required]
        return data

    def _cookie(self, value: str, max_age: int) -> str:
        return Cookie(
            key=self.config.key,
            value=value,
            max_age=max_age,
            path=self.config.path,
            secure=self.config.secure,
            httponly=True,
            samesite=self.config.samesite,
        ).to_header(header="")

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        old_id = connection.cookies.get(self.config.key)
        if old_id == "null":
            old_id = None
        if scope_session is Empty or not scope_session:
            if old_id:
                await self.delete(old_id, store=store)
                headers.add("Set-Cookie", self._cookie("null", 0))
            return
        data = self.serialize_data(scope_session, connection.scope)
        loaded = connection.scope.get(_LOADED_KEY, b"")
        rotated = _new_session_id(connection.scope)
        if rotated or not old_id or not loaded:
            if old_id:
                await self.delete(old_id, store=store)
            new_id = rotated or secrets.token_urlsafe(32)
            await self.set(new_id, data, store=store)
            headers.add("Set-Cookie", self._cookie(new_id, int(ABSOLUTE_TIMEOUT.total_seconds())))
        elif data != loaded:
            await self.set(old_id, data, store=store)


class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = DatabaseSessionBackend


def session_config(secure: bool) -> DatabaseSessionConfig:
    return DatabaseSessionConfig(
        key=SESSION_COOKIE,
        max_age=int(IDLE_TIMEOUT.total_seconds()),
        renew_on_access=True,
        secure=secure,
        httponly=True,
        samesite="lax",
        store="sessions",
        exclude=["^/static/"],
    )


# ---------------------------------------------------------------- the CSRF token


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def csrf_token(secret: str, session_id: str | None) -> str:
    """The CSRF token of a signed-in session (the same on every page of it), or a new random
    one for an anonymous visitor (`session_id` None)."""
    if session_id:
        return _mac(secret, f"csrf:session:{session_id}")
    nonce = secrets.token_hex(16)
    return nonce + _mac(secret, f"csrf:anonymous:{nonce}")


def csrf_token_fits(secret: str, token: str, session_id: str | None) -> bool:
    """Whether a token was issued for this signed-in session, or for an anonymous visitor."""
    if session_id:
        return _same(token, _mac(secret, f"csrf:session:{session_id}"))
    nonce = token[:32]
    return len(token) == 96 and _same(token[32:], _mac(secret, f"csrf:anonymous:{nonce}"))


def _signed_in(scope: Scope) -> bool:
    """Whether the request's session (as loaded, or as the handler left it) is a signed-in
    person's."""
    session = scope.get("session")
    return isinstance(session, dict) and session.get(ACCOUNT_KEY) is not None


def signed_in_session_id(scope: Scope) -> str | None:
    """The identifier of the request's session when it is a signed-in person's, else None."""
    if not _signed_in(scope):
        return None
    return Request(scope).cookies.get(SESSION_COOKIE) or None


class SessionCSRFMiddleware(ASGIMiddleware):
    """Litestar's CSRF check (`litestar.middleware.csrf`: the token of the `_csrf_token` field
    or the `x-csrftoken` header must equal the `csrftoken` cookie on every unsafe request),
    with the token also bound to the signed-in session. Placed inside the session
    middleware, which has loaded the session by then."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, config: CSRFConfig) -> None:
        self.config = config
        self.exclude_opt_key = config.exclude_from_csrf_key
        exclude = config.exclude or []
        patterns = [exclude] if isinstance(exclude, str) else exclude
        if patterns:
            # On the request's path: the handlers of a router know only their own part.
            excluded = re.compile("|".join(patterns))
            self.should_bypass_for_scope = lambda scope: bool(excluded.search(scope["path"]))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        config = self.config
        request: Request[Any, Any, Any] = Request(scope, receive)
        session_id = signed_in_session_id(scope)
        cookie = request.cookies.get(config.cookie_name)
        state = ScopeState.from_scope(scope)
        if request.method in config.safe_methods:
            fits = cookie is not None and csrf_token_fits(config.secret, cookie, session_id)
            token = cookie if cookie is not None and fits else csrf_token(config.secret, session_id)
            state.csrf_token = token
            await next_app(scope, receive, self._sending(scope, send, cookie, token))
            return
        sent = request.headers.get(config.header_name)
        if not sent and request.content_type[0] in (
            RequestEncodingType.URL_ENCODED,
            RequestEncodingType.MULTI_PART,
        ):
            value = (await request.form()).get("_csrf_token")
            sent = value if isinstance(value, str) else None
        if not (
            sent
            and cookie
            and _same(sent, cookie)
            and csrf_token_fits(config.secret, sent, session_id)
        ):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = sent
        await next_app(scope, receive, self._sending(scope, send, cookie, sent))

    def _sending(self, scope: Scope, send: Send, cookie: str | None, token: str) -> Send:
        """`send`, setting the cookie to the token when it differs; when the session gets a
        new identifier with this response (sign-in, sign-out), to the new session's token."""

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                value = token
                new_id = _new_session_id(scope)
                if new_id:
                    value = csrf_token(self.config.secret, new_id if _signed_in(scope) else None)
                if value != cookie:
                    MutableScopeHeaders.from_message(message).add(
                        "set-cookie", self._cookie(value).to_header(header="")
                    )
            await send(message)

        return sending

    def _cookie(self, value: str) -> Cookie:
        config = self.config
        return Cookie(
            key=config.cookie_name,
            value=value,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        )
