"""The quiz editor's form (pure): its fields as typed, the Quiz column values and draw rules
they make with a Chinese message for every wrong field, and the fields of a stored quiz.
The pages that show and store it are in `app/quizzes/admin.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.banks.model import QUESTION_TYPES
from app.lib.parsing import form_number
from app.quizzes.core import COUNTED_POLICIES, MAX_QUESTIONS, REVIEW_POLICIES, DrawRule, rules_of
from app.settings import get_settings

QUIZ_FALLBACK = "ceyan"  # a quiz whose title gives no identifier is numbered: ceyan-1 …
RESERVED_SLUGS = ("new",)  # /admin/quizzes/new is the editor of a new quiz
RULE_ROWS = 6  # rows shown; blank ones are ignored
MAX_RULE_ROWS = 30  # rows read from a form
_REF_SEPARATORS = re.compile(r"[,，、;；]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FLAGS = ("shuffle_questions", "shuffle_options", "partial_credit", "published")
TEXT_FIELDS = (
    "title", "module", "time_limit_minutes", "full_marks", "pass_mark", "max_attempts",
    "counted_attempt", "review", "opens_at", "closes_at",
)  # fmt: skip
LABELS = {
    "title": "测验名称", "module": "课程模块",
    "time_limit_minutes": "限时", "full_marks": "满分", "pass_mark": "及格分",
    "max_attempts": "最多作答次数", "counted_attempt": "计分方式", "review": "交卷后显示",
    "shuffle_questions": "打乱题目顺序", "shuffle_options": "打乱选项顺序",
    "partial_credit": "多选题部分得分", "opens_at": "开始时间", "closes_at": "结束时间",
    "published": "发布", "rules": "抽题规则",
}  # fmt: skip
DEFAULTS = {
    "time_limit_minutes": "20", "full_marks": "100", "pass_mark": "80", "max_attempts": "0",
    "counted_attempt": "highest", "review": "answers", "shuffle_questions": True,
    "shuffle_options": True, "partial_credit": False, "published": False,
}  # fmt: skip


def _all(data: Mapping[str, Any], key: str) -> list[str]:
    if hasattr(data, "getall"):
        return [str(v) for v in data.getall(key, [])]
    value = data.get(key)
    return (
        [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]
    )


def field_text(data: Mapping[str, Any], key: str) -> str:
    """The first value sent for `key`, on one line and trimmed ("" when none)."""
    values = _all(data, key)
    return _CONTROL.sub(" ", values[0]).strip() if values else ""


def clean_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's fields as typed (one line each), checkboxes as booleans, and the rule
    rows that are not blank, in order (so “规则 N” is the N-th row shown). A rule's banks
    are every value sent under its name (the ticked boxes of its list)."""
    form: dict[str, Any] = {key: field_text(data, key) for key in TEXT_FIELDS}
    form.update({key: field_text(data, key) in ("1", "on", "true") for key in FLAGS})
    rows = []
    for n in range(1, MAX_RULE_ROWS + 1):
        row = {
            "type": field_text(data, f"rule_{n}_type"),
            "count": field_text(data, f"rule_{n}_count"),
            "points": field_text(data, f"rule_{n}_points"),
            "banks": [b.strip() for b in _all(data, f"rule_{n}_banks") if b.strip()],
            "source_refs": field_text(data, f"rule_{n}_source_refs"),
        }
        if any(row.values()):
            rows.append(row)
    form["rules"] = rows
    return form


def _whole(text: str, low: int, high: int) -> int | None:
    value = form_number(text)
    if value is None or not value.is_integer() or not low <= value <= high:
        return None
    return int(value)


def _moment(text: str) -> datetime | None:
    """A datetime-local value (Beijing time) as UTC; raises ValueError when it is not one."""
    if not text:
        return None
    moment = datetime.fromisoformat(unicodedata.normalize("NFKC", text).replace(" ", "T"))
    if moment.tzinfo is not None or not 2000 <= moment.year <= 2100:
        raise ValueError(text)
    return moment.replace(tzinfo=get_settings().timezone).astimezone(UTC)


def rules_from_form(
    rows: list[dict[str, Any]], bank_slugs: set[str], errors: dict[str, str]
) -> tuple[DrawRule, ...]:
    """Draw rules from the rule rows; a message per wrong cell goes into `errors`."""
    rules = []
    for n, row in enumerate(rows, start=1):
        prefix = f"rule_{n}_"
        kind = row["type"]
        if kind not in QUESTION_TYPES:
            errors[prefix + "type"] = f"规则 {n}：请选择题型。"
        count = _whole(row["count"], 1, MAX_QUESTIONS)
        if count is None:
            errors[prefix + "count"] = f"规则 {n} 的题数应为 1 到 {MAX_QUESTIONS} 之间的整数。"
        points = form_number(row["points"])
        if points is None or not 0 < points <= 1000:
            errors[prefix + "points"] = f"规则 {n} 的每题分值应为大于 0、不超过 1000 的数字。"
            points = None
        unknown = [slug for slug in row["banks"] if slug not in bank_slugs]
        if unknown:
            errors[prefix + "banks"] = f"规则 {n} 的题库“{'、'.join(unknown)}”不存在。"
        refs = tuple(r.strip() for r in _REF_SEPARATORS.split(row["source_refs"]) if r.strip())
        if any(len(ref) > 100 for ref in refs):
            errors[prefix + "source_refs"] = f"规则 {n} 的出处每项不能超过 100 个字。"
        if kind in QUESTION_TYPES and count is not None and points is not None:
            banks = tuple(dict.fromkeys(row["banks"]))
            rules.append(DrawRule(kind, count, points, banks, tuple(dict.fromkeys(refs))))
    if sum(rule.count for rule in rules) > MAX_QUESTIONS:
        errors["rules"] = (
            f"一份试卷最多 {MAX_QUESTIONS} 题，抽题规则共要 {sum(r.count for r in rules)} 题。"
        )
    return tuple(rules)


