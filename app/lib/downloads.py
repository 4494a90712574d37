"""Sending a file to the browser: one way for every download (.xlsx, .csv, bank files).

Every download is a real URL answered with `Content-Disposition: attachment` and the file's
Chinese name encoded so that every browser (WeChat's included) keeps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import IO
from urllib.parse import quote

from litestar.response import Response, Stream

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Litestar adds "; charset=utf-8" to every text/ type itself: named here, it came twice.
CSV = "text/csv"
_READ_CHUNK = 256 * 1024


def attachment(filename: str) -> str:
    """A Content-Disposition header value that keeps a Chinese file name in every browser."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def download(content: bytes, filename: str, media_type: str) -> Response[bytes]:
    """A file made in memory (a template, a bank export)."""
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": attachment(filename)}
    )


def stream_download(
    chunks: AsyncIterable[bytes] | AsyncIterator[bytes], filename: str, media_type: str
) -> Stream:
    """A file sent as it is made (the rosters), so a large one never sits in memory."""
    return Stream(
        chunks, media_type=media_type, headers={"Content-Disposition": attachment(filename)}
    )


async def file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """A temporary file in pieces, closed (and so deleted) at the end or when the client
    leaves."""
    try:
        while chunk := file.read(_READ_CHUNK):
            yield chunk
    finally:
        file.close()
