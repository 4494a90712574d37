"""Federation staff make and revoke the bearer tokens of the JSON API (app/api/v1.py)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.accounts.units import chosen_unit, units_in_scope
from app.api.auth import hash_token
from app.api.v1 import API_PATH, SCHEMA_PATH
from app.db import write_transaction
from app.lib.forms import FormBody
from app.lib.parsing import valid_id
from app.tables import ApiToken, User


async def _list_page(
    request: Request, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Template:
    tokens = await ApiToken.select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.created_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
        ApiToken.unit.name.as_alias("unit_name"),
        ApiToken.created_by.name.as_alias("creator_name"),
    ).order_by(ApiToken.id, ascending=False)
    return Template(
        "api/tokens.html",
        context={
            "tokens": tokens,
            "units": await units_in_scope(request.user, active_only=True),
            "form": form,
            "errors": errors,
            "schema_url": f"{SCHEMA_PATH}/openapi.json",
        },
        status_code=status,
    )


@get("/", name="api_tokens")
async def token_list(request: Request) -> Template:
    return await _list_page(request, {}, {})


@post("/", name="api_token_create")
async def token_create(request: Request, data: FormBody) -> Template:
    user: User = request.user
    name = data.get("name", "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "请填写令牌名称，例如使用它的系统。"
    elif len(name) > 100:
        errors["name"] = "令牌名称不能超过 100 个字符。"
    unit = await chosen_unit(user, data.get("unit"))
    if unit is None:
        errors["unit"] = "请选择令牌可以查看的单位。"
    elif not unit.active:
        errors["unit"] = "所选单位已停用。"
    if errors or unit is None:
        return await _list_page(request, data, errors, 400)
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        row = ApiToken(name=name, token_hash=hash_token(token), unit=unit.id, created_by=user.id)
        await row.save()
        await audit.record(
            request, "api_token.create", row, f"新建接口令牌“{name}”，范围“{unit.name}”"
        )
    return Template(
        "api/token_created.html",
        context={
            "name": name,
            "unit_name": unit.name,
            "token": token,
            "example_url": f"{str(request.base_url).rstrip('/')}{API_PATH}/trainings",
        },
        status_code=201,
        # The token is shown once: no copy in the browser's cache or back-button history.
        headers={"Cache-Control": "no-store"},
    )


@post("/{token_id:int}/revoke", name="api_token_revoke")
async def token_revoke(request: Request, token_id: FromPath[int]) -> Redirect:
    row = None
    if valid_id(token_id):
        row = await ApiToken.objects().where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFoundException("没有找到这个接口令牌。")
    if row.revoked_at is not None:
        flash(request, f"接口令牌“{row.name}”早已撤销。", "info")
    else:
        async with write_transaction():
            await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
                ApiToken.id == row.id, ApiToken.revoked_at.is_null()
            )
            await audit.record(request, "api_token.revoke", row, f"撤销接口令牌“{row.name}”")
        flash(request, f"已撤销接口令牌“{row.name}”，使用它的请求将被拒绝。", "success")
    return Redirect(request.app.route_reverse("api_tokens"))


router = Router(
    path="/admin/api-tokens",
    guards=[requires_role("federation_admin")],
    route_handlers=[token_list, token_create, token_revoke],
)
