"""Uploaded files waiting for their confirmation: one rule for every import that previews a
file before writing it (cadre lists, enrollment lists, question banks, documents).

The life of an upload: `keep_upload` stores it at the preview (in the `upload` table, so every
worker process can confirm it); `load_upload` finds it again for the person who made it;
`take_upload` removes it inside the confirming transaction, so that a second confirmation of
the same upload, even a concurrent one, finds nothing (on PostgreSQL it waits for the first
one's row lock); `discard_upload` drops it. An upload nobody confirmed is removed at the next
upload of its kind once it is older than `UPLOAD_KEPT_FOR`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from litestar.exceptions import NotFoundException

from app.db import write_transaction
from app.errors import MAX_FILE_BYTES
from app.lib.parsing import valid_id
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
