"""Check an uploaded roster of cadres (工会干部) before anything is written.

The flow is: `read_table` turns the uploaded .xlsx/.csv bytes into `SourceRow`s (or raises
`ImportFileError` when the file as a whole is unusable), then `check_rows` checks every row
against the units the importing person may use and the phone numbers already taken, and returns
an `ImportPlan`: drafts for the good rows and a Chinese message for every problem of every row.

Reading the files and building the template live in `app.accounts.roster_files` (with the
shared reader `app.lib.sheets`). This module checks the rows: names, units (`match_unit`),
phones (`normalize_phone`), repeats.

Nothing here touches the database, the network or the web framework.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from app.accounts.roster_files import (
    COLUMNS_ALL,
    COLUMNS_REQUIRED,
    EXAMPLE_ROW,
    NAME_MAX,
    POSITION_MAX,
    STAFF_NO_MAX,
)
from app.lib.sheets import INVISIBLE, SPACES, SourceRow, clean_text, shown

_PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_JUNK_RE = re.compile(r"[\s\-‐‑‒–—―()]")
_SCIENTIFIC_RE = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+")
_NAME_DOTS = str.maketrans(dict.fromkeys("•‧∙⋅・", "·"))
_GENDERS = {
    "男": "男",
    "男性": "男",
    "m": "男",
    "male": "男",
    "女": "女",
    "女性": "女",
    "f": "女",
    "female": "女",
}
# difflib suggestions cost ~1-4 ms per unknown unit text against 300 units, so within one
# `check_rows` call only the first this many distinct unknown unit texts get suggestions.
_SUGGEST_LIMIT = 50


@dataclass(frozen=True)
class UnitChoice:
    """A unit the importing person may put cadres into."""

    id: int
    name: str
    path: str  # materialised path like "/1/4/17/", used only to show full names / disambiguate


@dataclass(frozen=True)
class Problem:
    """One thing the user has to fix; `message` is a full Chinese sentence naming the row."""

    row: int | None  # None for problems of the whole file
    column: str | None  # canonical column name, or None
    message: str


@dataclass(frozen=True)
class CadreDraft:
    """A checked row, ready to become an account."""

    row: int
    name: str
    unit_id: int
    unit_name: str
    position: str
    phone: str  # normalised 11 digits
    gender: str  # "男", "女" or ""
    staff_no: str  # "" when absent


@dataclass(frozen=True)
class ImportPlan:
    """The outcome of `check_rows`: drafts for the good rows, problems sorted by row."""

    drafts: list[CadreDraft]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when there are no problems and at least one draft."""
        return not self.problems and bool(self.drafts)


# --------------------------------------------------------------------------- text helpers


def normalize_phone(text: str) -> str | None:
    """The 11-digit mobile number in `text`, or None when it is not a valid mobile number.

    Spaces, dashes, brackets, a leading apostrophe and a "+86"/"0086"/"86" prefix are removed;
    full-width digits are accepted.
    """
    s = _PHONE_JUNK_RE.sub("", unicodedata.normalize("NFKC", text)).lstrip("'")
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    return s if _PHONE_RE.fullmatch(s) else None


def _unit_key(text: str) -> str:
    """Comparison key of a unit name: half-width, no whitespace anywhere."""
    return SPACES.sub("", unicodedata.normalize("NFKC", text))


# --------------------------------------------------------------------------- matching units


