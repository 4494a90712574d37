"""Server-side sessions kept in the database, so every worker shares them.

A session ends after 30 minutes without a request (its record expires) or 12
hours after sign-in (checked by `app.accounts.auth`). Signing in gives the session a new
identifier. Anonymous visitors get no session record until something is stored.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty

from app.tables import SessionRecord

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# A record's expiry is pushed forward at most once a minute, not on every request.
RENEW_GRANULARITY = timedelta(minutes=1)
_ROTATE_KEY = "peixun.rotate_session"
_LOADED_KEY = "peixun.session_loaded"


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


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
        row = (
            await SessionRecord.select(SessionRecord.data, SessionRecord.expires_at)
            .where(SessionRecord.key == key)
            .first()
        )
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
    connection.scope[_ROTATE_KEY] = True  # type: ignore[literal-required]


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
        if connection.scope.get(_ROTATE_KEY) or not old_id or not loaded:
            if old_id:
                await self.delete(old_id, store=store)
            new_id = secrets.token_urlsafe(32)
            await self.set(new_id, data, store=store)
            headers.add("Set-Cookie", self._cookie(new_id, int(ABSOLUTE_TIMEOUT.total_seconds())))
        elif data != loaded:
            await self.set(old_id, data, store=store)


class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = DatabaseSessionBackend


def session_config(secure: bool) -> DatabaseSessionConfig:
    return DatabaseSessionConfig(
        key="peixun_session",
        max_age=int(IDLE_TIMEOUT.total_seconds()),
        renew_on_access=True,
        secure=secure,
        httponly=True,
        samesite="lax",
        store="sessions",
        exclude=["^/static/"],
    )
