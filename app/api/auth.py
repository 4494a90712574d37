"""Authentication of the JSON API: the bearer token and the unit subtree it opens.

A token is made by federation staff on /admin/api-tokens (app/api/tokens.py) and stored
only as its SHA-256; a request carries it as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from app.db import write_transaction
from app.tables import ApiToken

TOKEN_INVALID = "令牌无效或已撤销"
_LAST_USED_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Access:
    """What the request's token may see: the subtree under `path`."""

    token_id: int
    unit_id: int
    path: str
    depth: int


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _mark_used(token_id: int, last_used_at: datetime | None) -> None:
    """Note when the token was last used, at most once a minute (no write on every request)."""
    now = datetime.now(UTC)
    if last_used_at is None or now - last_used_at >= _LAST_USED_EVERY:
        async with write_transaction():
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token_id)


async def token_access(request: Request) -> Access:
    """The token's scope; 401 for a missing, unknown or revoked token."""
    token = _bearer(request)
    row = None
    if token:
        row = await (
            ApiToken.select(
                ApiToken.id,
                ApiToken.revoked_at,
                ApiToken.last_used_at,
                ApiToken.unit.as_alias("unit_id"),
                ApiToken.unit.path.as_alias("unit_path"),
                ApiToken.unit.depth.as_alias("unit_depth"),
            )
            .where(ApiToken.token_hash == hash_token(token))
            .first()
        )
    if row is None or row["revoked_at"] is not None:
        raise NotAuthorizedException(TOKEN_INVALID)
    await _mark_used(row["id"], row["last_used_at"])
    return Access(
        token_id=row["id"], unit_id=row["unit_id"], path=row["unit_path"], depth=row["unit_depth"]
    )
