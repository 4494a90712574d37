"""Cadres and staff accounts: list, search, create, edit, deactivate, reset password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Stream, Template
from piccolo.columns.combination import WhereRaw

from app.accounts import audit
from app.accounts.auth import normalize_username
from app.accounts.cadre_import import normalize_phone
from app.accounts.guards import ADMIN_ROLES, load_person, load_unit, requires_role, scope_path
from app.accounts.passwords import generate_initial_password, hash_initial_password
from app.accounts.people_file import people_book, people_file_name
from app.accounts.units import chosen_unit, units_in_scope
from app.db import write_transaction
from app.lib.downloads import XLSX, file_chunks, stream_download
from app.lib.forms import FormBody
from app.lib.pagination import Page
from app.settings import get_settings
from app.tables import ROLES, UNIT_KINDS, Unit, User

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,50}\Z")
# Han characters of every CJK block (rare ones such as 䶮 or 𠀾 appear in real names, and the
# Excel import accepts them), 〇, Latin letters, the middle dots of minority names, spaces.
NAME = re.compile(
    r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff〇A-Za-z·・.\s]{1,30}\Z"
)
DIGITS = re.compile(r"[0-9]{1,10}")
FIELDS = ("name", "username", "phone", "unit", "position", "gender", "staff_no", "role")


def role_choices(actor: User) -> dict[str, str]:
    """The roles this person may give: unit admins give only cadre and unit admin."""
    if actor.role == "federation_admin":
        return ROLES
    return {k: ROLES[k] for k in ("cadre", "unit_admin")}


def person_problems(form: dict[str, str], roles: dict[str, str]) -> dict[str, str]:
    """Field -> Chinese message for every field of the person form that is wrong (pure)."""
    errors: dict[str, str] = {}
    name = form.get("name", "")
    if not name:
        errors["name"] = "请填写姓名。"
    elif not NAME.match(name):
        errors["name"] = "姓名只能包含汉字、字母和“·”，不超过 30 个字。"
    phone = form.get("phone", "")
    if phone and normalize_phone(phone) != phone:
        errors["phone"] = f"手机号“{phone}”不是有效的 11 位手机号码。"
    username = form.get("username", "")
    if not username:
        errors["username"] = "请填写用户名（手机号或工号），或填写手机号作为用户名。"
    elif not USERNAME.match(username):
        errors["username"] = "用户名只能由 3 到 50 个字母、数字、“_”“-”“.”组成。"
    if len(form.get("position", "")) > 50:
        errors["position"] = "职务不能超过 50 个字。"
    if form.get("gender", "") not in ("", "男", "女"):
        errors["gender"] = "性别请选择“男”或“女”。"
    if len(form.get("staff_no", "")) > 50:
        errors["staff_no"] = "工号不能超过 50 个字符。"
    if form.get("role") not in roles:
        errors["role"] = "请选择角色。"
    return errors


def _clean(data: dict[str, str]) -> dict[str, str]:
    form = {field: data.get(field, "").strip() for field in FIELDS}
    # Full-width digits and letters, as a Chinese input method types them, become ASCII.
    form["phone"] = normalize_phone(form["phone"]) or form["phone"]
    form["username"] = normalize_username(form["username"])
    if not form["username"]:
        form["username"] = form["phone"]
    return form


async def _check(actor: User, form: dict[str, str], person_id: int | None = None):
    errors = person_problems(form, role_choices(actor))
    unit: Unit | None = await chosen_unit(actor, form["unit"])
    if unit is None:
        errors["unit"] = "请选择所在单位。"
    elif not unit.active:
        errors["unit"] = "所选单位已停用。"
    if "username" not in errors:
        taken = User.exists().where(User.username == form["username"])
        if person_id is not None:
            taken = taken.where(User.id != person_id)
        if await taken:
            errors["username"] = f"用户名“{form['username']}”已被其他账号使用。"
    if form["phone"] and "phone" not in errors:
        # One number, one person: imports refuse a number on file for any account too.
        taken = User.exists().where(
            (User.phone == form["phone"]) | (User.username == form["phone"])
        )
        if person_id is not None:
            taken = taken.where(User.id != person_id)
        if await taken:
            errors["phone"] = f"手机号 {form['phone']} 已被其他账号使用。"
    return errors, unit


def person_matches(text: str) -> WhereRaw:
    """Name, username or phone contains `text`: literally (no wildcards), ignoring ASCII case,
    the same on SQLite and PostgreSQL (whose LIKE is case-sensitive)."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text.lower()) + "%"
    escape = "ESCAPE '\\'"
    table = User._meta.tablename
    sql = " OR ".join(
        f'lower("{table}"."{column}") LIKE {{}} {escape}'
        for column in ("name", "username", "phone")
    )
    return WhereRaw(f"({sql})", pattern, pattern, pattern)


