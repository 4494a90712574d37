"""Checking a 补考/延期 before it is written (pure): the trainer's form for one cadre, and an
uploaded list (.xlsx or .csv) of cadres, every problem of every row named by its row and
column. The pages are `app/quizzes/override_pages.py`; the writing is
`app/quizzes/override_grants.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from app.accounts.cadre_import import Problem, normalize_phone
from app.lib.sheets import SPACES, ImportFileError, SheetColumns, SourceRow, read_sheet, shown

MAX_EXTRA_ATTEMPTS = 20
MAX_EXTRA_MINUTES = 600
MAX_REASON = 200

LABELS = {
    "extra_attempts": "增加次数",
    "extra_minutes": "延长分钟",
    "closes_at": "截止时间",
    "reason": "原因",
}


@dataclass(frozen=True)
class Grant:
    """What a trainer grants one cadre: checked, ready to write."""

    extra_attempts: int
    extra_minutes: int
    closes_at: datetime | None  # UTC
    reason: str


def _whole(text: str, high: int) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return 0
    if re.fullmatch(r"[0-9]+(\.0+)?", text) is None:
        return None
    value = int(float(text))
    return value if value <= high else None


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_moment(text: str, timezone: tzinfo) -> datetime | None:
    """A closing time typed in a form or a list cell, Beijing time, as UTC: "2026-12-20 18:00"
    (also with "/" or "." between the date's parts, or a "T" before the time, as a browser's
    datetime field sends it); a date alone closes at 23:59 of that day. Raises ValueError
    when it is not one; None when empty."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    text = re.sub(r"[/.]", "-", text).replace("T", " ")
    text = re.sub(r"\s+", " ", text)
    for form in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        if form == "%Y-%m-%d":
            moment = datetime.combine(moment.date(), time(23, 59))
        if not 2000 <= moment.year <= 2100:
            raise ValueError(text)
        return moment.replace(tzinfo=timezone).astimezone(UTC)
    raise ValueError(text)


def check_grant(
    values: Mapping[str, str], quiz: Mapping[str, Any], timezone: tzinfo
) -> tuple[Grant | None, dict[str, str]]:
    """The grant a form or a list row gives (fields as LABELS names them, texts) for `quiz`
    (max_attempts, time_limit_minutes, closes_at), or the problem of each field, in Chinese.

    Each part must mean something for this quiz: extra attempts for a quiz of limited
    attempts, extra minutes for a timed quiz, a closing time later than the quiz's; and at
    least one part is given. The reason is required."""
    errors: dict[str, str] = {}
    attempts = _whole(values.get("extra_attempts", ""), MAX_EXTRA_ATTEMPTS)
    if attempts is None:
        errors["extra_attempts"] = f"应为 0 到 {MAX_EXTRA_ATTEMPTS} 之间的整数。"
    elif attempts and not quiz["max_attempts"]:
        errors["extra_attempts"] = "这个测验作答次数不限，不需要增加次数。"
    minutes = _whole(values.get("extra_minutes", ""), MAX_EXTRA_MINUTES)
    if minutes is None:
        errors["extra_minutes"] = f"应为 0 到 {MAX_EXTRA_MINUTES} 之间的整数（分钟）。"
    elif minutes and not quiz["time_limit_minutes"]:
        errors["extra_minutes"] = "这个测验不限时，不需要延长时间。"
    closes_at = None
    raw = values.get("closes_at", "")
    try:
        closes_at = parse_moment(raw, timezone)
    except ValueError:
        errors["closes_at"] = f"“{shown(raw)}”不是有效的日期时间，请写成 2026-12-20 18:00。"
    if closes_at is not None:
        if quiz["closes_at"] is None:
            errors["closes_at"] = "这个测验没有结束时间，不需要延期。"
        elif closes_at <= quiz["closes_at"]:
            shown_close = quiz["closes_at"].astimezone(timezone)
            errors["closes_at"] = f"应晚于测验的结束时间 {shown_close:%Y-%m-%d %H:%M}。"
    reason = SPACES.sub(" ", values.get("reason", "")).strip()
    if not reason:
        errors["reason"] = "请填写原因，例如“因公出差补考”。"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"不能超过 {MAX_REASON} 个字。"
    if not errors and not (attempts or minutes or closes_at):
        errors["extra_attempts"] = "请至少填写增加次数、延长分钟或截止时间中的一项。"
    if errors:
        return None, errors
    return Grant(attempts or 0, minutes or 0, closes_at, reason), {}


# ---------------------------------------------------------------- an uploaded list

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名",),
    "手机号": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "工号": ("工号", "职工号", "员工号"),
    "增加次数": ("增加次数", "补考次数", "增加作答次数"),
    "延长分钟": ("延长分钟", "延长时间", "延长时间（分钟）", "延长时间(分钟)"),
    "截止时间": ("截止时间", "延期至", "截止日期"),
    "原因": ("原因", "事由", "补考原因"),
}
_FIELDS = {"增加次数": "extra_attempts", "延长分钟": "extra_minutes", "截止时间": "closes_at"}


