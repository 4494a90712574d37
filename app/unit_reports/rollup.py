"""The city's 报送汇总表 (.xlsx): every unit that must report, by kind, with its status and
the figures it submitted (frozen with its report), a 合计 row of the submitted ones; the
units yet to report with their administrators' contacts; and every activity reported.
Written with the reports' workbook writer (`reports/writers.XlsxBook`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from app.reports.rows import Cell
from app.reports.writers import DATETIME, INTEGER, LONG_TEXT, NUMBER, RATE, TEXT, XlsxBook
from app.settings import get_settings
from app.tables import ACTIVITY_KINDS, UNIT_KINDS, UnitReport, User
from app.unit_reports.figures import ReportFigures
from app.unit_reports.rounds import UnitStatus

ROLLUP_HEADERS = (
    "序号",
    "单位类别",
    "单位",
    "报送状态",
    "报送时间",
    "参加培训项目数",
    "应训人次",
    "已完成人次",
    "完成率",
    "平均成绩",
    "干部人数",
    "学时合计",
    "人均学时",
    "达到学时要求人数",
    *(f"{label}（次）" for label in ACTIVITY_KINDS.values()),
    "活动参加人次",
)
ROLLUP_KINDS = (
    INTEGER,
    TEXT,
    TEXT,
    TEXT,
    DATETIME,
    *(INTEGER, INTEGER, INTEGER, RATE, NUMBER),
    *(INTEGER, NUMBER, NUMBER, INTEGER),
    *(INTEGER for _ in ACTIVITY_KINDS),
    INTEGER,
)
WAITING_HEADERS = ("序号", "单位类别", "单位", "报送状态", "管理员", "手机号")
WAITING_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT)
ITEM_HEADERS = (
    "序号",
    "单位",
    "开展单位",
    "日期",
    "类别",
    "形式",
    "名称",
    "地点",
    "参加人数",
    "主讲人",
    "简要情况",
)
ITEM_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, INTEGER, TEXT, LONG_TEXT)


async def unit_figures_in(round_id: int) -> dict[int, ReportFigures]:
    """Unit id → the figures it submitted in the round."""
    rows = await UnitReport.select(UnitReport.unit, UnitReport.figures).where(
        UnitReport.round == round_id, UnitReport.status == "submitted"
    )
    return {r["unit"]: ReportFigures.from_json(r["figures"]) for r in rows if r["figures"]}


async def contacts_of(unit_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Unit id → the active unit admins of that unit (name, phone), to remind them."""
    if not unit_ids:
        return {}
    rows = await (
        User.select(User.unit, User.name, User.phone)
        .where(User.unit.is_in(list(unit_ids)), User.role == "unit_admin", User.active.eq(True))
        .order_by(User.id)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["unit"], []).append(row)
    return out


def _local(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return f"{moment.astimezone(get_settings().timezone):%Y-%m-%d %H:%M}"


def figure_cells(f: ReportFigures | None) -> tuple[Cell, ...]:
    """The figure columns of a unit (empty when it has not reported)."""
    if f is None:
        return tuple(None for _ in range(len(ROLLUP_HEADERS) - 5))
    t = f.total
    return (
        t.trainings,
        t.enrolled,
        t.completed,
        t.rate,
        t.average_score,
        f.cadres,
        f.credit_hours,
        f.average_hours,
        f.meeting_requirement if f.requirement_set else None,
        *(a.count for a in f.activities),
        f.activity_participants,
    )


def total_cells(parts: Iterable[ReportFigures]) -> tuple[Cell, ...]:
    """The 合计 of the submitted figures (a training counted by several units is counted by
    each: the number of trainings is left empty)."""
    listed = list(parts)
    enrolled = sum(p.total.enrolled for p in listed)
    completed = sum(p.total.completed for p in listed)
    scored = sum(p.total.scored for p in listed)
    cadres = sum(p.cadres for p in listed)
    hours = round(sum(p.credit_hours for p in listed), 2)
    return (
        None,
        enrolled,
        completed,
        completed / enrolled if enrolled else None,
        round(sum(p.total.score_sum for p in listed) / scored, 1) if scored else None,
        cadres,
        hours,
        round(hours / cadres, 1) if cadres else None,
        sum(p.meeting_requirement for p in listed if p.requirement_set)
        if any(p.requirement_set for p in listed)
        else None,
        *(sum(p.activities[n].count for p in listed) for n in range(len(ACTIVITY_KINDS))),
        sum(p.activity_participants for p in listed),
    )


def rollup_rows(
    statuses: Sequence[UnitStatus], figures: Mapping[int, ReportFigures]
) -> list[tuple[Cell, ...]]:
    rows = []
    for n, s in enumerate(statuses, 1):
        mine = figures.get(s.unit["id"]) if s.submitted else None
        rows.append(
            (
                n,
                UNIT_KINDS.get(s.unit["kind"], ""),
                s.unit["name"],
                s.label,
                _local(s.report["submitted_at"]) if s.submitted and s.report else None,
                *figure_cells(mine),
            )
        )
    return rows


async def rollup_xlsx(
    round_row: Mapping[str, Any],
    statuses: Sequence[UnitStatus],
    figures: Mapping[int, ReportFigures],
    now: datetime,
) -> IO[bytes]:
    submitted = [figures[s.unit["id"]] for s in statuses if s.submitted and s.unit["id"] in figures]
    info = (
        f"{round_row['doc_number'] or round_row['title']} · 截止 {round_row['deadline']:%Y-%m-%d}"
        f" · 应报送 {len(statuses)} 个单位，已报送 {len(submitted)} 个"
        f" · 导出时间 {now:%Y-%m-%d %H:%M}"
    )
    waiting = [s for s in statuses if not s.submitted]
    contacts = await contacts_of([s.unit["id"] for s in waiting])
    book = XlsxBook()
    try:
        sheet = book.add_sheet("汇总", "学习贯彻情况报送汇总表", info, ROLLUP_HEADERS, ROLLUP_KINDS)
        await sheet.write_page(rollup_rows(statuses, figures))
        sheet.write_styled(
            (None, "合计", f"已报送 {len(submitted)} 个单位", None, None, *total_cells(submitted)),
            bold=True,
        )
        sheet = book.add_sheet("未报送单位", "未报送单位名单", info, WAITING_HEADERS, WAITING_KINDS)
        lines: list[tuple[Cell, ...]] = []
        for s in waiting:
            people = contacts.get(s.unit["id"]) or [{"name": None, "phone": None}]
            for person in people:
                lines.append(
                    (
                        len(lines) + 1,
                        UNIT_KINDS.get(s.unit["kind"], ""),
                        s.unit["name"],
                        s.label,
                        person["name"],
                        person["phone"] or None,
                    )
                )
        await sheet.write_page(lines)
        sheet = book.add_sheet("活动明细", "已报送单位的工作台账", info, ITEM_HEADERS, ITEM_KINDS)
        items: list[tuple[Cell, ...]] = []
        for s in statuses:
            f = figures.get(s.unit["id"]) if s.submitted else None
            for item in f.items if f else ():
                items.append(
                    (
                        len(items) + 1,
                        s.unit["name"],
                        item.unit_name,
                        item.held_on.isoformat(),
                        ACTIVITY_KINDS.get(item.kind, item.kind),
                        item.form or None,
                        item.title,
                        item.place or None,
                        item.participants,
                        item.speaker or None,
                        item.summary or None,
                    )
                )
        await sheet.write_page(items)
    except BaseException:
        book.discard()
        raise
    return await book.close()
