"""The unit tree: materialised paths, scoped listing, and the pages to manage it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from app.accounts import audit
from app.accounts.guards import ADMIN_ROLES, load_unit, requires_role, scope_path
from app.db import is_sqlite, write_transaction
from app.lib.forms import FormBody
from app.tables import UNIT_KINDS, Unit, User

# Any fixed number: the key of the PostgreSQL advisory lock that serialises moves in the tree.
_TREE_LOCK = 7_042_023


@dataclass(frozen=True)
class TreeRow:
    """A unit placed in the tree: its depth below the top shown, and head counts of its subtree."""

    unit: dict[str, Any]
    level: int
    people: int
    subtree_people: int


def tree_order(units: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Units in depth-first order, siblings by sort_order then name; orphans of the slice on top."""
    ids = {u["id"] for u in units}
    children: dict[int | None, list[dict[str, Any]]] = {}
    for unit in units:
        parent = unit["parent"] if unit["parent"] in ids else None
        children.setdefault(parent, []).append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda u: (u["sort_order"], u["name"]))
    ordered: list[dict[str, Any]] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit["id"], [])))
    return ordered


def tree_rows(units: Sequence[dict[str, Any]], people_by_unit: dict[int, int]) -> list[TreeRow]:
    """Rows for the tree table, with every unit's own and subtree head counts."""
    ordered = tree_order(units)
    subtree_totals: dict[str, int] = {}
    for unit in units:
        count = people_by_unit.get(unit["id"], 0)
        for prefix in path_prefixes(unit["path"]):
            subtree_totals[prefix] = subtree_totals.get(prefix, 0) + count
    top = min((u["depth"] for u in units), default=0)
    return [
        TreeRow(
            unit=u,
            level=u["depth"] - top,
            people=people_by_unit.get(u["id"], 0),
            subtree_people=subtree_totals.get(u["path"], 0),
        )
        for u in ordered
    ]


def path_prefixes(path: str) -> Iterable[str]:
    """ "/1/4/17/" -> "/1/", "/1/4/", "/1/4/17/"."""
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        yield "/" + "/".join(parts[:i]) + "/"


async def units_in_scope(user: User, active_only: bool = False) -> list[dict[str, Any]]:
    query = Unit.select().where(Unit.path.like(scope_path(user) + "%"))
    if active_only:
        query = query.where(Unit.active.eq(True))
    return tree_order(await query)


async def people_counts(user: User) -> dict[int, int]:
    """Active people per unit in the person's scope, counted in SQL."""
    rows = await (
        User.select(User.unit, Count(User.id).as_alias("n"))
        .where(User.active.eq(True), User.unit.path.like(scope_path(user) + "%"))
        .group_by(User.unit)
    )
    return {row["unit"]: row["n"] for row in rows}


async def create_unit(name: str, kind: str, parent: Unit | None, sort_order: int = 0) -> Unit:
    """A new unit under `parent` (None for the root); call inside a write transaction."""
    unit = Unit(name=name, kind=kind, parent=parent.id if parent else None, sort_order=sort_order)
    await unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    unit.depth = parent.depth + 1 if parent else 0
    await Unit.update({Unit.path: unit.path, Unit.depth: unit.depth}).where(Unit.id == unit.id)
    return unit


class MoveRefused(ValueError):
    """The move would put a unit under itself; the message is for the user."""


async def move_unit(unit_id: int, new_parent_id: int) -> None:
    """Re-hang a unit and its subtree under another; call inside a write transaction.

    Both units are read again inside the transaction (after taking the tree lock on
    PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock), so two moves at
    once cannot leave stale paths or a cycle.
    """
    if not is_sqlite():
        await Unit.raw("SELECT pg_advisory_xact_lock({})", _TREE_LOCK)
    unit = await Unit.objects().where(Unit.id == unit_id).first()
    new_parent = await Unit.objects().where(Unit.id == new_parent_id).first()
    if new_parent.path.startswith(unit.path):
        raise MoveRefused("不能把单位移到它自己或它的下级单位之下。")
    new_path = f"{new_parent.path}{unit.id}/"
    shift = new_parent.depth + 1 - unit.depth
    await Unit.raw(
        "UPDATE unit SET path = {} || substr(path, {}), depth = depth + {} WHERE path LIKE {}",
        new_path,
        len(unit.path) + 1,
        shift,
        unit.path + "%",
    )
    await Unit.update({Unit.parent: new_parent.id}).where(Unit.id == unit.id)


