"""Check an uploaded roster of cadres (工会干部) before anything is written.

The flow is: `read_table` turns the uploaded .xlsx/.csv bytes into `SourceRow`s (or raises
`ImportFileError` when the file as a whole is unusable), then `check_rows` checks every row
against the units the importing person may use and the phone numbers already taken, and returns
an `ImportPlan`: drafts for the good rows and a Chinese message for every problem of every row.

Nothing here touches the database, the network or the web framework; the only input/output is
parsing the bytes handed in and building the template workbook in memory.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import unicodedata
from collections.abc import Collection, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time

__all__ = [
    "COLUMNS_OPTIONAL",
    "COLUMNS_REQUIRED",
    "EXAMPLE_ROW",
    "MAX_DATA_ROWS",
    "CadreDraft",
    "ImportFileError",
    "ImportPlan",
    "Problem",
    "SourceRow",
    "UnitChoice",
    "check_rows",
    "match_unit",
    "normalize_phone",
    "read_table",
    "template_xlsx",
]

COLUMNS_REQUIRED = ("姓名", "单位", "职务", "手机号")
COLUMNS_OPTIONAL = ("性别", "工号")
COLUMNS_ALL = COLUMNS_REQUIRED + COLUMNS_OPTIONAL

MAX_DATA_ROWS = 20_000
NAME_MAX = 30
POSITION_MAX = 50
STAFF_NO_MAX = 50
# The example row of the template; a row with this name and phone is refused so that an
# untouched example is never imported as a real person.
EXAMPLE_ROW = ("张三", "解放区总工会", "工会主席", "13800000000", "男", "")

# Header text (after normalisation, see `_header_key`) -> canonical column.  Earlier entries of
# the same canonical column win when a file has several of them (e.g. both 手机号 and 联系电话).
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名",),
    "单位": ("单位", "所在单位", "单位名称", "工会名称"),
    "职务": ("职务", "职位"),
    "手机号": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "性别": ("性别",),
    "工号": ("工号", "职工号", "员工号"),
}
_HEADER_LOOKUP: dict[str, tuple[str, int]] = {
    alias: (column, rank)
    for column, aliases in _HEADER_ALIASES.items()
    for rank, alias in enumerate(aliases)
}
_HEADER_SEARCH_ROWS = 10  # how many non-empty rows may precede the header (e.g. a title row)

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGE_RE = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
_SPACE_RE = re.compile(rf"[\s{_INVISIBLE}]+")
_HEADER_MARK_RE = re.compile(r"^\*+|(?:\*|\((?:必填|选填|可选|非必填)\))+$")
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
_SHOW_MAX = 40
# difflib suggestions cost ~1-4 ms per unknown unit text against 300 units, so within one
# `check_rows` call only the first this many distinct unknown unit texts get suggestions.
_SUGGEST_LIMIT = 50


class ImportFileError(ValueError):
    """The file as a whole can't be read; str(e) is a Chinese message for the user."""


@dataclass(frozen=True)
class UnitChoice:
    """A unit the importing person may put cadres into."""

    id: int
    name: str
    path: str  # materialised path like "/1/4/17/", used only to show full names / disambiguate


@dataclass(frozen=True)
class SourceRow:
    """One non-empty data row of the file.

    `row` is the row number the user sees in Excel (the header is row 1 normally); for a CSV it
    is the record number, which equals the line number unless a quoted cell spans lines.
    `values` has every column of `COLUMNS_REQUIRED + COLUMNS_OPTIONAL` as a key, holding the
    stripped text of the cell ("" when the cell is empty or the file lacks the optional column).
    """

    row: int
    values: dict[str, str]


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


def _clean(text: str) -> str:
    """Strip all kinds of whitespace (full-width, non-breaking, zero-width) from both ends."""
    return _EDGE_RE.sub("", text)


