"""Reading and checking an uploaded enrollment list (pure): which accounts its rows name, and
every problem of every row, before anything is written. The pages that upload, preview and
confirm a list are in `app.trainings.enrollment`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from app.accounts.auth import normalize_username
from app.accounts.cadre_import import Problem, normalize_phone
from app.lib.sheets import SPACES, ImportFileError, SheetColumns, SourceRow, read_sheet, shown

# ---------------------------------------------------------------- reading an uploaded list

COLUMNS = ("姓名", "手机号", "工号", "用户名", "单位")
IDENTIFYING = ("手机号", "用户名", "工号")
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名",),
    "手机号": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "工号": ("工号", "职工号", "员工号"),
    "用户名": ("用户名", "账号", "登录账号", "登录名"),
    "单位": ("单位", "所在单位", "单位名称", "工会名称"),
}


def _accept_header(found: dict[str, int], row: int) -> bool:
    """The header is the first row that names 姓名; it must also name a way to find the person."""
    if "姓名" not in found:
        return False
    if not any(column in found for column in IDENTIFYING):
        raise ImportFileError(
            f"第 {row} 行的列名中缺少手机号（或工号、用户名）列，无法找到报名人员。"
        )
    return True


def _no_header(first: tuple[int, dict[str, int]]) -> ImportFileError:
    return ImportFileError(
        "文件中没有找到列名行：请在第一行填写“姓名”“手机号”（或“工号”“用户名”），可选“单位”。"
    )


ENROLLMENT_COLUMNS = SheetColumns(
    aliases=HEADER_ALIASES, accept_header=_accept_header, no_header=_no_header
)


def read_enrollment_table(filename: str, content: bytes) -> list[SourceRow]:
    """The data rows of an enrollment list (.xlsx or .csv), with the columns of `COLUMNS`.

    Read with the shared sheet reader; the header is the first of the first 10 non-empty rows
    that names 姓名. Raises ImportFileError with a Chinese message."""
    return read_sheet(filename, content, ENROLLMENT_COLUMNS)


# ---------------------------------------------------------------- checking its rows (pure)


@dataclass(frozen=True)
class Account:
    """An account a row of the list may name."""

    id: int
    name: str
    username: str
    phone: str
    staff_no: str
    role: str
    active: bool
    unit_name: str
    unit_path: str


@dataclass(frozen=True)
class EnrollDraft:
    row: int
    account_id: int
    name: str
    unit_name: str


@dataclass(frozen=True)
class EnrollPlan:
    drafts: list[EnrollDraft]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.drafts)


def _key(text: str) -> str:
    return SPACES.sub("", unicodedata.normalize("NFKC", text))


def _index(accounts: Iterable[Account], attribute: str) -> dict[str, list[Account]]:
    index: dict[str, list[Account]] = {}
    for account in accounts:
        value = getattr(account, attribute)
        if value:
            index.setdefault(value, []).append(account)
    return index


def check_enrollment_rows(
    rows: Sequence[SourceRow],
    accounts: Sequence[Account],
    *,
    scope: str,
    enrolled: Collection[int],
    batch_name: str,
    capacity: int,
    batch_enrolled: int,
) -> EnrollPlan:
    """Every problem of every row of an enrollment list, each naming its row; drafts for the
    good rows. `scope`: the unit path the cadres must be under; `enrolled`: accounts already
    enrolled in the training; `capacity` (0: no limit) and `batch_enrolled`: the batch's."""
    if not rows:
        return EnrollPlan([], [Problem(None, None, "文件中没有数据行。")])
    by_phone = _index(accounts, "phone")
    by_username = _index(accounts, "username")
    by_staff_no = _index(accounts, "staff_no")
    first: dict[int, int] = {}
    drafts: list[EnrollDraft] = []
    problems: list[Problem] = []

    def problem(row: int, text: str) -> None:
        problems.append(Problem(row, None, f"第 {row} 行：{text}"))

    for source in rows:
        n, raw = source.row, source.values
        name = _key(raw["姓名"])
        if not name:
            problem(n, "姓名为空。")
            continue
        quoted = shown(name)
        if raw["手机号"]:
            phone = normalize_phone(raw["手机号"])
            if phone is None:
                problem(n, f"手机号“{shown(raw['手机号'])}”不是有效的 11 位手机号码。")
                continue
            found = by_phone.get(phone, []) + by_username.get(phone, [])
            what = f"手机号 {phone}"
        elif raw["用户名"]:
            username = normalize_username(raw["用户名"])
            found, what = by_username.get(username, []), f"用户名“{shown(username)}”"
        elif raw["工号"]:
            found, what = by_staff_no.get(raw["工号"], []), f"工号“{shown(raw['工号'])}”"
        else:
            problem(n, "手机号、工号、用户名都为空，无法确定是哪一位。")
            continue
        found = list({a.id: a for a in found}.values())
        if len(found) > 1 and raw["单位"]:
            found = [a for a in found if _key(a.unit_name) == _key(raw["单位"])] or found
        if len(found) > 1:
            found = [a for a in found if _key(a.name) == name] or found
        if not found:
            problem(n, f"没有找到{what}的人员“{quoted}”。")
            continue
        if len(found) > 1:
            problem(n, f"{what}对应多个账号，请改填手机号。")
            continue
        account = found[0]
        if not account.unit_path.startswith(scope):
            problem(n, f"“{quoted}”（{what}）不在您可以报名的范围内。")
            continue
        if _key(account.name) != name:
            problem(n, f"姓名“{quoted}”与{what}的账号“{account.name}”不符。")
            continue
        if raw["单位"] and _key(raw["单位"]) != _key(account.unit_name):
            text = f"单位“{shown(raw['单位'])}”与“{account.name}”所在的“{account.unit_name}”不符。"
            problem(n, text)
            continue
        if account.role != "cadre":
            problem(n, f"“{account.name}”不是学员账号，不能报名培训。")
        elif not account.active:
            problem(n, f"“{account.name}”的账号已停用，不能报名。")
        elif account.id in enrolled:
            problem(n, f"“{account.name}”已经报名了这个培训。")
        elif first.setdefault(account.id, n) != n:
            problem(n, f"“{account.name}”与第 {first[account.id]} 行是同一人（重复行）。")
        else:
            drafts.append(EnrollDraft(n, account.id, account.name, account.unit_name))
    if capacity and drafts and batch_enrolled + len(drafts) > capacity:
        room = max(0, capacity - batch_enrolled)
        problem(
            drafts[room].row,
            f"从这一行起超出名额：期次“{batch_name}”名额 {capacity} 人，"
            f"已报名 {batch_enrolled} 人，还可报名 {room} 人，本表有 {len(drafts)} 人。",
        )
    problems.sort(key=lambda p: p.row or 0)
    return EnrollPlan(drafts, problems)