@dataclass(frozen=True)
class PeopleFilters:
    """The filters of the people list as the query string gave them, checked: the same for the
    page and its .xlsx."""

    q: str
    unit: int | None
    role: str
    status: str
    conditions: list[Any]
    unit_name: str  # the unit whose subtree is listed


async def people_filters(user: User, q: str, unit_id: str, role: str, status: str):
    """The conditions of the list: this person's scope (403 for a unit outside it), then the
    unit, role, status and search filters."""
    path = scope_path(user)
    unit_name = "全部单位" if path == "/" else user.unit.name
    unit = int(unit_id) if DIGITS.fullmatch(unit_id) else None
    if unit is not None:
        chosen = await load_unit(user, unit)
        path, unit_name = chosen.path, chosen.name
    conditions: list[Any] = [User.unit.path.like(path + "%")]
    if role in ROLES:
        conditions.append(User.role == role)
    if status in ("active", "inactive"):
        conditions.append(User.active.eq(status == "active"))
    q = q.strip()
    if q:
        conditions.append(person_matches(q))
    return PeopleFilters(q, unit, role, status, conditions, unit_name)


PEOPLE_COLUMNS = (
    User.id,
    User.name,
    User.username,
    User.phone,
    User.staff_no,
    User.position,
    User.role,
    User.active,
    User.must_change_password,
    User.last_login_at,
    User.unit.name.as_alias("unit_name"),
)


def people_in_order(filters: PeopleFilters):
    """The people the filters give, by unit (tree order) and then as they were added."""
    return (
        User.select(*PEOPLE_COLUMNS)
        .where(*filters.conditions)
        .order_by(User.unit.path)
        .order_by(User.id)
    )


@get("/people", name="people")
async def people_list(
    request: Request,
    q: FromQuery[str] = "",
    unit_id: Annotated[str, QueryParameter(name="unit")] = "",
    role: FromQuery[str] = "",
    status: FromQuery[str] = "active",
    page: FromQuery[int] = 1,
) -> Template:
    user: User = request.user
    filters = await people_filters(user, q, unit_id, role, status)
    pager = Page(number=page, total=await User.count().where(*filters.conditions))
    people = await people_in_order(filters).offset(pager.offset).limit(pager.size)
    query = {"q": filters.q, "unit": filters.unit or "", "role": role, "status": status}
    this_year = datetime.now(get_settings().timezone).year
    return Template(
        "people/list.html",
        context={
            "people": people,
            "pager": pager,
            "units": await units_in_scope(user),
            "roles": ROLES,
            "filters": {"q": filters.q, "unit": filters.unit, "role": role, "status": status},
            # Years offered for the unit's 学习档案 .zip (trainings/record_pages.py).
            "record_years": [this_year - n for n in range(3)],
            "xlsx_url": request.app.route_reverse("people_xlsx")
            + "?"
            + urlencode({k: v for k, v in query.items() if v}),
        },
    )


@get("/people.xlsx", name="people_xlsx")
async def people_xlsx(
    request: Request,
    q: FromQuery[str] = "",
    unit_id: Annotated[str, QueryParameter(name="unit")] = "",
    role: FromQuery[str] = "",
    status: FromQuery[str] = "active",
) -> Stream:
    """The people list as shown (the same filters and scope, every page of it) as .xlsx."""
    user: User = request.user
    filters = await people_filters(user, q, unit_id, role, status)
    people = await people_in_order(filters)
    file = await people_book(user.unit.name, filters.unit_name, people)
    return stream_download(file_chunks(file), people_file_name(filters.unit_name), XLSX)


async def _form_page(
    request: Request, form: dict, errors: dict, person: User | None = None, status: int = 200
) -> Template:
    user: User = request.user
    return Template(
        "people/form.html",
        context={
            "form": form,
            "errors": errors,
            "person": person,
            "units": await units_in_scope(user, active_only=True),
            "kinds": UNIT_KINDS,
            "roles": role_choices(user),
        },
        status_code=status,
    )


def _password_page(person: User | dict[str, Any], password: str, unit_name: str, created: bool):
    return Template(
        "people/password_shown.html",
        context={
            "person": person,
            "password": password,
            "unit_name": unit_name,
            "created": created,
        },
        # The password is shown once: no copy in the browser's cache or back-button history.
        headers={"Cache-Control": "no-store"},
    )


@get("/people/new", name="person_new")
async def person_new(
    request: Request, unit: Annotated[str, QueryParameter(name="unit")] = ""
) -> Template:
    return await _form_page(
        request, {"role": "cadre", "unit": unit if DIGITS.fullmatch(unit) else ""}, {}
    )