def _cell_text(value: object) -> str:
    """The text of a cell value as the user meant it: 13812345678.0 -> "13812345678"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return _clean(str(value))


def _show(text: str) -> str:
    """Text to quote inside a message, cut short when very long."""
    return text if len(text) <= _SHOW_MAX else text[:_SHOW_MAX] + "…"


def _header_key(text: str) -> str:
    """Normalise a header cell: no spaces, half-width, without "*" / "（必填）" marks."""
    key = _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))
    return _HEADER_MARK_RE.sub("", key)


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
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))


# --------------------------------------------------------------------------- reading files


def read_table(filename: str, content: bytes) -> list[SourceRow]:
    """Read .xlsx or .csv bytes into the non-empty data rows of the first sheet.

    The header row is the first non-empty row that names a known column (a title row above it
    is skipped; at most 10 non-empty rows are searched), otherwise the first non-empty row.
    Unknown columns are ignored; rows whose known columns are all empty are skipped.
    Raises ImportFileError with a Chinese message for an unsupported extension, an unreadable,
    corrupt or empty file, missing required columns, or more than 20,000 data rows.
    """
    basename = re.split(r"[\\/]", filename or "")[-1] or "未命名文件"
    ext = basename.rsplit(".", 1)[-1].lower() if "." in basename else ""
    shown = _show(basename)
    if ext == "xls":
        raise ImportFileError(
            f"无法读取文件“{shown}”：不支持旧版 .xls 格式。请用 Excel 另存为 .xlsx 后重新上传。"
        )
    if ext not in ("xlsx", "csv"):
        raise ImportFileError(
            f"无法读取文件“{shown}”：只支持 Excel（.xlsx）或 CSV（.csv）文件。"
            "请下载模板填写后上传。"
        )
    if not content:
        raise ImportFileError(f"文件“{shown}”是空的，请检查后重新上传。")
    # A workbook that was merely renamed to .csv is still read as a workbook.
    if ext == "csv" and not content.startswith(b"PK\x03\x04"):
        with closing(_csv_rows(shown, content)) as cells:
            return _source_rows(shown, cells)
    with closing(_xlsx_rows(shown, content)) as cells:
        try:
            return _source_rows(shown, cells)
        except ImportFileError:
            raise
        except Exception as exc:  # a broken sheet may only fail while its rows are read
            raise _not_excel(shown) from exc


def _not_excel(shown: str) -> ImportFileError:
    return ImportFileError(
        f"无法读取文件“{shown}”：它不是有效的 Excel 文件。请用 Excel 另存为 .xlsx 后重新上传。"
    )


def _xlsx_rows(shown: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(Excel row number, cell values) of the first worksheet, read lazily."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"无法读取文件“{shown}”：它是旧版 .xls 文件或设置了打开密码。"
            "请取消密码，并用 Excel 另存为 .xlsx 后重新上传。"
        )
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise _not_excel(shown) from exc

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            sheets = workbook.worksheets
            if not sheets:
                raise ImportFileError(f"文件“{shown}”中没有工作表，请检查后重新上传。")
            sheet = sheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some programs write a wrong size; read every row
            # Rows missing from the file are filled in, so the count is Excel's row number.
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()

    return rows()


def _decode_csv(shown: str, content: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GBK)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"无法读取文件“{shown}”：无法识别文件的文字编码。"
        "请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后重新上传。"
    )


def _csv_rows(shown: str, content: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    """(record number, cells) of a CSV file; comma-separated, or tab-separated if clearly so."""
    text = _decode_csv(shown, content)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Generator[tuple[int, Sequence[object]], None, None]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFileError(
                f"无法读取文件“{shown}”：CSV 格式有误（{exc}）。"
                "请用 Excel 打开后另存为 .xlsx 后重新上传。"
            ) from exc

    return rows()


def _find_columns(cells: Sequence[str]) -> dict[str, int]:
    """Canonical column -> index in the header row (best-ranked alias, then leftmost)."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(cells):
        found = _HEADER_LOOKUP.get(_header_key(cell))
        if found is None:
            continue
        column, rank = found
        if column not in best or rank < best[column][0]:
            best[column] = (rank, index)
    return {column: index for column, (_, index) in best.items()}