def _accept_header(found: dict[str, int], row: int) -> bool:
    """The header is the first row naming 姓名; it must also name 手机号 or 工号, and 原因."""
    if "姓名" not in found:
        return False
    if "手机号" not in found and "工号" not in found:
        raise ImportFileError(f"第 {row} 行的列名中缺少手机号（或工号）列，无法找到人员。")
    if "原因" not in found:
        raise ImportFileError(f"第 {row} 行的列名中缺少“原因”列。")
    return True


def _no_header(first: tuple[int, dict[str, int]]) -> ImportFileError:
    return ImportFileError(
        "文件中没有找到列名行：请在第一行填写“姓名”“手机号”（或“工号”）“增加次数”"
        "“延长分钟”“截止时间”“原因”。"
    )


OVERRIDE_COLUMNS = SheetColumns(
    aliases=HEADER_ALIASES, accept_header=_accept_header, no_header=_no_header
)


def read_override_list(filename: str, content: bytes) -> list[SourceRow]:
    """The data rows of a 补考/延期 list, read with the project's one sheet reader.
    Raises ImportFileError with a Chinese message."""
    return read_sheet(filename, content, OVERRIDE_COLUMNS)


@dataclass(frozen=True)
class Cadre:
    """An account a row of the list may name."""

    id: int
    name: str
    phone: str
    staff_no: str
    role: str
    active: bool
    unit_name: str
    unit_path: str


@dataclass(frozen=True)
class GrantDraft:
    row: int
    account_id: int
    name: str
    unit_name: str
    grant: Grant


@dataclass(frozen=True)
class GrantPlan:
    drafts: list[GrantDraft]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.drafts)


def _key(text: str) -> str:
    return SPACES.sub("", unicodedata.normalize("NFKC", text))


def _cadre_of(
    source: SourceRow, by_phone: Mapping[str, list[Cadre]], by_staff_no: Mapping[str, list[Cadre]]
) -> tuple[Cadre | None, str, str]:
    """The cadre a row names, or None with the column at fault and why."""
    raw = source.values
    name = _key(raw["姓名"])
    if not name:
        return None, "姓名", "姓名为空。"
    if raw["手机号"]:
        phone = normalize_phone(raw["手机号"])
        if phone is None:
            return None, "手机号", f"“{shown(raw['手机号'])}”不是有效的 11 位手机号码。"
        found, column, what = by_phone.get(phone, []), "手机号", f"手机号 {phone} "
    elif raw["工号"]:
        found, column = by_staff_no.get(raw["工号"], []), "工号"
        what = f"工号“{shown(raw['工号'])}”"
    else:
        return None, "手机号", "手机号和工号都为空，无法确定是哪一位。"
    if len(found) > 1:
        found = [c for c in found if _key(c.name) == name] or found
    if not found:
        return None, column, f"没有找到{what}的人员“{shown(name)}”。"
    if len(found) > 1:
        return None, column, f"{what}对应多个账号，请改填手机号。"
    cadre = found[0]
    if _key(cadre.name) != name:
        return None, "姓名", f"“{shown(name)}”与{what}的账号“{cadre.name}”不符。"
    return cadre, column, ""


def check_override_rows(
    rows: Sequence[SourceRow],
    cadres: Sequence[Cadre],
    *,
    scope: str,
    quiz: Mapping[str, Any],
    timezone: tzinfo,
) -> GrantPlan:
    """Every problem of every row of a 补考/延期 list, each once with its row and column;
    drafts for the good rows. `scope`: the unit path the cadres must be under."""
    if not rows:
        return GrantPlan([], [Problem(None, None, "文件中没有数据行。")])
    by_phone: dict[str, list[Cadre]] = {}
    by_staff_no: dict[str, list[Cadre]] = {}
    for account in cadres:
        if account.phone:
            by_phone.setdefault(account.phone, []).append(account)
        if account.staff_no:
            by_staff_no.setdefault(account.staff_no, []).append(account)
    first: dict[int, int] = {}
    drafts: list[GrantDraft] = []
    problems: list[Problem] = []

    def problem(row: int, column: str, text: str) -> None:
        problems.append(Problem(row, column, f"第 {row} 行“{column}”：{text}"))

    for source in rows:
        n = source.row
        bad = len(problems)
        cadre, column, why = _cadre_of(source, by_phone, by_staff_no)
        if cadre is None:
            problem(n, column, why)
        elif not cadre.unit_path.startswith(scope):
            problem(n, column, f"“{cadre.name}”不在您的管理范围内。")
        elif cadre.role != "cadre":
            problem(n, column, f"“{cadre.name}”不是学员账号。")
        elif not cadre.active:
            problem(n, column, f"“{cadre.name}”的账号已停用。")
        elif first.setdefault(cadre.id, n) != n:
            problem(n, column, f"“{cadre.name}”与第 {first[cadre.id]} 行是同一人（重复行）。")
        values = {field: source.values[label] for label, field in _FIELDS.items()}
        values["reason"] = source.values["原因"]
        grant, errors = check_grant(values, quiz, timezone)
        for field, text in errors.items():
            problem(n, LABELS[field], text)
        if cadre is not None and grant is not None and len(problems) == bad:
            drafts.append(GrantDraft(n, cadre.id, cadre.name, cadre.unit_name, grant))
    return GrantPlan(drafts, problems)
