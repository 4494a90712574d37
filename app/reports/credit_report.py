"""学时 by unit: for a year, each cadre's 学时 (total and by source, summed from the ledger
in SQL by `queries.credit_rows`), the requirement that applies to them
(`credit_rules.requirement_for`, the most specific) and whether they are below it; the units
rolled up through the tree with subtotals (`summary.summary_rows`); and the 学时催学名单,
the cadres below the requirement by unit, names in surname-stroke order.

The figures per unit go through the engine's `Figures`, read so: `enrolled` the cadres,
`completed` those not below the requirement (so `not_completed` is the number below it),
`hours` the 学时 (and `score_sum` / `scored` the same 学时 over the same cadres, so
`average_score` is the 学时 per cadre). The pages, files and the JSON API all read a
`CreditReport` made here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from litestar.exceptions import ClientException

from app.reports import queries as q
from app.reports.report import today, unit_asked
from app.reports.rows import Cell, hours_cell
from app.reports.strokes import stroke_key
from app.reports.summary import Breakdown, Figures, SummaryRow
from app.reports.writers import INTEGER, NUMBER, TEXT, filename
from app.tables import UNIT_KINDS, User
from app.trainings.credit_rules import SOURCES, requirement_for

FIRST_YEAR = 2000
LAST_YEAR = 2100

CREDIT_SUMMARY_HEADERS = ("单位", "干部人数", "学时合计", "人均学时", "未达要求人数")
CREDIT_SUMMARY_KINDS = (TEXT, INTEGER, NUMBER, NUMBER, INTEGER)
CREDIT_DETAIL_HEADERS = (
    "序号",
    "单位",
    "姓名",
    "职务",
    *(f"{name}学时" for name in SOURCES.values()),
    "学时合计",
    "年度要求",
    "尚差学时",
)
CREDIT_DETAIL_KINDS = (
    *(INTEGER, TEXT, TEXT, TEXT),
    *(NUMBER for _ in SOURCES),
    *(NUMBER, NUMBER, NUMBER),
)
CREDIT_REMINDER_HEADERS = (
    "序号",
    "单位",
    "姓名",
    "职务",
    "手机号",
    "学时合计",
    "年度要求",
    "尚差学时",
)
CREDIT_REMINDER_KINDS = (INTEGER, TEXT, TEXT, TEXT, TEXT, NUMBER, NUMBER, NUMBER)


@dataclass(slots=True)
class CadreCredit:
    """One cadre's 学时 of the year against the requirement that applies to them."""

    account: int
    unit: int
    unit_name: str
    name: str
    position: str
    phone: str
    sources: Sequence[float]  # by source, in the order of credit_rules.SOURCES
    total: float
    required: float | None  # None: no requirement applies
    missing: float  # 学时 still lacking, 0 when met or when nothing is required

    @property
    def by_source(self) -> dict[str, float]:
        return dict(zip(SOURCES, self.sources, strict=True))

    @property
    def below(self) -> bool:
        return self.missing > 0


def requirement_by_kind(
    requirements: Sequence[Mapping[str, Any]], year: int, kinds: Iterable[str]
) -> q.CreditRequirementByKind:
    """The hours required of a cadre in a unit of each kind (the most specific requirement,
    credit_rules.requirement_for), for the SQL to compare each cadre's total with."""

    def hours(kind: str) -> float | None:
        found = requirement_for(requirements, year, "cadre", kind)
        return None if found is None else float(found["hours"])

    return q.CreditRequirementByKind({k: hours(k) for k in kinds}, hours("\0"))


def cadres_from_rows(
    rows: Iterable[Sequence[Any]], unit_names: Mapping[int, str]
) -> list[CadreCredit]:
    """The cadres of `queries.credit_rows`: unit, account, name, position, phone, the hours of
    each source, total, required."""
    width = len(SOURCES)
    cadres = []
    for row in rows:
        unit, account, name, position, phone = row[:5]
        total = round(row[5 + width], 2)
        need = row[6 + width]
        cadres.append(
            CadreCredit(
                account,
                unit,
                unit_names.get(unit, ""),
                name,
                position or "",
                phone or "",
                row[5 : 5 + width],  # rounded as cells (hours_cell)
                total,
                None if need is None else float(need),
                0.0 if need is None else max(0.0, round(need - total, 2)),
            )
        )
    return cadres


def figures_from_rows(rows: Iterable[Sequence[Any]]) -> dict[int, Figures]:
    """Unit id → Figures (see the module's note) of `queries.credit_unit_figures`."""
    out = {}
    for unit, cadres, hours, below in rows:
        hours = float(hours or 0.0)
        out[unit] = Figures(
            enrolled=cadres, completed=cadres - below, scored=cadres, score_sum=hours, hours=hours
        )
    return out


def credit_figure_cells(f: Figures) -> tuple[Cell, ...]:
    """干部人数、学时合计、人均学时、未达要求人数."""
    average = f.hours / f.enrolled if f.enrolled else None
    return (
        f.enrolled,
        hours_cell(f.hours),
        None if average is None else hours_cell(average),
        f.not_completed,
    )