def _source_rows(shown: str, cells: Iterable[tuple[int, Sequence[object]]]) -> list[SourceRow]:
    """Locate the header, map columns and collect the non-empty data rows."""
    columns: dict[str, int] | None = None
    first_nonempty: tuple[int, dict[str, int]] | None = None
    seen_nonempty = 0
    out: list[SourceRow] = []
    for number, raw in cells:
        texts = [_cell_text(value) for value in raw]
        if columns is None:
            if not any(texts):
                continue
            seen_nonempty += 1
            found = _find_columns(texts)
            if first_nonempty is None:
                first_nonempty = (number, found)
            if found:
                _require_columns(found, number)
                columns = found
            elif seen_nonempty >= _HEADER_SEARCH_ROWS:
                _require_columns(first_nonempty[1], first_nonempty[0])
            continue
        values = {column: _pick(texts, columns.get(column)) for column in COLUMNS_ALL}
        if not any(values.values()):
            continue
        if len(out) >= MAX_DATA_ROWS:
            raise ImportFileError(
                f"文件“{shown}”的数据超过 {MAX_DATA_ROWS} 行，请分成几个文件分别上传。"
            )
        out.append(SourceRow(row=number, values=values))
    if columns is None:
        if first_nonempty is None:
            raise ImportFileError(f"文件“{shown}”是空的，请检查后重新上传。")
        _require_columns(first_nonempty[1], first_nonempty[0])
    return out


def _pick(texts: Sequence[str], index: int | None) -> str:
    """The text at `index` of a row, "" when the column is absent or the row is short."""
    return texts[index] if index is not None and index < len(texts) else ""


