"""Error pages in Chinese, with a way back; no stack trace reaches a user."""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template

from app.accounts.guards import PasswordChangeRequired

logger = logging.getLogger("peixun")

_MB = 1024 * 1024
# The largest request bodies accepted. Litestar refuses a longer body with 413 as soon as its
# Content-Length says so, before reading any of it, or while streaming it in chunks.
MAX_FILE_BYTES = 10 * _MB  # one uploaded file (every upload page checks it again)
MAX_FORM_BYTES = 1 * _MB  # a form without a file: typed text only
MAX_UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 1 * _MB  # a file, with the form fields around it

_TITLES = {
    400: "提交的内容有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的操作",
    413: "提交的内容太大",
    429: "操作过于频繁",
    500: "系统出错了",
    503: "系统繁忙",
}


def error_page(request: Request, status: int, message: str) -> Template:
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    return Template(
        template,
        context={"status": status, "title": _TITLES.get(status, "出错了"), "message": message},
        status_code=status,
    )


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    """Anonymous visitors are sent to sign in, and come back afterwards.

    After a form was sent with an expired session, they come back to the page of the form.
    """
    if isinstance(exc, PasswordChangeRequired):
        return Redirect(request.app.route_reverse("password"))
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = referer.path + (f"?{referer.query}" if referer.query else "") if same_site else ""
    login = request.app.route_reverse("login")
    return Redirect(f"{login}?next={quote(target)}" if target and target != "/" else login)


def permission_denied(request: Request, exc: PermissionDeniedException) -> Template:
    detail = str(exc.detail or "")
    if "CSRF" in detail:
        message = "页面已过期或来源无法验证，请返回上一页刷新后重新提交。"
    elif detail and detail != "Forbidden":
        message = detail
    else:
        message = "您的账号没有访问此页面的权限。"
    return error_page(request, 403, message)


def not_found(request: Request, exc: NotFoundException) -> Template:
    detail = str(exc.detail or "")
    message = (
        detail if detail and detail != "Not Found" else "您访问的页面不存在，可能已被移动或删除。"
    )
    return error_page(request, 404, message)


def validation_error(request: Request, exc: ValidationException) -> Template:
    return error_page(request, 400, "提交的内容格式不正确，请返回检查后重新提交。")


def http_error(request: Request, exc: HTTPException) -> Template:
    status = exc.status_code
    if status >= 500:
        return server_error(request, exc)
    message = {
        405: "此页面不支持这种操作，请从页面上的按钮进入。",
        429: "操作过于频繁，请稍后再试。",
    }.get(status, "请求无法处理，请返回上一页重试。")
    return error_page(request, status, message)


def body_too_large(request: Request, exc: RequestEntityTooLarge) -> Response:
    """A form or upload over its route's limit: refused before it is read, nothing saved."""
    route_handler = request.scope.get("route_handler")
    limit = route_handler.resolve_request_max_body_size() if route_handler else None
    sends_a_file = request.content_type[0] == "multipart/form-data"
    if sends_a_file and limit is not None and limit >= MAX_UPLOAD_BODY_BYTES:
        message = (
            f"上传的文件太大：每个文件最多 {MAX_FILE_BYTES // _MB} MB，没有导入任何内容。"
            "请拆分成几个较小的文件后分批上传。"
        )
    else:
        most = f"{(limit or MAX_FORM_BYTES) / _MB:g} MB"
        message = f"提交的内容太大（最多 {most}），没有保存。请删减后重新提交。"
    logger.warning("请求内容超过上限（%s 字节）：%s %s", limit, request.method, request.url.path)
    if request.headers.get("x-requested-with") == "fetch":
        return Response({"ok": False, "message": message}, status_code=413)
    return error_page(request, 413, message)


def server_error(request: Request, exc: Exception) -> Template:
    logger.exception("未处理的错误：%s %s", request.method, request.url.path, exc_info=exc)
    return error_page(
        request,
        500,
        "系统出了点问题，您的操作可能没有完成。请稍后重试；如果一直出现，请联系管理员。",
    )


_DATABASE_TROUBLE = {
    # SQLite gave up waiting for the write lock: the transaction was rolled back whole.
    "locked": "系统繁忙，您的操作没有完成，也没有写入任何内容。请稍后重试。",
    "busy": "系统繁忙，您的操作没有完成，也没有写入任何内容。请稍后重试。",
    # The file can't be written (permissions, a read-only disk, a full disk).
    "readonly": "系统暂时无法保存（数据库不能写入），您的操作没有保存。请稍后重试，并告知管理员。",
    "full": "系统暂时无法保存（磁盘已满），您的操作没有保存。请稍后重试，并告知管理员。",
    "disk I/O": "系统暂时无法保存（磁盘读写出错），您的操作没有保存。请稍后重试，并告知管理员。",
}


def database_busy(request: Request, exc: sqlite3.OperationalError) -> Response:
    """The database could not take a write: nothing was written; say so, and what to do."""
    message = next((m for key, m in _DATABASE_TROUBLE.items() if key in str(exc)), None)
    if message is None:
        return server_error(request, exc)
    logger.warning("数据库无法写入（%s）：%s %s", exc, request.method, request.url.path)
    if request.headers.get("x-requested-with") == "fetch":
        return Response({"ok": False, "message": message}, status_code=503)
    return error_page(request, 503, message)


exception_handlers = {
    sqlite3.OperationalError: database_busy,
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: permission_denied,
    NotFoundException: not_found,
    ValidationException: validation_error,
    RequestEntityTooLarge: body_too_large,
    HTTPException: http_error,
    Exception: server_error,
}
