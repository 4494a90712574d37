"""create_app(): wiring only."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, MutableScopeHeaders
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from app import errors, home
from app.accounts.auth import retrieve_user
from app.accounts.guards import own_password_chosen
from app.accounts.routes import ROUTES as ACCOUNT_ROUTES
from app.api.errors import json_under_api
from app.api.routes import ROUTES as API_ROUTES
from app.api.v1 import openapi_config
from app.banks.model import LETTERS, QUESTION_TYPES
from app.banks.routes import ROUTES as BANK_ROUTES
from app.course.routes import ROUTES as COURSE_ROUTES
from app.db import database_lifespan
from app.demo.loading import is_demo_database
from app.lib.uploads import stale_uploads_lifespan
from app.quizzes.answering import sweep_lifespan
from app.quizzes.paper_html import blank_parts, question_html
from app.quizzes.routes import ROUTES as QUIZ_ROUTES
from app.reports.routes import ROUTES as REPORT_ROUTES
from app.reports.summary import percent
from app.sessions import DatabaseStore, SessionCSRFMiddleware, session_config
from app.settings import PROJECT_ROOT, SECRET_KEY_HINT, SettingsError, get_settings
from app.tables import ROLES, UNIT_KINDS
from app.trainings.routes import ROUTES as TRAINING_ROUTES
from app.unit_reports.routes import ROUTES as UNIT_REPORT_ROUTES

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
}
# Browsers that once reached the site over HTTPS keep to it for a year.
HSTS = "max-age=31536000"


def security_headers(https: bool) -> BeforeMessageSendHookHandler:
    """Headers for every response, whatever made it: a page, a download, a static file, the
    JSON API, or an error raised before any route was found. Everything but the static files
    carries names, phone numbers, scores or a form's token, so no browser or proxy keeps it
    (`Cache-Control: no-store`, unless the response says otherwise)."""
    fixed = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if https else {})}

    async def add(message: Message, scope: Scope) -> None:
        # A coroutine: Litestar would run a plain function in a worker thread, twice a request.
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed.items():
            if headers.get(name) is None:
                headers[name] = value
        if not scope["path"].startswith("/static/") and headers.get("Cache-Control") is None:
            headers["Cache-Control"] = "no-store"

    return add


@get(
    "/favicon.ico",
    name="favicon",
    exclude_from_auth=True,
    cache_control=CacheControlHeader(max_age=7 * 24 * 3600),
    include_in_schema=False,
)
async def favicon() -> File:
    """The site's icon where browsers look for it without being told (from the static files)."""
    return File(
        STATIC_DIR / "favicon.ico", media_type="image/x-icon", content_disposition_type="inline"
    )


def _current_user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return request.scope.get("user") if request is not None else None


def _flash_messages(context: dict[str, Any]) -> list[dict[str, str]]:
    """Messages left by `litestar.plugins.flash.flash`; none on pages served without a session."""
    request = context.get("request")
    session = request.scope.get("session") if request is not None else None
    return session.pop("_messages", []) if isinstance(session, dict) else []


def _configure_templates(engine: JinjaTemplateEngine) -> None:
    # Templates change with a new release, not while the site runs (except when debugging).
    engine.engine.auto_reload = get_settings().debug
    engine.register_template_callable("current_user", _current_user)
    engine.register_template_callable("flash_messages", _flash_messages)
    timezone = get_settings().timezone
    engine.engine.filters["local_time"] = lambda value, fmt="%Y-%m-%d %H:%M": (
        value.astimezone(timezone).strftime(fmt) if value else ""
    )
    engine.engine.filters["blank_parts"] = blank_parts
    engine.engine.globals.update(
        {
            "ROLES": ROLES,
            "UNIT_KINDS": UNIT_KINDS,
            "QUESTION_TYPES": QUESTION_TYPES,
            "LETTERS": LETTERS,
            "question_html": question_html,
            "percent": percent,
            "site": {"demo": False},
        }
    )


def create_app() -> Litestar:
    settings = get_settings()
    if not settings.secret_key:
        raise SettingsError(
            f"没有设置 SECRET_KEY。请设置一个至少 32 个字符的随机字符串，例如：{SECRET_KEY_HINT}"
        )
    template_config = TemplateConfig(
        directory=PROJECT_ROOT / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=_configure_templates,
    )

    @asynccontextmanager
    async def site_flags(app: Litestar):
        template_config.engine_instance.engine.globals["site"] = {"demo": await is_demo_database()}
        yield

    session_auth = SessionAuth(
        retrieve_user_handler=retrieve_user,
        session_backend_config=session_config(secure=settings.https),
        # The JSON API authenticates by bearer token, never by the session cookie.
        # Anyone may verify a certificate by its code (/verify/…), signed in or not.
        exclude=["^/static/", "^/favicon.ico", "^/api/", "^/verify/"],
    )
    return Litestar(
        route_handlers=[
            *home.route_handlers,
            favicon,
            *ACCOUNT_ROUTES,
            *COURSE_ROUTES,
            *QUIZ_ROUTES,
            *TRAINING_ROUTES,
            *BANK_ROUTES,
            *REPORT_ROUTES,
            *UNIT_REPORT_ROUTES,
            *API_ROUTES,
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        ],
        template_config=template_config,
        on_app_init=[session_auth.on_app_init],
        # Inside the session middleware (which SessionAuth puts first): the token is bound
        # to the signed-in session.
        middleware=[
            SessionCSRFMiddleware(
                CSRFConfig(
                    secret=settings.secret_key,
                    cookie_secure=settings.https,
                    # The read-only JSON API carries no cookies: no CSRF cookie, no token to
                    # check. Static files have no session and need no token.
                    exclude=["^/api/", "^/static/", "^/favicon.ico$"],
                )
            )
        ],
        stores={"sessions": DatabaseStore()},
        lifespan=[database_lifespan, site_flags, sweep_lifespan, stale_uploads_lifespan],
        guards=[own_password_chosen],
        exception_handlers=json_under_api(errors.exception_handlers),
        before_send=[security_headers(settings.https)],
        # Forms of typed text; the upload pages allow more on their own routes.
        request_max_body_size=errors.MAX_FORM_BYTES,
        # The schema documents the JSON API only (its router opts back in); not the HTML pages.
        openapi_config=openapi_config(),
        include_in_schema=False,
        debug=settings.debug,
    )