def name_problem(name: str) -> str | None:
    if not name:
        return "单位名称不能为空。"
    if len(name) > 100:
        return "单位名称不能超过 100 个字符。"
    return None


async def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = Unit.exists().where(Unit.name == name)
    if except_id is not None:
        query = query.where(Unit.id != except_id)
    return await query


async def chosen_unit(user: User, raw: str | None) -> Unit | None:
    """The unit picked in a form, or None when the choice is empty, unknown or outside the scope."""
    try:
        return await load_unit(user, int(raw or ""))
    except (ValueError, NotFoundException, PermissionDeniedException):
        return None


def _editable(user: User, unit: Unit) -> None:
    """Unit admins manage the units below their own, not their own unit's place or name."""
    if user.role != "federation_admin" and unit.id == user.unit.id:
        raise PermissionDeniedException("您不能修改本单位自身，请联系上级工会。")


def _kind_choices(user: User) -> dict[str, str]:
    if user.role == "federation_admin":
        return UNIT_KINDS
    return {k: v for k, v in UNIT_KINDS.items() if k != "city_federation"}


async def _tree_page(request: Request, form: dict[str, str], errors: dict[str, str], status: int):
    user: User = request.user
    units = await units_in_scope(user)
    rows = tree_rows(units, await people_counts(user))
    return Template(
        "units/tree.html",
        context={
            "rows": rows,
            "kinds": UNIT_KINDS,
            "kind_choices": _kind_choices(user),
            "parents": [r for r in rows if r.unit["active"]],
            "form": form,
            "errors": errors,
        },
        status_code=status,
    )


@get("/units", name="units")
async def unit_tree(request: Request) -> Template:
    return await _tree_page(request, {}, {}, 200)


@post("/units", name="unit_create")
async def unit_create(request: Request, data: FormBody) -> Template | Redirect:
    user: User = request.user
    name = data.get("name", "").strip()
    kind = data.get("kind", "")
    errors: dict[str, str] = {}
    if problem := name_problem(name):
        errors["name"] = problem
    elif await _name_taken(name):
        errors["name"] = f"已有名为“{name}”的单位，请换一个名称。"
    if kind not in _kind_choices(user):
        errors["kind"] = "请选择单位类别。"
    parent = await chosen_unit(user, data.get("parent"))
    if parent is None:
        errors["parent"] = "请选择上级单位。"
    elif not parent.active:
        errors["parent"] = "上级单位已停用，请先启用它。"
    if errors:
        return await _tree_page(request, data, errors, 400)
    async with write_transaction():
        unit = await create_unit(name, kind, parent)
        await audit.record(request, "unit.create", unit, f"在“{parent.name}”下新建“{name}”")
    flash(request, f"已新建单位“{name}”。", "success")
    return Redirect(request.app.route_reverse("units"))


async def _edit_page(request: Request, unit: Unit, errors: dict[str, str], status: int = 200):
    user: User = request.user
    units = await units_in_scope(user)
    # The current parent stays selectable even when inactive: the browser would otherwise
    # submit the first option and move the unit there.
    parents = [
        u
        for u in units
        if (u["active"] or u["id"] == unit.parent) and not u["path"].startswith(unit.path)
    ]
    people = await User.count().where(User.active.eq(True), User.unit.path.like(unit.path + "%"))
    children = await Unit.count().where(Unit.active.eq(True), Unit.parent == unit.id)
    return Template(
        "units/edit.html",
        context={
            "unit": unit,
            "parents": parents,
            "kinds": _kind_choices(user),
            "errors": errors,
            "people": people,
            "children": children,
            "top": min((u["depth"] for u in units), default=0),
        },
        status_code=status,
    )


