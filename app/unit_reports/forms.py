"""The forms of reporting back (pure): a 工作台账 entry and a round, checked field by
field; each problem in Chinese, under the field it is about."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from app.lib.forms import typed_text
from app.lib.parsing import form_date
from app.tables import ACTIVITY_KINDS, UNIT_KINDS
from app.unit_reports.figures import ACTIVITY_FORMS

MAX_PARTICIPANTS = 1_000_000
MAX_SUMMARY = 1000
_LIMITS = {"title": ("活动名称", 200), "place": ("地点", 200), "speaker": ("主讲人", 100)}


def _text(data: Mapping[str, Any], key: str) -> str:
    return typed_text(data.get(key)).strip()


def _whole(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    if re.fullmatch(r"\d{1,9}", text) is None:
        return None
    return int(text)


def parse_activity_form(
    data: Mapping[str, Any], units: Collection[int], today: date
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of an entry and the problems with them. `units`: the ids of the units the
    person may enter it for."""
    errors: dict[str, str] = {}
    unit = _whole(_text(data, "unit"))
    if unit is None or unit not in units:
        errors["unit"] = "请选择开展活动的单位。"
    kind = _text(data, "kind")
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = "请选择工作类别：舆论宣传、学习培训、理论宣讲或落地见效。"
    form = _text(data, "form")
    if kind in ACTIVITY_FORMS and form and form not in ACTIVITY_FORMS[kind]:
        errors["form"] = f"请从列表中选择形式（{'、'.join(ACTIVITY_FORMS[kind])}）。"
    held_on = None
    try:
        held_on = form_date(_text(data, "held_on"))
    except ValueError:
        errors["held_on"] = "请填写活动日期，例如 2023-11-20。"
    if held_on is not None and held_on > today:
        errors["held_on"] = "活动日期不能晚于今天：台账记录已经开展的活动。"
    title = _text(data, "title")
    if not title:
        errors["title"] = "请填写活动名称。"
    for key, (label, most) in _LIMITS.items():
        if len(_text(data, key)) > most:
            errors[key] = f"{label}不能超过 {most} 个字。"
    participants_text = _text(data, "participants")
    participants = _whole(participants_text) if participants_text else 0
    if participants is None:
        errors["participants"] = "参加人数请填写整数，例如 45；不清楚可以不填。"
    elif participants > MAX_PARTICIPANTS:
        errors["participants"] = f"参加人数不能超过 {MAX_PARTICIPANTS:,} 人，请核对。"
    summary = _text(data, "summary")
    if len(summary) > MAX_SUMMARY:
        errors["summary"] = f"简要情况不能超过 {MAX_SUMMARY} 个字（现在 {len(summary)} 个字）。"
    values = {
        "unit": unit,
        "kind": kind,
        "form": form,
        "held_on": held_on,
        "title": title,
        "place": _text(data, "place"),
        "participants": participants or 0,
        "speaker": _text(data, "speaker"),
        "summary": summary,
    }
    return values, errors


def parse_round_form(
    data: Mapping[str, Any], kinds: Collection[str], trainings: Collection[int]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A round's values and problems. `kinds` and `trainings`: the boxes ticked (the form
    sends a field per box)."""
    errors: dict[str, str] = {}
    title = _text(data, "title")
    if not title:
        errors["title"] = "请填写通知标题，例如“焦作市总工会关于……的通知”。"
    elif len(title) > 200:
        errors["title"] = "通知标题不能超过 200 个字。"
    doc_number = _text(data, "doc_number")
    if len(doc_number) > 60:
        errors["doc_number"] = "文号不能超过 60 个字。"
    chosen = [k for k in UNIT_KINDS if k in kinds and k != "city_federation"]
    if not chosen:
        errors["unit_kinds"] = "请至少选择一类需要报送的单位。"
    deadline = None
    try:
        deadline = form_date(_text(data, "deadline"))
    except ValueError:
        errors["deadline"] = "请填写报送截止日期，例如 2023-12-31。"
    year = _whole(_text(data, "credit_year"))
    if year is None or not 2000 <= year <= 2100:
        errors["credit_year"] = "请填写统计学时的年度，例如 2023。"
    note = _text(data, "note")
    if len(note) > 1000:
        errors["note"] = "说明不能超过 1000 个字。"
    values = {
        "title": title,
        "doc_number": doc_number,
        "unit_kinds": chosen,
        "trainings": sorted(trainings),
        "deadline": deadline,
        "credit_year": year,
        "note": note,
    }
    return values, errors
