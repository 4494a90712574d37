"""The forms of trainings and batches, checked without I/O: what was typed, turned into
column values and a Chinese message for every field that is wrong. The pages that show and
save them are in `app/trainings/pages.py` (trainings) and `app/trainings/batches.py`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from app.lib.parsing import form_date, form_number
from app.tables import TRAINING_KINDS

TRAINING_FIELDS = (
    "title", "kind", "unit", "description", "final_quiz", "credit_hours", "attendance_share",
    "active",
)  # fmt: skip
BATCH_FIELDS = ("name", "starts_on", "ends_on", "place", "capacity", "open_unit")


def form_of(data: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The typed form: each of `keys` as a stripped string, and `modules` as a list."""
    form: dict[str, Any] = {key: str(data.get(key) or "").strip() for key in keys}
    if hasattr(data, "getall"):
        form["modules"] = [str(v).strip() for v in data.getall("modules", [])]
    return form


def training_problems(
    form: Mapping[str, Any],
    *,
    unit_ids: Collection[int],
    module_ids: Collection[int],
    quiz_ids: Collection[int],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Training column values (and `modules`, a list of ids) from the typed form, and
    field → Chinese message for every field that is wrong (pure)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    title = form.get("title", "")
    if not title:
        errors["title"] = "请填写培训名称。"
    elif len(title) > 200:
        errors["title"] = "培训名称不能超过 200 个字。"
    values["title"] = title
    kind = form.get("kind", "")
    if kind not in TRAINING_KINDS:
        errors["kind"] = "请选择培训类型（专题培训或集中轮训）。"
    values["kind"] = kind
    unit = form.get("unit", "")
    values["unit"] = int(unit) if unit.isdigit() and int(unit) in unit_ids else None
    if values["unit"] is None:
        errors["unit"] = "请选择主办单位（您管理范围内的启用单位）。"
    description = form.get("description", "")
    if len(description) > 5000:
        errors["description"] = "培训说明不能超过 5000 个字。"
    values["description"] = description
    modules = [int(m) for m in form.get("modules", []) if m.isdigit()]
    if len(modules) != len(form.get("modules", [])) or not set(modules) <= set(module_ids):
        errors["modules"] = "所选课程模块不存在或已停用，请重新选择。"
    values["modules"] = sorted(set(modules))
    quiz = form.get("final_quiz", "")
    values["final_quiz"] = int(quiz) if quiz.isdigit() else None
    if quiz and values["final_quiz"] not in quiz_ids:
        errors["final_quiz"] = "所选结业测验不存在、已停用或未发布。"
        values["final_quiz"] = None
    if kind == "special" and not modules and not quiz:
        errors["modules"] = "专题培训请至少选择一个课程模块或一个结业测验，否则无从考核。"
    hours = form_number(form.get("credit_hours", "") or "0")
    if hours is None or not 0 <= hours <= 1000:
        errors["credit_hours"] = "学时应为 0 到 1000 之间的数字。"
    values["credit_hours"] = hours
    share = form_number(form.get("attendance_share", "") or "80")
    if kind == "rotation" and (share is None or not 1 <= share <= 100):
        errors["attendance_share"] = "出勤要求应为 1 到 100 之间的数字（百分比）。"
    values["attendance_share"] = round(share / 100, 4) if share and 1 <= share <= 100 else 0.8
    values["active"] = bool(form.get("active"))
    return values, errors


def batch_problems(
    form: Mapping[str, str], *, unit_ids: Collection[int], enrolled: int = 0
) -> tuple[dict[str, Any], dict[str, str]]:
    """Batch column values from the typed form, and field → Chinese message (pure).
    `enrolled`: active enrollments the batch already has (its capacity may not go below)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = form.get("name", "")
    if not name:
        errors["name"] = "请填写期次名称，例如“第一期”。"
    elif len(name) > 100:
        errors["name"] = "期次名称不能超过 100 个字。"
    values["name"] = name
    for key, label in (("starts_on", "开始日期"), ("ends_on", "结束日期")):
        try:
            values[key] = form_date(form[key]) if form.get(key) else None
        except ValueError:
            errors[key] = f"{label}应为“2024-03-01”这样的日期。"
            values[key] = None
    if values["starts_on"] and values["ends_on"] and values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = "结束日期不能早于开始日期。"
    place = form.get("place", "")
    if len(place) > 200:
        errors["place"] = "地点不能超过 200 个字。"
    values["place"] = place
    capacity = form_number(form.get("capacity", "") or "0")
    if capacity is None or not capacity.is_integer() or not 0 <= capacity <= 100_000:
        errors["capacity"] = "名额应为不小于 0 的整数，0 表示不限名额。"
        values["capacity"] = 0
    else:
        values["capacity"] = int(capacity)
        if values["capacity"] and values["capacity"] < enrolled:
            errors["capacity"] = f"这一期已报名 {enrolled} 人，名额不能少于 {enrolled}。"
    open_unit = form.get("open_unit", "")
    values["open_unit"] = int(open_unit) if open_unit.isdigit() else None
    if open_unit and values["open_unit"] not in unit_ids:
        errors["open_unit"] = "所选单位不存在、已停用或不在您的管理范围内。"
        values["open_unit"] = None
    return values, errors