def _require_columns(found: dict[str, int], header_row: int) -> None:
    """Raise ImportFileError naming every required column missing from the header row."""
    missing = [column for column in COLUMNS_REQUIRED if column not in found]
    if missing:
        raise ImportFileError(
            f"缺少必填列：{'、'.join(missing)}。"
            f"第 {header_row} 行被当作列名行，列名应为：{'、'.join(COLUMNS_REQUIRED)}"
            f"（可选：{'、'.join(COLUMNS_OPTIONAL)}）。可下载模板对照填写。"
        )


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
        shown = _show(_clean(text))
        if not key:
            return None, "单位为空。"
        exact = self.by_key.get(key) or self.by_full_key.get(key) or []
        if len(exact) == 1:
            return exact[0], None
        if exact:
            names = "、".join(f"“{self.full_names[u.id]}”" for u in exact[:5])
            return None, (
                f"单位“{shown}”有 {len(exact)} 个同名单位：{names}，"
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
                return None, f"单位“{shown}”不唯一，可能是：{names}{more}请填写完整名称。"
        close: list[str] = []
        if self.suggest_budget > 0:
            self.suggest_budget -= 1
            close = difflib.get_close_matches(key, list(self.by_key), n=3, cutoff=0.5)
        if close:
            names = "、".join(f"“{self.by_key[k][0].name}”" for k in close)
            return None, f"单位“{shown}”不存在，您是否要找{names}？"
        return None, f"单位“{shown}”不存在，或不在您管理的范围内。"


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
    name = re.sub(f"[{_INVISIBLE}]", "", unicodedata.normalize("NFKC", raw)).translate(_NAME_DOTS)
    if any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003ffff" for ch in name):
        name = _SPACE_RE.sub("", name)
    else:
        name = _SPACE_RE.sub(" ", name)
    if len(name) > NAME_MAX:
        return name, f"姓名“{_show(name)}”太长，最多 {NAME_MAX} 个字。"
    bad = [ch for ch in name if not (ch.isalpha() or ch in "·〇 ")]
    if bad:
        return name, f"姓名“{_show(name)}”含有不允许的字符“{bad[0]}”，只能包含汉字、字母和“·”。"
    if name.startswith("·") or name.endswith("·") or "··" in name:
        return name, f"姓名“{_show(name)}”中的“·”位置不对。"
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
        raw = {column: _clean(str(source.values.get(column) or "")) for column in COLUMNS_ALL}
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
                _problem(n, "职务", f"职务“{_show(position)}”太长，最多 {POSITION_MAX} 个字。")
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
            text = f"手机号“{_show(raw['手机号'])}”不是有效的 11 位手机号码{hint}。"
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
                text = f"性别“{_show(raw['性别'])}”无法识别，请填写“男”或“女”，或留空。"
                found.append(_problem(n, "性别", text))

        staff_no = raw["工号"]
        if len(staff_no) > STAFF_NO_MAX:
            text = f"工号“{_show(staff_no)}”太长，最多 {STAFF_NO_MAX} 个字符。"
            found.append(_problem(n, "工号", text))
        if staff_no:
            earlier = first_staff_no.setdefault(staff_no, n)
            if repeat_of is None and earlier != n:
                text = f"工号“{_show(staff_no)}”与第 {earlier} 行重复。"
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


# --------------------------------------------------------------------------- template


def template_xlsx() -> bytes:
    """A downloadable .xlsx template.

    Sheet 1 "干部名单": header row 姓名 单位 职务 手机号 性别 工号 (bold, required columns in
    red, frozen), column widths to fit, 手机号/工号 columns formatted as text so Excel keeps
    every digit, a 男/女 drop-down for 性别, and one grey italic example row (张三 …) which
    `check_rows` refuses if it is uploaded unchanged. Sheet 2 "填写说明" explains each column.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "干部名单"
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    widths = {"姓名": 14, "单位": 34, "职务": 18, "手机号": 16, "性别": 8, "工号": 14}
    for col, column in enumerate(COLUMNS_ALL, start=1):
        cell = sheet.cell(row=1, column=col, value=column)
        required = column in COLUMNS_REQUIRED
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = widths[column]
        if column in ("手机号", "工号"):
            sheet.column_dimensions[letter].number_format = "@"
    for col, value in enumerate(EXAMPLE_ROW, start=1):
        cell = sheet.cell(row=2, column=col, value=value or None)
        cell.font = Font(italic=True, color="808080")
        cell.number_format = "@"
    sheet.freeze_panes = "A2"
    genders = DataValidation(type="list", formula1='"男,女"', allow_blank=True)
    genders.error = "请选择“男”或“女”，或留空。"
    genders.errorTitle = "性别"
    sheet.add_data_validation(genders)
    genders.add(f"E2:E{MAX_DATA_ROWS + 1}")

    notes = workbook.create_sheet("填写说明")
    lines = [
        ("列名", "是否必填", "填写说明"),
        (
            "姓名",
            "必填",
            f"干部的真实姓名，最多 {NAME_MAX} 个字；少数民族姓名可用“·”，如 买买提·艾力。",
        ),
        (
            "单位",
            "必填",
            "所在工会的完整名称，须与系统中的单位名称一致，如 解放区总工会；"
            "只能填写您管理范围内的单位。",
        ),
        ("职务", "必填", f"如 工会主席、副主席、经费审查委员会主任，最多 {POSITION_MAX} 个字。"),
        (
            "手机号",
            "必填",
            "11 位手机号码，将作为登录账号，不能与已有账号或本表中其他人重复。"
            "请把此列设为“文本”格式，避免 Excel 显示成科学计数法。",
        ),
        ("性别", "选填", "填写“男”或“女”，也可以留空。"),
        ("工号", "选填", "单位内部的职工编号，本表中不能重复；没有可留空。"),
        ("", "", ""),
        ("注意事项", "", "1. 第一行是列名，请不要修改或删除；列名后的“*”可有可无。"),
        ("", "", "2. 第 2 行灰色斜体的“张三”是示例，上传前请删除。"),
        ("", "", f"3. 一次最多导入 {MAX_DATA_ROWS} 行；空行会被自动跳过。"),
        ("", "", "4. 上传后系统会先检查，列出每一行的问题；全部改正后才会导入。"),
        ("", "", "5. 也可以另存为 CSV（逗号分隔）文件上传。"),
    ]
    for line in lines:
        notes.append(list(line))
    for cell in notes[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.freeze_panes = "A2"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