@post("/people/new", name="person_create")
async def person_create(request: Request, data: FormBody) -> Template:
    form = _clean(data)
    errors, unit = await _check(request.user, form)
    if errors:
        return await _form_page(request, form, errors, status=400)
    password = generate_initial_password()
    person = User(
        username=form["username"],
        name=form["name"],
        role=form["role"],
        unit=unit.id,
        position=form["position"],
        phone=form["phone"],
        gender=form["gender"],
        staff_no=form["staff_no"],
        password_hash=hash_initial_password(password),
        must_change_password=True,
    )
    async with write_transaction():
        await person.save()
        await audit.record(
            request,
            "person.create",
            person,
            f"新建{ROLES[person.role]}“{person.name}”（{person.username}），单位“{unit.name}”",
        )
    return _password_page(person, password, unit.name, created=True)


@get("/people/{person_id:int}", name="person_edit")
async def person_edit(request: Request, person_id: FromPath[int]) -> Template:
    person = await load_person(request.user, person_id)
    form = {field: str(getattr(person, field) or "") for field in FIELDS}
    form["unit"] = str(person.unit.id)
    return await _form_page(request, form, {}, person)


@post("/people/{person_id:int}", name="person_update")
async def person_update(
    request: Request, person_id: FromPath[int], data: FormBody
) -> Template | Redirect:
    actor: User = request.user
    person = await load_person(actor, person_id)
    form = _clean(data)
    if person.id == actor.id:
        form["role"] = person.role  # nobody changes their own role
    errors, unit = await _check(actor, form, person_id=person.id)
    if errors:
        return await _form_page(request, form, errors, person, status=400)
    changed = [
        field
        for field in FIELDS
        if field != "unit" and str(getattr(person, field) or "") != form[field]
    ]
    if unit.id != person.unit.id:
        changed.append("unit")
    async with write_transaction():
        await User.update(
            {
                User.username: form["username"],
                User.name: form["name"],
                User.role: form["role"],
                User.unit: unit.id,
                User.position: form["position"],
                User.phone: form["phone"],
                User.gender: form["gender"],
                User.staff_no: form["staff_no"],
            }
        ).where(User.id == person.id)
        if changed:
            await audit.record(
                request,
                "person.update",
                person,
                f"修改“{form['name']}”的{'、'.join(_FIELD_NAMES[f] for f in changed)}",
            )
    flash(request, f"已保存“{form['name']}”的资料。" if changed else "没有改动。", "success")
    return Redirect(request.app.route_reverse("people"))


_FIELD_NAMES = {
    "name": "姓名",
    "username": "用户名",
    "phone": "手机号",
    "unit": "单位",
    "position": "职务",
    "gender": "性别",
    "staff_no": "工号",
    "role": "角色",
}


@post("/people/{person_id:int}/active", name="person_set_active")
async def person_set_active(request: Request, person_id: FromPath[int], data: FormBody) -> Redirect:
    actor: User = request.user
    person = await load_person(actor, person_id)
    activate = data.get("active") == "1"
    if person.id == actor.id and not activate:
        flash(request, "不能停用自己的账号。", "error")
        return Redirect(request.app.route_reverse("person_edit", person_id=person.id))
    if activate and not person.unit.active:
        flash(request, f"“{person.unit.name}”已停用，请先启用该单位或把此人转到其他单位。", "error")
        return Redirect(request.app.route_reverse("person_edit", person_id=person.id))
    async with write_transaction():
        values: dict[Any, Any] = {User.active: activate}
        if not activate:
            # A new stamp ends the person's sessions for good, so that they do not come back
            # to life if the account is enabled again before the next request.
            values[User.password_changed_at] = datetime.now(UTC)
        await User.update(values).where(User.id == person.id)
        action = "person.activate" if activate else "person.deactivate"
        await audit.record(
            request, action, person, f"{'启用' if activate else '停用'}“{person.name}”"
        )
    flash(request, f"已{'启用' if activate else '停用'}“{person.name}”的账号。", "success")
    return Redirect(request.app.route_reverse("people"))


@post("/people/{person_id:int}/password", name="person_reset_password")
async def person_reset_password(request: Request, person_id: FromPath[int]) -> Template:
    person = await load_person(request.user, person_id)
    password = generate_initial_password()
    async with write_transaction():
        await User.update(
            {
                User.password_hash: hash_initial_password(password),
                User.must_change_password: True,
                # A new stamp also ends every session the person still has.
                User.password_changed_at: datetime.now(UTC),
            }
        ).where(User.id == person.id)
        await audit.record(request, "person.reset_password", person, f"重置“{person.name}”的密码")
    return _password_page(person, password, person.unit.name, created=False)


router = Router(
    path="/",
    guards=[requires_role(*ADMIN_ROLES)],
    route_handlers=[
        people_list,
        people_xlsx,
        person_new,
        person_create,
        person_edit,
        person_update,
        person_set_active,
        person_reset_password,
    ],
)
