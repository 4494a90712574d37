"""The completion summary by unit (pure): figures per unit rolled up through the tree.

The database gives each unit's own figures (one GROUP BY over enrollments); everything here
works on those few hundred rows and the unit tree, without I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.accounts.units import path_prefixes, tree_order


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts of enrollments: 应训 (enrolled), 已完成, the quiz scores stored, 学时."""

    enrolled: int = 0
    completed: int = 0
    scored: int = 0  # enrollments with a quiz score
    score_sum: float = 0.0
    hours: float = 0.0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.enrolled + other.enrolled,
            self.completed + other.completed,
            self.scored + other.scored,
            self.score_sum + other.score_sum,
            self.hours + other.hours,
        )

    @property
    def not_completed(self) -> int:
        return self.enrolled - self.completed

    @property
    def rate(self) -> float | None:
        """Share completed, 0–1; None when nobody is enrolled."""
        return self.completed / self.enrolled if self.enrolled else None

    @property
    def average_score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None


NOTHING = Figures()


def total(figures: Iterable[Figures]) -> Figures:
    result = NOTHING
    for f in figures:
        result += f
    return result


# Kinds of rows: a unit without children; a unit's whole subtree ("…（小计）" with its
# children after it; on the dashboard, a child unit rolled up); a unit's own cadres when it
# has children ("…（本级）"); and the grand total (合计).
UNIT, SUBTOTAL, OWN, TOTAL = "unit", "subtotal", "own", "total"


@dataclass(frozen=True, slots=True)
class SummaryRow:
    kind: str  # UNIT, SUBTOTAL, OWN or TOTAL
    unit_id: int | None
    name: str  # as shown: "解放区总工会（小计）", "解放区总工会（本级）", "合计"
    level: int  # depth below the top unit shown
    figures: Figures
    has_children: bool = False

    @property
    def is_subtotal(self) -> bool:
        return self.kind in (SUBTOTAL, TOTAL)


def subtree_figures(
    units: Sequence[Mapping[str, Any]], own: Mapping[int, Figures]
) -> dict[str, Figures]:
    """Unit path → figures of the unit and everything below it."""
    known = {u["path"] for u in units}
    sums: dict[str, Figures] = {}
    for unit in units:
        figures = own.get(unit["id"])
        if figures is None:
            continue
        for prefix in path_prefixes(unit["path"]):
            if prefix in known:
                sums[prefix] = sums.get(prefix, NOTHING) + figures
    return sums


def _kept(units: Sequence[Mapping[str, Any]], sums: Mapping[str, Figures], keep_empty: bool):
    """Units to show: inactive ones only with enrollments below them; with keep_empty False,
    only units with enrollments below them."""
    return [
        u
        for u in units
        if sums.get(u["path"], NOTHING).enrolled or (keep_empty and u.get("active", True))
    ]


def summary_rows(
    units: Sequence[Mapping[str, Any]],
    own: Mapping[int, Figures],
    *,
    keep_empty: bool = True,
) -> list[SummaryRow]:
    """The 汇总表: units in tree order (siblings by sort_order, then name), each unit with
    children first as a "…（小计）" row of its subtree, then its "…（本级）" row (its own
    cadres, when it has any), then its children; a unit without children is one row; a 合计
    row ends it. The unit and 本级 rows add up to the 合计; the 小计 rows are sums of them.

    `units` are dicts with id, parent, name, path, depth, sort_order (and active); `own` maps
    a unit id to the figures of the cadres enrolled in that unit itself.
    """
    sums = subtree_figures(units, own)
    shown = tree_order(_kept(units, sums, keep_empty))
    ids = {u["id"] for u in shown}
    parents = {u["parent"] for u in shown if u["parent"] in ids}
    top = min((u["depth"] for u in shown), default=0)
    rows: list[SummaryRow] = []
    for unit in shown:
        level = unit["depth"] - top
        if unit["id"] in parents:
            rows.append(
                SummaryRow(
                    SUBTOTAL,
                    unit["id"],
                    f"{unit['name']}（小计）",
                    level,
                    sums.get(unit["path"], NOTHING),
                    True,
                )
            )
            mine = own.get(unit["id"], NOTHING)
            if mine.enrolled:
                rows.append(SummaryRow(OWN, unit["id"], f"{unit['name']}（本级）", level + 1, mine))
        else:
            rows.append(
                SummaryRow(UNIT, unit["id"], unit["name"], level, own.get(unit["id"], NOTHING))
            )
    tops = [u for u in shown if u["parent"] not in ids]
    rows.append(
        SummaryRow(TOTAL, None, "合计", 0, total(sums.get(u["path"], NOTHING) for u in tops))
    )
    return rows


