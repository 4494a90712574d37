"""Sending a file to the browser: one way for every download (.xlsx, .csv, bank files).

Every download is a real URL answered with `Content-Disposition: attachment` and the file's
Chinese name encoded so that every browser keeps it.

WeChat's built-in browser (`MicroMessenger` in its user agent) does not save files: asked
for a download URL, it gets a short page instead (`templates/downloads/wechat.html`) that
says how to open the link in the phone's own browser, shows the link with a 复制链接 button,
and offers 仍然下载 (the same URL with `?wx=direct`) for WeChat on a PC, which can save it.
The rule lives in the responses `download` and `stream_download` make, so that a new
download cannot miss it: the route's own checks (who may have the file) run first, and only
then is the file or the page sent. `tests/test_downloads_wechat.py` asks every download
route in WeChat.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Response, Stream, Template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Litestar adds "; charset=utf-8" to every text/ type itself: named here, it came twice.
CSV = "text/csv"
_READ_CHUNK = 256 * 1024
WECHAT_MARK = "MicroMessenger"
# ?wx=direct: send the file even inside WeChat (WeChat on a PC saves downloads).
DIRECT_PARAM, DIRECT_VALUE = "wx", "direct"
WECHAT_PAGE = "downloads/wechat.html"


def attachment(filename: str) -> str:
    """A Content-Disposition header value that keeps a Chinese file name in every browser."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def in_wechat(request: Request[Any, Any, Any]) -> bool:
    """Whether the request comes from WeChat's built-in browser."""
    return WECHAT_MARK in request.headers.get("user-agent", "")


def direct_url(request: Request[Any, Any, Any]) -> str:
    """This URL with ?wx=direct added (and kept once)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != DIRECT_PARAM]
    params.append((DIRECT_PARAM, DIRECT_VALUE))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return str(request.url.with_replacements(query=query))


def wechat_page(request: Request[Any, Any, Any], filename: str) -> Template:
    """The page WeChat's browser gets instead of the file."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != DIRECT_PARAM]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return Template(
        WECHAT_PAGE,
        context={
            "filename": filename,
            "link": str(request.url.with_replacements(query=query)),
            "direct": direct_url(request),
        },
    )


def sends_file(request: Request[Any, Any, Any]) -> bool:
    """Whether a download answers this request with the file (not with `wechat_page`)."""
    return not in_wechat(request) or request.query_params.get(DIRECT_PARAM) == DIRECT_VALUE


class _SentOutsideWeChat:
    """A download's response: WeChat's browser gets `wechat_page` instead of the file."""

    filename: str

    def to_asgi_response(self, app: Any, request: Request, **kwargs: Any) -> Any:
        if not sends_file(request):
            return wechat_page(request, self.filename).to_asgi_response(
                app, request, **_for_page(kwargs)
            )
        return super().to_asgi_response(app, request, **kwargs)  # type: ignore[misc]


class FileResponse(_SentOutsideWeChat, Response[bytes]):
    """A file made in memory; WeChat's browser gets `wechat_page` instead."""

    def __init__(self, content: bytes, filename: str, media_type: str) -> None:
        super().__init__(
            content, media_type=media_type, headers={"Content-Disposition": attachment(filename)}
        )
        self.filename = filename


class FileStream(_SentOutsideWeChat, Stream):
    """A file sent as it is made; WeChat's browser gets `wechat_page` instead (the chunks are
    never read: a temporary file behind them is closed when the iterator is collected)."""

    def __init__(
        self, chunks: AsyncIterable[bytes] | AsyncIterator[bytes], filename: str, media_type: str
    ) -> None:
        super().__init__(
            chunks, media_type=media_type, headers={"Content-Disposition": attachment(filename)}
        )
        self.filename = filename


def _for_page(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What the route gave for its file that also applies to the page (not its media type or
    status)."""
    return {k: v for k, v in kwargs.items() if k not in ("media_type", "status_code")}


def download(content: bytes, filename: str, media_type: str) -> FileResponse:
    """A file made in memory (a template, a bank export)."""
    return FileResponse(content, filename, media_type)


def stream_download(
    chunks: AsyncIterable[bytes] | AsyncIterator[bytes], filename: str, media_type: str
) -> FileStream:
    """A file sent as it is made (the rosters), so a large one never sits in memory."""
    return FileStream(chunks, filename, media_type)


async def file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """A temporary file in pieces, closed (and so deleted) at the end or when the client
    leaves."""
    try:
        while chunk := file.read(_READ_CHUNK):
            yield chunk
    finally:
        file.close()
