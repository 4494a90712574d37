"""Errors of the JSON API: JSON `{"error": "…"}` in Chinese, never the HTML error pages."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from app.api.auth import TOKEN_INVALID

logger = logging.getLogger("peixun")


class ApiError(msgspec.Struct):
    """An error: what went wrong, in Chinese."""

    error: str


_DEFAULT_MESSAGES = {
    400: "请求参数不正确。",
    401: TOKEN_INVALID,
    403: "无权访问：超出令牌的单位范围。",
    404: "没有找到请求的内容。",
    405: "接口只支持 GET 请求。",
    429: "请求过于频繁，请稍后再试。",
}
# Litestar's own English details, replaced by the Chinese defaults above.
_GENERIC_DETAILS = {
    "Bad Request",
    "Unauthorized",
    "Forbidden",
    "Not Found",
    "Method Not Allowed",
    "Too Many Requests",
    "Validation failed",
}


def api_error(request: Request, exc: Exception) -> Response[ApiError]:
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        logger.warning("数据库繁忙：%s %s", request.method, request.url.path)
        return Response(ApiError("系统繁忙，请稍后重试。"), status_code=503)
    if not isinstance(exc, HTTPException) or exc.status_code >= 500:
        logger.exception("未处理的错误：%s %s", request.method, request.url.path, exc_info=exc)
        return Response(ApiError("系统出错了，请稍后重试。"), status_code=500)
    status = exc.status_code
    detail = str(exc.detail or "")
    if isinstance(exc, ValidationException):
        fields = sorted({str(e.get("key")) for e in exc.extra or [] if isinstance(e, dict)} - {""})
        message = "请求参数不正确" + (f"：{'、'.join(fields)}" if fields else "。")
    elif detail and detail not in _GENERIC_DETAILS and "method not allowed" not in detail.lower():
        message = detail
    else:
        message = _DEFAULT_MESSAGES.get(status, "请求无法处理。")
    headers = dict(exc.headers or {})  # e.g. Allow, on a 405
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(ApiError(message), status_code=status, headers=headers)


# Every class the app's HTML handlers know is listed, so none of them wins over this one.
exception_handlers: dict[Any, Any] = {
    sqlite3.OperationalError: api_error,
    NotAuthorizedException: api_error,
    PermissionDeniedException: api_error,
    NotFoundException: api_error,
    ValidationException: api_error,
    HTTPException: api_error,
    Exception: api_error,
}


def json_under_api(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app's exception handlers, answering JSON for paths under /api/ instead.

    Errors of routing itself (an unknown path, a method other than GET) are raised before
    any route is chosen, so the API router's own handlers never see them.
    """

    def for_api(handler: Any) -> Any:
        def handle(request: Request, exc: Exception) -> Response:
            if request.url.path.startswith("/api/"):
                return api_error(request, exc)
            return handler(request, exc)

        return handle

    return {exc_type: for_api(handler) for exc_type, handler in handlers.items()}
