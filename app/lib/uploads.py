"""Uploaded files waiting for their confirmation: one rule for every import that previews a
file before writing it (cadre lists, enrollment lists, question banks, documents).

The life of an upload: `keep_upload` stores it at the preview (in the `upload` table, so every
worker process can confirm it); `load_upload` finds it again for the person who made it;
`take_upload` removes it inside the confirming transaction, so that a second confirmation of
the same upload, even a concurrent one, finds nothing (on PostgreSQL it waits for the first
one's row lock); `discard_upload` drops it. An upload nobody confirmed is removed at the next
upload of its kind once it is older than `UPLOAD_KEPT_FOR`.

The same table keeps files the app made for one person to download later, such as the list
of initial passwords of an import: `keep_sealed` stores it encrypted (`app.lib.sealing`),
`open_sealed` gives it back to the same person until `UPLOAD_KEPT_FOR` has passed, and then
removes it. `remove_stale_uploads` (at start-up, see `stale_uploads_lifespan`) removes
everything older than that, of every kind.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.exceptions import NotFoundException

from app.db import write_transaction
from app.errors import MAX_FILE_BYTES
from app.lib.parsing import valid_id
from app.lib.sealing import Unreadable, seal, unseal
from app.tables import Upload, User

MAX_UPLOAD_BYTES = MAX_FILE_BYTES
UPLOAD_KEPT_FOR = timedelta(days=1)
_FILENAME_MAX = 255


def stored_filename(filename: str) -> str:
    """The file's own name without a browser-sent folder, cut to fit Upload.filename (255)."""
    name = re.split(r"[\\/]", filename)[-1] or "未命名文件"
    if len(name) <= _FILENAME_MAX:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        return name[:_FILENAME_MAX]
    return stem[: _FILENAME_MAX - len(ext) - 2] + "…." + ext


async def keep_upload(kind: str, filename: str, content: bytes, user_id: int) -> int:
    """Keep a previewed file until it is confirmed; returns the upload's id. Uploads of this
    kind older than UPLOAD_KEPT_FOR are removed in the same transaction."""
    async with write_transaction():
        return await store_upload(kind, filename, content, user_id)


async def store_upload(kind: str, filename: str, content: bytes, user_id: int) -> int:
    """`keep_upload` inside a write transaction the caller holds."""
    await Upload.delete().where(
        Upload.kind == kind, Upload.created_at < datetime.now(UTC) - UPLOAD_KEPT_FOR
    )
    upload = Upload(kind=kind, filename=filename, content=content, uploaded_by=user_id)
    await upload.save()
    return upload.id


async def load_upload(user: User, upload_id: int, kind: str, gone: str) -> Upload:
    """An upload waiting for its confirmation, if this person made it; 404 (`gone`) otherwise."""
    found = None
    if valid_id(upload_id):
        found = (
            await Upload.objects()
            .where(Upload.id == upload_id, Upload.uploaded_by == user.id, Upload.kind == kind)
            .first()
        )
    if found is None:
        raise NotFoundException(gone)
    return found


async def take_upload(upload_id: int, user_id: int, kind: str) -> tuple[str, bytes] | None:
    """Remove the upload inside the confirming write transaction and return its file name and
    content; None when it is gone (confirmed, discarded, or not this person's)."""
    taken = (
        await Upload.delete()
        .where(Upload.id == upload_id, Upload.uploaded_by == user_id, Upload.kind == kind)
        .returning(Upload.filename, Upload.content)
    )
    return (taken[0]["filename"], bytes(taken[0]["content"])) if taken else None


async def discard_upload(upload_id: int) -> None:
    await Upload.delete().where(Upload.id == upload_id)


# ------------------------------------------------------------------ files made to download later


@dataclass(frozen=True)
class KeptFile:
    filename: str
    content: bytes
    kept_until: datetime


class KeptFileExpired(Exception):
    """The file was there but is older than UPLOAD_KEPT_FOR (or unreadable); it is removed."""


async def keep_sealed(kind: str, filename: str, content: bytes, user_id: int) -> int:
    """Store a file made for `user_id` encrypted, inside the caller's write transaction;
    returns its id. Older files of this kind are removed at the same time."""
    return await store_upload(kind, filename, seal(content), user_id)


async def open_sealed(upload_id: int, user: User, kind: str) -> KeptFile:
    """The file kept for this person, decrypted. NotFoundException when there is none of this
    person's with this id (gone, or someone else's); KeptFileExpired when it was older than
    UPLOAD_KEPT_FOR: then it is removed, with every other such file of its kind."""
    found: dict[str, Any] | None = None
    if valid_id(upload_id):
        found = (
            await Upload.select(Upload.filename, Upload.content, Upload.created_at)
            .where(Upload.id == upload_id, Upload.uploaded_by == user.id, Upload.kind == kind)
            .first()
        )
    if found is None:
        raise NotFoundException("没有找到这个文件。")
    kept_until = found["created_at"] + UPLOAD_KEPT_FOR
    content = None
    if datetime.now(UTC) < kept_until:
        try:
            content = unseal(bytes(found["content"]), int(UPLOAD_KEPT_FOR.total_seconds()))
        except Unreadable:
            content = None
    if content is None:
        async with write_transaction():
            await Upload.delete().where(
                (Upload.id == upload_id)
                | (
                    (Upload.kind == kind)
                    & (Upload.created_at < datetime.now(UTC) - UPLOAD_KEPT_FOR)
                )
            )
        raise KeptFileExpired(found["filename"])
    return KeptFile(found["filename"], content, kept_until)


async def remove_stale_uploads() -> int:
    """Remove every kept upload and file older than UPLOAD_KEPT_FOR; how many were removed."""
    async with write_transaction():
        removed = (
            await Upload.delete()
            .where(Upload.created_at < datetime.now(UTC) - UPLOAD_KEPT_FOR)
            .returning(Upload.id)
        )
    return len(removed)


@asynccontextmanager
async def stale_uploads_lifespan(app: Any) -> AsyncIterator[None]:
    """Remove what is past its time when the app starts (after the database is open)."""
    await remove_stale_uploads()
    yield
