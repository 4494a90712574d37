"""Trainers' 补考与延期 pages of a quiz: the overrides of cadres in their scope with a revoke
button, a form for one cadre (found by name, phone or staff number), and an uploaded list
(upload → preview with every problem by row and column → confirm, all or nothing).

The checking is `app/quizzes/override_check.py`, the writing `app/quizzes/override_grants.py`,
the rule `app/quizzes/allowance.py`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.guards import requires_role
from app.errors import MAX_UPLOAD_BODY_BYTES
from app.lib.uploads import MAX_UPLOAD_BYTES, stored_filename
from app.quizzes.override_check import (
    HEADER_ALIASES,
    LABELS,
    MAX_EXTRA_ATTEMPTS,
    MAX_EXTRA_MINUTES,
    check_grant,
)
from app.quizzes.override_grants import (
    UploadRefused,
    check_upload,
    find_cadres,
    grant_one,
    grant_uploaded,
    listed_overrides,
    load_cadre,
    load_quiz,
    revoke,
)
from app.settings import get_settings
from app.tables import User

FIELDS = ("who", "extra_attempts", "extra_minutes", "closes_at", "reason")
DONE = {"created": "已授予", "updated": "已修改", "unchanged": "没有变化："}


async def _page(
    request: Request,
    quiz: dict[str, Any],
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    choices: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "quizzes/overrides.html",
        context={
            "quiz": quiz,
            "overrides": await listed_overrides(request.user, quiz["id"]),
            "form": form or dict.fromkeys(FIELDS, ""),
            "errors": errors or {},
            "choices": choices or [],
            "max_attempts": MAX_EXTRA_ATTEMPTS,
            "max_minutes": MAX_EXTRA_MINUTES,
            "columns": list(HEADER_ALIASES),
        },
        status_code=status,
    )


def _back(request: Request, quiz: dict[str, Any], text: str, kind: str = "success") -> Redirect:
    flash(request, text, kind)
    return Redirect(request.app.route_reverse("quiz_overrides", quiz_slug=quiz["slug"]))


@get("/quizzes/{quiz_slug:str}/overrides", name="quiz_overrides")
async def overrides_page(request: Request, quiz_slug: FromPath[str]) -> Template:
    return await _page(request, await load_quiz(quiz_slug))


@post("/quizzes/{quiz_slug:str}/overrides", name="quiz_override_grant")
async def override_grant(request: Request, quiz_slug: FromPath[str]) -> Template | Redirect:
    user: User = request.user
    quiz = await load_quiz(quiz_slug)
    data = await request.form()
    form = {key: str(data.get(key) or "").strip() for key in FIELDS}
    grant, errors = check_grant(form, quiz, get_settings().timezone)
    choices: list[dict[str, Any]] = []
    cadre = None
    picked = str(data.get("account") or "")
    if picked.isdigit():
        cadre = await load_cadre(user, int(picked))
    elif not form["who"]:
        errors["who"] = "请填写学员的姓名、手机号或工号。"
    else:
        choices = await find_cadres(user, form["who"])
        if not choices:
            wanted = form["who"][:50]
            errors["who"] = f"在您的管理范围内没有找到“{wanted}”，请核对姓名、手机号或工号。"
        elif len(choices) == 1:
            cadre = choices[0]
            choices = []
        else:
            errors["who"] = f"找到 {len(choices)} 位学员，请选择是哪一位。"
    if errors or grant is None or cadre is None:
        return await _page(request, quiz, form, errors, choices, status=400)
    done = await grant_one(request, quiz, cadre, grant)
    return _back(request, quiz, f"{DONE[done]}“{cadre['name']}”的补考与延期。")


@post("/quizzes/{quiz_slug:str}/overrides/{override_id:int}/revoke", name="quiz_override_revoke")
async def override_revoke(
    request: Request, quiz_slug: FromPath[str], override_id: FromPath[int]
) -> Redirect:
    quiz = await load_quiz(quiz_slug)
    name = await revoke(request, quiz, override_id)
    if name is None:
        return _back(request, quiz, "这项补考与延期已经撤销过了。", "info")
    return _back(request, quiz, f"已撤销“{name}”的补考与延期；已开始的作答不受影响。")


@post(
    "/quizzes/{quiz_slug:str}/overrides/upload",
    name="quiz_override_upload",
    request_max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def override_upload(request: Request, quiz_slug: FromPath[str]) -> Template:
    quiz = await load_quiz(quiz_slug)
    upload = (await request.form()).get("file")
    context: dict[str, Any] = {"quiz": quiz, "plan": None, "columns": list(HEADER_ALIASES)}
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["error"] = "请选择要上传的名单文件（.xlsx 或 .csv）。"
        return Template("quizzes/overrides_upload.html", context=context, status_code=400)
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        context["error"] = f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批上传。"
        return Template("quizzes/overrides_upload.html", context=context, status_code=400)
    filename = stored_filename(upload.filename)
    plan, upload_id = await check_upload(request.user, quiz, filename, content)
    context.update(plan=plan, filename=filename, upload_id=upload_id, labels=LABELS)
    return Template(
        "quizzes/overrides_upload.html", context=context, status_code=200 if plan.ok else 400
    )


@post(
    "/quizzes/{quiz_slug:str}/overrides/upload/{upload_id:int}",
    name="quiz_override_upload_confirm",
)
async def override_upload_confirm(
    request: Request, quiz_slug: FromPath[str], upload_id: FromPath[int]
) -> Template | Redirect:
    quiz = await load_quiz(quiz_slug)
    try:
        filename, count = await grant_uploaded(request, quiz, upload_id)
    except UploadRefused as refused:
        context = {
            "quiz": quiz,
            "plan": refused.plan,
            "changed": True,
            "columns": list(HEADER_ALIASES),
        }
        return Template("quizzes/overrides_upload.html", context=context, status_code=409)
    return _back(request, quiz, f"已从“{filename}”为 {count} 位学员授予补考与延期。")


router = Router(
    path="/admin",
    guards=[requires_role("trainer")],
    route_handlers=[
        overrides_page,
        override_grant,
        override_revoke,
        override_upload,
        override_upload_confirm,
    ],
)
