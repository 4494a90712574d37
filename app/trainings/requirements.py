"""年度学时要求: federation staff set how many 学时 a person must earn in a year, city-wide
or for one role or unit kind (the most specific that matches applies,
`credit_rules.requirement_for`), and `requirement_of` finds the one of a person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import audit
from app.accounts.guards import requires_role
from app.db import write_transaction
from app.lib.forms import FormBody
from app.lib.parsing import form_number, valid_id
from app.tables import ROLES, UNIT_KINDS, CreditRequirement, User
from app.trainings.credit_rules import hours_text, requirement_for
from app.trainings.credits import credit_year

YEARS = range(2000, 2101)
MAX_HOURS = 1000


def parse_requirement_form(data: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of the requirement form and the problems with them, in Chinese (pure)."""
    errors: dict[str, str] = {}
    year_text = (data.get("year") or "").strip()
    year = int(year_text) if year_text.isdigit() else None
    if year is None or year not in YEARS:
        errors["year"] = "请填写年度，例如 2026。"
    hours = form_number((data.get("hours") or "").strip())
    if hours is None or not 0 < hours <= MAX_HOURS:
        errors["hours"] = f"请填写大于 0、不超过 {MAX_HOURS} 的学时数，例如 50。"
    role = (data.get("role") or "").strip()
    if role and role not in ROLES:
        errors["role"] = "请选择角色，或选“全部角色”。"
    unit_kind = (data.get("unit_kind") or "").strip()
    if unit_kind and unit_kind not in UNIT_KINDS:
        errors["unit_kind"] = "请选择单位类别，或选“全部单位”。"
    note = (data.get("note") or "").strip()
    if len(note) > 200:
        errors["note"] = "说明不能超过 200 个字。"
    values = {"year": year, "hours": hours, "role": role, "unit_kind": unit_kind, "note": note}
    return values, errors


def requirement_text(row: dict[str, Any]) -> str:
    """Who a requirement is for, in Chinese: "2026 年 · 学员 · 基层工会：50 学时"."""
    who = " · ".join(
        part for part in (ROLES.get(row["role"], ""), UNIT_KINDS.get(row["unit_kind"], "")) if part
    )
    return f"{row['year']} 年 · {who or '全市'}：{hours_text(row['hours'])} 学时"


async def requirement_of(user: User, year: int) -> dict[str, Any] | None:
    """The requirement that applies to the person in the year (None: none is set)."""
    rows = await CreditRequirement.select().where(CreditRequirement.year == year)
    kind = getattr(user.unit, "kind", "") or ""
    found = requirement_for(rows, year, user.role, kind)
    return dict(found) if found else None


async def _row(requirement_id: int) -> dict[str, Any]:
    row = None
    if valid_id(requirement_id):
        row = await CreditRequirement.select().where(CreditRequirement.id == requirement_id).first()
    if row is None:
        raise NotFoundException("没有找到这项年度学时要求。")
    return row


async def _taken(values: dict[str, Any], other_than: int | None = None) -> bool:
    query = CreditRequirement.exists().where(
        CreditRequirement.year == values["year"],
        CreditRequirement.role == values["role"],
        CreditRequirement.unit_kind == values["unit_kind"],
    )
    if other_than is not None:
        query = query.where(CreditRequirement.id != other_than)
    return await query


def _form_context(form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {"form": form, "errors": errors, "roles": ROLES, "unit_kinds": UNIT_KINDS}


async def _list_page(
    request: Request, form: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Template:
    rows = await CreditRequirement.select(
        CreditRequirement.all_columns(), CreditRequirement.updated_by.name.as_alias("by_name")
    ).order_by(CreditRequirement.year, ascending=False)
    rows.sort(key=lambda r: (-r["year"], bool(r["role"]), bool(r["unit_kind"]), r["role"]))
    return Template(
        "credits/requirements.html",
        context={
            "requirements": rows,
            "this_year": credit_year(datetime.now(UTC)),
            **_form_context(form, errors),
        },
        status_code=status,
    )


@get("/", name="credit_requirements")
async def requirement_list(request: Request) -> Template:
    return await _list_page(request, {}, {})


@post("/", name="credit_requirement_create")
async def requirement_create(request: Request, data: FormBody) -> Template | Redirect:
    values, errors = parse_requirement_form(data)
    if not errors and await _taken(values):
        errors["year"] = "这一年度已有同样范围的要求，请在列表中修改它。"
    if errors:
        return await _list_page(request, data, errors, 400)
    async with write_transaction():
        row = CreditRequirement(**values, updated_by=request.user.id)
        await row.save()
        await audit.record(
            request,
            "credit_requirement.create",
            row,
            f"设置年度学时要求：{requirement_text(values)}",
        )
    flash(request, f"已设置年度学时要求：{requirement_text(values)}", "success")
    return Redirect(request.app.route_reverse("credit_requirements"))


@get("/{requirement_id:int}", name="credit_requirement")
async def requirement_edit(request: Request, requirement_id: FromPath[int]) -> Template:
    row = await _row(requirement_id)
    return Template("credits/requirement_edit.html", context={"row": row, **_form_context(row, {})})


@post("/{requirement_id:int}", name="credit_requirement_update")
async def requirement_update(
    request: Request, requirement_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    row = await _row(requirement_id)
    values, errors = parse_requirement_form(data)
    if not errors and await _taken(values, other_than=row["id"]):
        errors["year"] = "这一年度已有同样范围的要求。"
    if errors:
        return Template(
            "credits/requirement_edit.html",
            context={"row": row, **_form_context(data, errors)},
            status_code=400,
        )
    async with write_transaction():
        await CreditRequirement.update(
            {
                **{getattr(CreditRequirement, k): v for k, v in values.items()},
                CreditRequirement.updated_by: request.user.id,
                CreditRequirement.updated_at: datetime.now(UTC),
            }
        ).where(CreditRequirement.id == row["id"])
        await audit.record(
            request,
            "credit_requirement.update",
            None,
            f"修改年度学时要求：{requirement_text(row)} 改为 {requirement_text(values)}",
        )
    flash(request, f"已修改年度学时要求：{requirement_text(values)}", "success")
    return Redirect(request.app.route_reverse("credit_requirements"))


@post("/{requirement_id:int}/delete", name="credit_requirement_delete")
async def requirement_delete(request: Request, requirement_id: FromPath[int]) -> Redirect:
    row = await _row(requirement_id)
    async with write_transaction():
        await CreditRequirement.delete().where(CreditRequirement.id == row["id"])
        await audit.record(
            request, "credit_requirement.delete", None, f"删除年度学时要求：{requirement_text(row)}"
        )
    flash(request, f"已删除年度学时要求：{requirement_text(row)}", "success")
    return Redirect(request.app.route_reverse("credit_requirements"))


router = Router(
    path="/credits/requirements",
    guards=[requires_role("federation_admin")],
    route_handlers=[
        requirement_list,
        requirement_create,
        requirement_edit,
        requirement_update,
        requirement_delete,
    ],
)