class _UnitIndex:
    """Lookup structures over the units, built once per `check_rows` call."""

    def __init__(self, units: Sequence[UnitChoice]) -> None:
        self.units = list(units)
        by_id = {unit.id: unit for unit in self.units}
        self.keys = [_unit_key(unit.name) for unit in self.units]
        self.by_key: dict[str, list[UnitChoice]] = {}
        self.by_full_key: dict[str, list[UnitChoice]] = {}
        self.full_names: dict[int, str] = {}
        for unit, key in zip(self.units, self.keys, strict=True):
            self.by_key.setdefault(key, []).append(unit)
            names = [by_id[i].name for i in _path_ids(unit.path) if i != unit.id and i in by_id]
            full = "/".join([*names, unit.name])
            self.full_names[unit.id] = full
            self.by_full_key.setdefault(_unit_key(full), []).append(unit)
        self.cache: dict[str, tuple[UnitChoice | None, str | None]] = {}
        self.suggest_budget = _SUGGEST_LIMIT

    def label(self, unit: UnitChoice, among: Sequence[UnitChoice]) -> str:
        """The unit's name, or its full name when another unit in `among` has the same name."""
        if sum(1 for other in among if other.name == unit.name) > 1:
            return self.full_names[unit.id]
        return unit.name

    def match(self, text: str) -> tuple[UnitChoice | None, str | None]:
        key = _unit_key(text)
        if key not in self.cache:
            self.cache[key] = self._match(text, key)
        return self.cache[key]

    def _match(self, text: str, key: str) -> tuple[UnitChoice | None, str | None]:
        quoted = shown(clean_text(text))
        if not key:
            return None, "单位为空。"
        exact = self.by_key.get(key) or self.by_full_key.get(key) or []
        if len(exact) == 1:
            return exact[0], None
        if exact:
            names = "、".join(f"“{self.full_names[u.id]}”" for u in exact[:5])
            return None, (
                f"单位“{quoted}”有 {len(exact)} 个同名单位：{names}，"
                "请填写带上级单位的完整名称（用“/”分隔）。"
            )
        if len(key) >= 2:
            found = [u for u, k in zip(self.units, self.keys, strict=True) if key in k]
            if len(found) == 1:
                return found[0], None
            if found:
                found.sort(key=lambda u: (len(u.name), u.name, u.id))
                names = "、".join(f"“{self.label(u, found)}”" for u in found[:5])
                more = "……" if len(found) > 5 else "。"
                return None, f"单位“{quoted}”不唯一，可能是：{names}{more}请填写完整名称。"
        close: list[str] = []
        if self.suggest_budget > 0:
            self.suggest_budget -= 1
            close = difflib.get_close_matches(key, list(self.by_key), n=3, cutoff=0.5)
        if close:
            names = "、".join(f"“{self.by_key[k][0].name}”" for k in close)
            return None, f"单位“{quoted}”不存在，您是否要找{names}？"
        return None, f"单位“{quoted}”不存在，或不在您管理的范围内。"


def _path_ids(path: str) -> list[int]:
    """The ids of a materialised path "/1/4/17/" -> [1, 4, 17]; junk parts are ignored."""
    return [int(part) for part in path.split("/") if part.isascii() and part.isdigit()]


def match_unit(text: str, units: Sequence[UnitChoice]) -> tuple[UnitChoice | None, str | None]:
    """(unit, None) on an exact name match or a unique partial match;
    (None, chinese_reason) otherwise.

    Names are compared without any whitespace and with full-width characters made half-width.
    Order: exact name (or full name "上级/下级" built from the paths); then units whose name
    contains the text (at least 2 characters), accepted when exactly one; otherwise the reason
    lists the candidates (up to 5) or up to 3 similar names. The reason is a Chinese sentence
    without the "第 N 行：" prefix.
    """
    return _UnitIndex(units).match(text)


# --------------------------------------------------------------------------- checking rows


def _check_name(raw: str) -> tuple[str, str | None]:
    """(normalised name, problem text or None). Chinese names lose inner spaces."""
    name = re.sub(f"[{INVISIBLE}]", "", unicodedata.normalize("NFKC", raw)).translate(_NAME_DOTS)
    if any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003ffff" for ch in name):
        name = SPACES.sub("", name)
    else:
        name = SPACES.sub(" ", name)
    if len(name) > NAME_MAX:
        return name, f"姓名“{shown(name)}”太长，最多 {NAME_MAX} 个字。"
    bad = [ch for ch in name if not (ch.isalpha() or ch in "·〇 ")]
    if bad:
        return name, f"姓名“{shown(name)}”含有不允许的字符“{bad[0]}”，只能包含汉字、字母和“·”。"
    if name.startswith("·") or name.endswith("·") or "··" in name:
        return name, f"姓名“{shown(name)}”中的“·”位置不对。"
    return name, None


_COLUMN_ORDER = {column: i for i, column in enumerate(COLUMNS_ALL)}


def _problem(row: int, column: str | None, text: str) -> Problem:
    return Problem(row, column, f"第 {row} 行：{text}")