def drill_rows(
    units: Sequence[Mapping[str, Any]], own: Mapping[int, Figures], current: Mapping[str, Any]
) -> list[SummaryRow]:
    """The dashboard table for one unit: its 本级 row (when its own cadres are enrolled), one
    row per child with the child's whole subtree rolled up, and a 合计 row for the unit's
    subtree. Children with nothing enrolled below them are shown (with 0) when active."""
    sums = subtree_figures(units, own)
    kept = _kept(units, sums, True)
    children = tree_order([u for u in kept if u["parent"] == current["id"]])
    parents = {u["parent"] for u in kept}
    rows: list[SummaryRow] = []
    mine = own.get(current["id"], NOTHING)
    if mine.enrolled:
        rows.append(SummaryRow(OWN, current["id"], f"{current['name']}（本级）", 0, mine))
    for child in children:
        has_children = child["id"] in parents
        rows.append(
            SummaryRow(
                SUBTOTAL if has_children else UNIT,
                child["id"],
                child["name"],
                0,
                sums.get(child["path"], NOTHING),
                has_children,
            )
        )
    rows.append(SummaryRow(TOTAL, None, "合计", 0, sums.get(current["path"], NOTHING)))
    return rows


@dataclass(frozen=True)
class Breakdown:
    """The figures of one report scope: the units of the subtree at `path` in tree order, and
    the figures of the enrollments in each unit itself (`own`, from one GROUP BY). Every
    figure the reports and the JSON API show comes from one of these, rolled up through the
    tree here: the 汇总表 (page, .xlsx, .csv), the dashboard, and /api/v1's summary."""

    path: str
    units: Sequence[Mapping[str, Any]]
    own: Mapping[int, Figures] = field(default_factory=dict)

    def own_figures(self, unit_id: int) -> Figures:
        """The figures of the cadres enrolled in the unit itself (本级)."""
        return self.own.get(unit_id, NOTHING)

    @cached_property
    def subtrees(self) -> dict[str, Figures]:
        """Unit path → figures of the unit and everything below it."""
        return subtree_figures(self.units, self.own)

    def subtree_figures(self, path: str) -> Figures:
        return self.subtrees.get(path, NOTHING)

    @property
    def total(self) -> Figures:
        """The whole scope: the 合计 of the 汇总表 and of the dashboard at `path`."""
        return self.subtree_figures(self.path)

    def summary_rows(self, *, keep_empty: bool = True) -> list[SummaryRow]:
        """The 汇总表 (see summary_rows)."""
        return summary_rows(self.units, self.own, keep_empty=keep_empty)

    def drill_rows(self, current: Mapping[str, Any]) -> list[SummaryRow]:
        """The dashboard's table for the unit `current` (see drill_rows)."""
        return drill_rows(self.units, self.own, current)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the completion-rate chart, in the chart's own units (see CHART)."""

    label: str
    title: str  # the full name and numbers, for the SVG <title>
    y: int
    width: float  # of the bar, 0 – CHART["bar_width"]
    rate_text: str
    has_data: bool


CHART = {"label_width": 220, "bar_width": 380, "row_height": 30, "bar_height": 20, "width": 680}
LABEL_CHARS = 12


def percent(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{rate * 100:.{digits}f}%"


def chart_bars(rows: Sequence[SummaryRow]) -> list[Bar]:
    """Bars of completion rate for the rows (the 合计 row left out), top to bottom."""
    bars = []
    for n, row in enumerate(r for r in rows if r.kind != TOTAL):
        f = row.figures
        label = row.name if len(row.name) <= LABEL_CHARS else row.name[: LABEL_CHARS - 1] + "…"
        bars.append(
            Bar(
                label=label,
                title=f"{row.name}：应训 {f.enrolled} 人，已完成 {f.completed} 人，"
                f"完成率 {percent(f.rate)}",
                y=n * CHART["row_height"],
                width=round((f.rate or 0) * CHART["bar_width"], 1),
                rate_text=percent(f.rate) if f.enrolled else "无应训人员",
                has_data=bool(f.enrolled),
            )
        )
    return bars


def chart_height(bars: Sequence[Bar]) -> int:
    return max(1, len(bars)) * CHART["row_height"]