def quiz_problems(
    form: Mapping[str, Any], *, module_slugs: set[str], bank_slugs: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Quiz column values from the cleaned form (`module` as its slug, `rules` as a tuple),
    and field → Chinese message for every field that is wrong (pure). A new quiz's
    identifier is not in the form: peixun makes it from the title when storing it."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    title = form["title"]
    if not title:
        errors["title"] = "请填写测验名称。"
    elif len(title) > 200:
        errors["title"] = "测验名称不能超过 200 个字。"
    values["title"] = title
    if form["module"] and form["module"] not in module_slugs:
        errors["module"] = "所选课程模块不存在或已停用。"
    values["module"] = form["module"]
    minutes = _whole(form["time_limit_minutes"] or "0", 0, 1440)
    if minutes is None:
        errors["time_limit_minutes"] = "限时应为 0 到 1440 之间的整数（分钟），0 表示不限时。"
    values["time_limit_minutes"] = minutes
    full_marks = _whole(form["full_marks"], 1, 1000)
    if full_marks is None:
        errors["full_marks"] = "满分应为 1 到 1000 之间的整数。"
    values["full_marks"] = full_marks
    pass_mark = form_number(form["pass_mark"])
    if pass_mark is None or pass_mark < 0:
        errors["pass_mark"] = "及格分应为不小于 0 的数字。"
    elif full_marks is not None and pass_mark > full_marks:
        errors["pass_mark"] = f"及格分不能高于满分（{full_marks}）。"
    values["pass_mark"] = pass_mark
    attempts = _whole(form["max_attempts"] or "0", 0, 100)
    if attempts is None:
        errors["max_attempts"] = "最多作答次数应为 0 到 100 之间的整数，0 表示不限次数。"
    values["max_attempts"] = attempts
    if form["counted_attempt"] not in COUNTED_POLICIES:
        errors["counted_attempt"] = "请选择计分方式。"
    values["counted_attempt"] = form["counted_attempt"]
    if form["review"] not in REVIEW_POLICIES:
        errors["review"] = "请选择交卷后显示的内容。"
    values["review"] = form["review"]
    for key in ("opens_at", "closes_at"):
        try:
            values[key] = _moment(form[key])
        except ValueError:
            errors[key] = f"{LABELS[key]}“{form[key]}”不是有效的日期时间。"
    if (
        values.get("opens_at")
        and values.get("closes_at")
        and values["closes_at"] <= values["opens_at"]
    ):
        errors["closes_at"] = "结束时间应晚于开始时间。"
    values.update({key: bool(form[key]) for key in FLAGS})
    values["rules"] = rules_from_form(form["rules"], bank_slugs, errors)
    return values, errors


def _plain(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _local_input(moment: datetime | None) -> str:
    return moment.astimezone(get_settings().timezone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def form_of(quiz: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's fields for a stored quiz."""
    form: dict[str, Any] = {
        "title": quiz["title"],
        "module": quiz["module_slug"] or "",
        "time_limit_minutes": str(quiz["time_limit_minutes"] or 0),
        "full_marks": str(quiz["full_marks"] or 100),
        "pass_mark": _plain(quiz["pass_mark"]),
        "max_attempts": str(quiz["max_attempts"] or 0),
        "counted_attempt": quiz["counted_attempt"],
        "review": quiz["review"],
        "opens_at": _local_input(quiz["opens_at"]),
        "closes_at": _local_input(quiz["closes_at"]),
        **{key: bool(quiz[key]) for key in FLAGS},
    }
    form["rules"] = [
        {
            "type": rule.type,
            "count": str(rule.count),
            "points": _plain(rule.points),
            "banks": list(rule.banks),
            "source_refs": "、".join(rule.source_refs),
        }
        for rule in rules_of(quiz["rules"] or "[]")
    ]
    return form


def row_subtotals(rows: list[dict[str, Any]]) -> tuple[list[str], int, float]:
    """Each row's points (count × points, or "" when not a number), total questions, points."""
    subtotals, questions, points = [], 0, 0.0
    for row in rows:
        count, each = _whole(row["count"], 1, MAX_QUESTIONS), form_number(row["points"])
        if count is None or each is None or each <= 0:
            subtotals.append("")
            continue
        subtotals.append(_plain(round(count * each, 2)))
        questions += count
        points += count * each
    return subtotals, questions, round(points, 2)
