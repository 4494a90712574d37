"""Uploaded files waiting for their confirmation: one rule for every import that previews a
file before writing it (cadre lists, enrollment lists, question banks, documents).

The file is kept in the `upload` table between the preview and the confirmation, so every
worker process can confirm it; an upload nobody confirmed is removed at the next upload of its
kind once it is older than `UPLOAD_KEPT_FOR`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.db import write_transaction
from app.errors import MAX_FILE_BYTES
from app.tables import Upload

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