@get("/units/{unit_id:int}", name="unit_edit")
async def unit_edit(request: Request, unit_id: FromPath[int]) -> Template:
    unit = await load_unit(request.user, unit_id)
    return await _edit_page(request, unit, {})


@post("/units/{unit_id:int}", name="unit_update")
async def unit_update(
    request: Request, unit_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    user: User = request.user
    unit = await load_unit(user, unit_id)
    _editable(user, unit)
    name = data.get("name", "").strip()
    kind = data.get("kind", unit.kind)
    errors: dict[str, str] = {}
    if problem := name_problem(name):
        errors["name"] = problem
    elif await _name_taken(name, except_id=unit.id):
        errors["name"] = f"已有名为“{name}”的单位，请换一个名称。"
    if kind not in _kind_choices(user) and kind != unit.kind:
        errors["kind"] = "请选择单位类别。"
    new_parent = None
    if unit.parent is not None and data.get("parent"):
        new_parent = await chosen_unit(user, data["parent"])
        if new_parent is None:
            errors["parent"] = "请选择上级单位。"
        elif new_parent.path.startswith(unit.path):
            errors["parent"] = "不能把单位移到它自己或它的下级单位之下。"
        elif new_parent.id != unit.parent and not new_parent.active:
            errors["parent"] = "上级单位已停用，请先启用它。"
    if errors:
        unit.name = name or unit.name
        return await _edit_page(request, unit, errors, 400)
    changes = []
    try:
        async with write_transaction():
            if name != unit.name or kind != unit.kind:
                await Unit.update({Unit.name: name, Unit.kind: kind}).where(Unit.id == unit.id)
                await audit.record(request, "unit.rename", unit, f"“{unit.name}”改为“{name}”")
                changes.append("名称和类别")
            if new_parent is not None and new_parent.id != unit.parent:
                await move_unit(unit.id, new_parent.id)
                summary = f"“{name}”移到“{new_parent.name}”之下"
                await audit.record(request, "unit.move", unit, summary)
                changes.append("上级单位")
    except MoveRefused as refused:
        return await _edit_page(request, unit, {"parent": str(refused)}, 400)
    flash(
        request, f"已保存“{name}”的{'、'.join(changes)}。" if changes else "没有改动。", "success"
    )
    return Redirect(request.app.route_reverse("units"))


@post("/units/{unit_id:int}/active", name="unit_set_active")
async def unit_set_active(
    request: Request, unit_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    user: User = request.user
    unit = await load_unit(user, unit_id)
    _editable(user, unit)
    activate = data.get("active") == "1"
    if activate and unit.parent is not None:
        parent = await Unit.objects().where(Unit.id == unit.parent).first()
        if parent is not None and not parent.active:
            return await _edit_page(
                request, unit, {"active": f"上级单位“{parent.name}”已停用，请先启用它。"}, 400
            )
    if not activate:
        if unit.parent is None:
            return await _edit_page(request, unit, {"active": "根单位不能停用。"}, 400)
        children = await Unit.count().where(Unit.active.eq(True), Unit.parent == unit.id)
        people = await User.count().where(User.active.eq(True), User.unit == unit.id)
        if children or people:
            return await _edit_page(
                request,
                unit,
                {
                    "active": f"“{unit.name}”下还有 {children} 个启用的下级单位和 {people} 名"
                    "启用的人员，请先停用或转移他们。"
                },
                400,
            )
    async with write_transaction():
        await Unit.update({Unit.active: activate}).where(Unit.id == unit.id)
        action = "unit.activate" if activate else "unit.deactivate"
        await audit.record(request, action, unit, f"{'启用' if activate else '停用'}“{unit.name}”")
    flash(request, f"已{'启用' if activate else '停用'}“{unit.name}”。", "success")
    return Redirect(request.app.route_reverse("units"))


router = Router(
    path="/",
    guards=[requires_role(*ADMIN_ROLES)],
    route_handlers=[unit_tree, unit_create, unit_edit, unit_update, unit_set_active],
)