def credit_summary_cells(row: SummaryRow) -> tuple[Cell, ...]:
    return (row.name, *credit_figure_cells(row.figures))


def _hours_or_none(value: float | None) -> Cell:
    return None if value is None else hours_cell(value)


def credit_detail_cells(number: int, c: CadreCredit) -> tuple[Cell, ...]:
    return (
        number,
        c.unit_name,
        c.name,
        c.position or None,
        *(hours_cell(h) for h in c.sources),
        hours_cell(c.total),
        _hours_or_none(c.required),
        _hours_or_none(c.missing if c.required is not None else None),
    )


def credit_reminder_cells(number: int, c: CadreCredit) -> tuple[Cell, ...]:
    return (
        number,
        c.unit_name,
        c.name,
        c.position or None,
        c.phone or None,
        hours_cell(c.total),
        _hours_or_none(c.required),
        hours_cell(c.missing),
    )


def in_report_order(
    cadres: Iterable[CadreCredit],
    units: Sequence[Mapping[str, Any]],
    name_key: Callable[[str], Any] = stroke_key,
) -> list[CadreCredit]:
    """Units in tree order, names by `name_key` (surname strokes) within a unit."""
    position = {u["id"]: n for n, u in enumerate(units)}
    last = len(position)
    keys: dict[str, Any] = {}  # names repeat: each one's key is made once

    def key(c: CadreCredit) -> tuple:
        name = keys.get(c.name)
        if name is None:
            name = keys[c.name] = name_key(c.name)
        return (position.get(c.unit, last), name, c.account)

    return sorted(cadres, key=key)


@dataclass
class CreditReport:
    """The 学时 report of one year over one subtree, as asked for: the figures per unit are
    read at once; the cadres (all, or those below the requirement) when asked for."""

    user: User | None  # None for the JSON API
    year: int
    path: str
    unit: dict[str, Any] | None  # chosen with ?unit=
    scope_name: str
    units: list[dict[str, Any]]  # of the subtree, in tree order
    need: q.CreditRequirementByKind
    own: dict[int, Figures] = field(default_factory=dict)

    @cached_property
    def breakdown(self) -> Breakdown:
        return Breakdown(self.path, self.units, self.own)

    def summary_rows(self) -> list[SummaryRow]:
        return self.breakdown.summary_rows()

    async def cadres(self, *, below_only: bool = False) -> list[CadreCredit]:
        """Every cadre (or the 学时催学名单: those below the requirement), units in tree
        order, names by surname strokes."""
        rows = await q.credit_rows(self.path, self.year, self.need, below_only=below_only)
        names = {u["id"]: u["name"] for u in self.units}
        return in_report_order(cadres_from_rows(rows, names), self.units)

    def title(self, what: str) -> str:
        return f"{self.year}年度{what}"

    def info_line(self) -> str:
        return "　　".join(
            (
                f"填报单位：{self.user.unit.name if self.user else self.scope_name}",
                f"统计范围：{self.scope_name}（含下级单位）",
                f"填报日期：{today():%Y年%m月%d日}",
            )
        )

    def query(self) -> str:
        values = {"year": self.year, "unit": self.unit["id"] if self.unit else ""}
        return urlencode({k: v for k, v in values.items() if v != ""})

    def download_name(self, what: str, suffix: str) -> str:
        unit = self.unit["name"] if self.unit else ""
        return filename(f"{self.year}年度{what}", unit, f"{today():%Y%m%d}", suffix=suffix)


def parse_year(raw: str | int | None, now: datetime | None = None) -> int:
    """The year asked for (this year when none); 400 for one that is not a year."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return (now or today()).year
    try:
        year = int(raw)
    except ValueError:
        raise ClientException("年度不正确。") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ClientException("年度不正确。")
    return year


async def load_credit_report_at(user: User | None, path: str, year: int) -> CreditReport:
    """The report over the subtree at `path` (already checked against the scope)."""
    units = await q.units_under(path)
    top = await q.unit_at(path)
    need = requirement_by_kind(await q.credit_requirements(year), year, UNIT_KINDS)
    return CreditReport(
        user=user,
        year=year,
        path=path,
        unit=None,
        scope_name=top["name"] if top else "全市",
        units=units,
        need=need,
        own=figures_from_rows(await q.credit_unit_figures(path, year, need)),
    )


async def load_credit_report(user: User, year: str = "", unit: str = "") -> CreditReport:
    """The report as a person asks for it: their own subtree (federation staff: the city),
    or `?unit=` within it (403 outside, 404 for no such unit)."""
    chosen_year = parse_year(year)
    path = q.home_path(user)
    chosen = None
    if unit.strip():
        found = await unit_asked(user, unit)  # 403 outside scope_path(user)
        path = found.path
        chosen = {"id": found.id, "name": found.name, "path": found.path}
    report = await load_credit_report_at(user, path, chosen_year)
    report.unit = chosen
    return report