def check_rows(
    rows: Sequence[SourceRow], units: Sequence[UnitChoice], taken_phones: Collection[str]
) -> ImportPlan:
    """Every problem of every row; drafts only for good rows.

    taken_phones: phone numbers already used as usernames.

    Promises: problems are sorted by row (within a row in column order, whole-row problems
    last) and name their row; a row appears in `drafts` exactly when it has no problem; zero
    rows gives the single whole-file problem "文件中没有数据行。". An exact repeat of an earlier
    row (same name, unit text and phone) is reported once as a repeated row instead of as a
    repeated phone, a repeated 工号 or a taken phone. The unchanged example row of the template
    is refused. Unit lookups are cached per distinct unit text.
    """
    if not rows:
        return ImportPlan(drafts=[], problems=[Problem(None, None, "文件中没有数据行。")])
    index = _UnitIndex(units)
    taken = {normalize_phone(p) or p for p in taken_phones}
    first_phone: dict[str, int] = {}
    first_staff_no: dict[str, int] = {}
    first_row: dict[tuple[str, str, str], int] = {}
    drafts: list[CadreDraft] = []
    problems: list[Problem] = []

    for source in rows:
        n = source.row
        found: list[Problem] = []
        raw = {column: clean_text(str(source.values.get(column) or "")) for column in COLUMNS_ALL}
        phone = normalize_phone(raw["手机号"]) if raw["手机号"] else None
        if (raw["姓名"], phone) == (EXAMPLE_ROW[0], EXAMPLE_ROW[3]):
            problems.append(_problem(n, None, "这是模板中的示例行，请删除后再上传。"))
            continue

        for column in COLUMNS_REQUIRED:
            if not raw[column]:
                found.append(_problem(n, column, f"{column}为空。"))

        name = ""
        if raw["姓名"]:
            name, reason = _check_name(raw["姓名"])
            if reason:
                found.append(_problem(n, "姓名", reason))

        unit = None
        if raw["单位"]:
            unit, reason = index.match(raw["单位"])
            if reason:
                found.append(_problem(n, "单位", reason))

        position = raw["职务"]
        if len(position) > POSITION_MAX:
            found.append(
                _problem(n, "职务", f"职务“{shown(position)}”太长，最多 {POSITION_MAX} 个字。")
            )

        # An exact repeat of an earlier row gets one message instead of the duplicate checks.
        repeat_of = None
        if raw["姓名"] and raw["手机号"]:
            dup_key = (name, _unit_key(raw["单位"]), phone or raw["手机号"])
            repeat_of = first_row.setdefault(dup_key, n)
            if repeat_of == n:
                repeat_of = None

        if raw["手机号"] and phone is None:
            hint = ""
            if _SCIENTIFIC_RE.fullmatch(raw["手机号"]):
                hint = "（Excel 把它显示成了科学计数法，请把手机号列设为“文本”格式后重新填写）"
            text = f"手机号“{shown(raw['手机号'])}”不是有效的 11 位手机号码{hint}。"
            found.append(_problem(n, "手机号", text))
        if phone is not None:
            if repeat_of is None and phone in taken:
                found.append(_problem(n, "手机号", f"手机号 {phone} 已被账号使用。"))
            earlier = first_phone.setdefault(phone, n)
            if repeat_of is None and earlier != n:
                found.append(_problem(n, "手机号", f"手机号 {phone} 与第 {earlier} 行重复。"))

        gender = ""
        if raw["性别"]:
            gender = _GENDERS.get(raw["性别"].lower(), "")
            if not gender:
                text = f"性别“{shown(raw['性别'])}”无法识别，请填写“男”或“女”，或留空。"
                found.append(_problem(n, "性别", text))

        staff_no = raw["工号"]
        if len(staff_no) > STAFF_NO_MAX:
            text = f"工号“{shown(staff_no)}”太长，最多 {STAFF_NO_MAX} 个字符。"
            found.append(_problem(n, "工号", text))
        if staff_no:
            earlier = first_staff_no.setdefault(staff_no, n)
            if repeat_of is None and earlier != n:
                text = f"工号“{shown(staff_no)}”与第 {earlier} 行重复。"
                found.append(_problem(n, "工号", text))

        if repeat_of is not None:
            found.append(_problem(n, None, f"与第 {repeat_of} 行完全相同（重复行）。"))

        if found:
            problems.extend(found)
        elif unit is not None and phone is not None:
            drafts.append(
                CadreDraft(
                    row=n,
                    name=name,
                    unit_id=unit.id,
                    unit_name=unit.name,
                    position=position,
                    phone=phone,
                    gender=gender,
                    staff_no=staff_no,
                )
            )

    problems.sort(
        key=lambda p: (
            -1 if p.row is None else p.row,
            _COLUMN_ORDER.get(p.column or "", len(_COLUMN_ORDER)),
        )
    )
    return ImportPlan(drafts=drafts, problems=problems)
