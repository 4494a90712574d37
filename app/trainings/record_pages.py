"""学习档案 pages and files: the cadre's own (/my/record), a person's for unit and
federation admins (/people/{id}/record), each as a page, an A4 print view and an .xlsx, and
one .zip of every cadre's record in a unit's subtree. Everything shown comes from
`records.learning_record`.

Access: anyone signed in sees their own record; a unit admin opens the record of a person
in their unit subtree (`guards.load_person`: unknown 404, outside 403), federation admins
anyone's. Trainers, who do not manage people, get 403 there, as on the people pages.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Stream, Template

from app.accounts.guards import ADMIN_ROLES, load_person, load_unit, requires_role
from app.lib.downloads import XLSX, file_chunks, stream_download
from app.reports.rows import Cell
from app.reports.writers import DATETIME, INTEGER, NUMBER, TEXT, XlsxBook, filename
from app.settings import get_settings
from app.tables import User
from app.trainings.credit_rules import SOURCES
from app.trainings.records import LearningRecord, learning_record, parse_year

ZIP = "application/zip"


# ---------------------------------------------------------------- the .xlsx


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(get_settings().timezone).strftime("%Y-%m-%d %H:%M")


def summary_cells(record: LearningRecord) -> list[list[Cell]]:
    s = record.standing
    rows: list[list[Cell]] = [
        ["姓名", record.name],
        ["单位", record.unit],
        ["职务", record.position or None],
        ["手机号", record.phone or None],
        ["年度", record.period],
        ["学时合计", record.totals.total],
    ]
    rows += [[f"学时：{name}", hours] for name, hours in record.sources]
    rows += [
        ["参加培训", len(record.trainings)],
        ["已结业", record.completed],
        ["测验", len(record.quizzes)],
        ["测验合格", record.passed_quizzes],
        ["出席面授课", len(record.sessions)],
        [
            f"{record.standing_year} 年学时要求",
            s.required if s.required is not None else "未设置",
        ],
        [f"{record.standing_year} 年已获学时", s.earned],
    ]
    if s.required is not None:
        rows.append([f"{record.standing_year} 年还差学时", s.missing])
    return rows


TRAINING_HEADERS = (
    "培训",
    "类别",
    "期次",
    "报名时间",
    "状态",
    "课文",
    "面授出勤",
    "结业时间",
    "结业学时",
    "证书编号",
)
TRAINING_KINDS_ = (TEXT, TEXT, TEXT, DATETIME, TEXT, TEXT, TEXT, DATETIME, NUMBER, TEXT)
QUIZ_HEADERS = ("测验", "作答次数", "计分方式", "计入成绩", "最高分", "是否合格", "最后交卷")
QUIZ_KINDS = (TEXT, INTEGER, TEXT, NUMBER, NUMBER, TEXT, DATETIME)
CREDIT_HEADERS = ("年度", "来源", "学时", "记入时间", "说明")
CREDIT_KINDS = (INTEGER, TEXT, NUMBER, DATETIME, TEXT)
SESSION_HEADERS = ("时间", "培训", "期次", "主题", "地点", "学时", "签到方式")
SESSION_KINDS = (DATETIME, TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT)


def training_cells(record: LearningRecord) -> list[list[Cell]]:
    return [
        [
            t.title,
            t.kind,
            t.batch,
            _time(t.enrolled_at),
            t.status,
            f"{t.lessons_read}/{t.lessons_required} 篇",
            f"{t.sessions_attended}/{t.sessions_total} 次",
            _time(t.completed_at),
            t.completion_hours,
            t.certificate_code,
        ]
        for t in record.trainings
    ]


def quiz_cells(record: LearningRecord) -> list[list[Cell]]:
    return [
        [
            q.title,
            q.attempts,
            q.counted_rule,
            q.counted_score,
            q.best_score,
            "合格" if q.passed else "不合格",
            _time(q.last_finished_at),
        ]
        for q in record.quizzes
    ]


def credit_cells(record: LearningRecord) -> list[list[Cell]]:
    return [[c.year, c.source_name, c.hours, _time(c.earned_at), c.note] for c in record.credits]


def session_cells(record: LearningRecord) -> list[list[Cell]]:
    return [
        [_time(s.starts_at), s.training, s.batch, s.topic, s.place, s.hours, s.method]
        for s in record.sessions
    ]


def record_title(record: LearningRecord) -> str:
    return f"{record.name} 学习档案（{record.period}）"


async def record_book(record: LearningRecord) -> IO[bytes]:
    """The record as an .xlsx in a temporary file (at its start): 概况, 培训, 测验, 学时明细,
    面授出勤."""
    book = XlsxBook()
    info = f"{record.unit} · 导出时间 {record.generated_at:%Y-%m-%d %H:%M}"
    title = record_title(record)
    try:
        sheets: Sequence[tuple[str, Sequence[str], Sequence[str], list[list[Cell]]]] = (
            ("概况", ("项目", "内容"), (TEXT, NUMBER), summary_cells(record)),
            ("培训", TRAINING_HEADERS, TRAINING_KINDS_, training_cells(record)),
            ("测验", QUIZ_HEADERS, QUIZ_KINDS, quiz_cells(record)),
            ("学时明细", CREDIT_HEADERS, CREDIT_KINDS, credit_cells(record)),
            ("面授出勤", SESSION_HEADERS, SESSION_KINDS, session_cells(record)),
        )
        for name, headers, kinds, rows in sheets:
            sheet = book.add_sheet(name, title, info, headers, kinds)
            await sheet.write_page(rows)
    except BaseException:
        book.discard()
        raise
    return await book.close()


def record_filename(record: LearningRecord) -> str:
    year = str(record.year) if record.year is not None else "全部年度"
    return filename(record.name, "学习档案", year, suffix="xlsx")


def member_name(record: LearningRecord, taken: set[str]) -> str:
    """姓名-手机号后四位.xlsx inside the .zip (-2, -3 for the same name twice)."""
    tail = (record.phone or "")[-4:]
    base = f"{record.name}-{tail}" if tail else f"{record.name}-{record.account_id}"
    base = base.replace("/", "_").replace("\\", "_")
    name, n = f"{base}.xlsx", 1
    while name in taken:
        n += 1
        name = f"{base}-{n}.xlsx"
    taken.add(name)
    return name


# ---------------------------------------------------------------- pages


def _context(request: Request, record: LearningRecord, base: str) -> dict[str, Any]:
    query = "all" if record.year is None else str(record.year)
    return {
        "record": record,
        "sources": SOURCES,
        "base": base,
        "query": query,
        "own": record.account_id == request.user.id,
    }


async def _record(account_id: int, year: str | None) -> LearningRecord:
    record = await learning_record(account_id, parse_year(year))
    if record is None:
        raise NotFoundException("没有找到这个人员。")
    return record


async def _xlsx(record: LearningRecord) -> Stream:
    file = await record_book(record)
    return stream_download(file_chunks(file), record_filename(record), XLSX)


@get("/my/record", name="my_record")
async def my_record(request: Request, year: FromQuery[str | None] = None) -> Template:
    record = await _record(request.user.id, year)
    return Template("trainings/record.html", context=_context(request, record, "/my/record"))


@get("/my/record/print", name="my_record_print")
async def my_record_print(request: Request, year: FromQuery[str | None] = None) -> Template:
    record = await _record(request.user.id, year)
    return Template("trainings/record_print.html", context=_context(request, record, "/my/record"))


@get("/my/record.xlsx", name="my_record_xlsx")
async def my_record_xlsx(request: Request, year: FromQuery[str | None] = None) -> Stream:
    return await _xlsx(await _record(request.user.id, year))


async def _person_record(request: Request, person_id: int, year: str | None) -> LearningRecord:
    person: User = await load_person(request.user, person_id)
    return await _record(person.id, year)


@get("/people/{person_id:int}/record", name="person_record")
async def person_record(
    request: Request, person_id: FromPath[int], year: FromQuery[str | None] = None
) -> Template:
    record = await _person_record(request, person_id, year)
    base = f"/people/{person_id}/record"
    return Template("trainings/record.html", context=_context(request, record, base))


@get("/people/{person_id:int}/record/print", name="person_record_print")
async def person_record_print(
    request: Request, person_id: FromPath[int], year: FromQuery[str | None] = None
) -> Template:
    record = await _person_record(request, person_id, year)
    base = f"/people/{person_id}/record"
    return Template("trainings/record_print.html", context=_context(request, record, base))


@get("/people/{person_id:int}/record.xlsx", name="person_record_xlsx")
async def person_record_xlsx(
    request: Request, person_id: FromPath[int], year: FromQuery[str | None] = None
) -> Stream:
    return await _xlsx(await _person_record(request, person_id, year))


async def unit_cadres(unit_path: str) -> list[int]:
    """The cadres of a unit and its subunits, in unit order and by name."""
    rows = await (
        User.select(User.id)
        .where(User.unit.path.like(unit_path + "%"), User.role == "cadre")
        .order_by(User.unit.path)
        .order_by(User.name)
        .order_by(User.id)
    )
    return [row["id"] for row in rows]


async def records_zip(account_ids: Sequence[int], year: int | None) -> IO[bytes]:
    """One .xlsx per cadre in a .zip, built in a temporary file one record at a time (only
    one record and its workbook are ever in memory)."""
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (closed after streaming)
    try:
        taken: set[str] = set()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for account_id in account_ids:
                record = await learning_record(account_id, year)
                if record is None:
                    continue
                book = await record_book(record)
                try:
                    with zipped.open(member_name(record, taken), "w") as member:
                        shutil.copyfileobj(book, member)
                finally:
                    book.close()
        archive.seek(0)
    except BaseException:
        archive.close()
        raise
    return archive


@get("/units/{unit_id:int}/records.zip", name="unit_records_zip")
async def unit_records_zip(
    request: Request, unit_id: FromPath[int], year: FromQuery[str | None] = None
) -> Stream:
    """Every cadre's 学习档案 of the unit's subtree, a .zip of .xlsx files."""
    unit = await load_unit(request.user, unit_id)
    chosen = parse_year(year)
    file = await records_zip(await unit_cadres(unit.path), chosen)
    period = str(chosen) if chosen is not None else "全部年度"
    name = filename(unit.name, "学习档案", period, suffix="zip")
    return stream_download(file_chunks(file), name, ZIP)


route_handlers = [my_record, my_record_print, my_record_xlsx]
router = Router(
    path="/",
    guards=[requires_role(*ADMIN_ROLES)],
    route_handlers=[person_record, person_record_print, person_record_xlsx, unit_records_zip],
)
