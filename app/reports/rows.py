"""The cells of each roster row (pure): the summary, the detail (花名册) and 催学名单.

Cells are plain values: text, numbers, or None for "nothing to show"; each writer turns them
into what its format shows (a blank cell in Excel, "" in CSV, "—" on the page).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import NamedTuple

from app.reports.summary import Figures, SummaryRow
from app.tables import TRAINING_KINDS
from app.trainings.completion import lacks_text

SUMMARY_HEADERS = ("单位", "应训人数", "已完成", "未完成", "完成率", "平均成绩", "参训学时")
DETAIL_HEADERS = (
    "序号",
    "单位",
    "姓名",
    "职务",
    "培训类别",
    "期次",
    "学习进度",
    "测验成绩",
    "是否合格",
    "完成时间",
    "学时",
    "签到次数",
)
REMINDER_HEADERS = ("序号", "单位", "姓名", "职务", "手机号", "期次", "学习进度", "尚需完成")

NOT_COMPLETED = "未完成"
ALL_MET = "各项要求均已达到，完成状态待系统更新"

Cell = str | int | float | None


class RosterRow(NamedTuple):
    """One enrollment as the roster reads it: its stored progress, names joined in. The
    database gives plain tuples in this order (a NamedTuple each would cost a tenth of a
    second per 100,000), so the functions below unpack rows by position."""

    unit: int
    unit_name: str
    name: str
    position: str
    phone: str
    batch_name: str | None
    lessons_required: int
    lessons_read: int
    quiz_score: float | None
    quiz_passed: bool  # 0/1 on SQLite
    sessions_total: int
    sessions_attended: int
    hours: float
    completed_minute: int | None  # completed_at in whole minutes since 1970 (UTC)


ROSTER_WIDTH = len(RosterRow._fields)


class RosterIds(NamedTuple):
    """The ids of an enrollment, which no report shows: read after the RosterRow columns
    when the roster is asked `with_ids` (as the JSON API does)."""

    enrollment: int
    account: int
    batch: int | None


def roster_ids(row: Sequence) -> RosterIds:
    """The ids that follow the RosterRow columns of a row read `with_ids`."""
    return RosterIds._make(row[ROSTER_WIDTH:])


@dataclass(frozen=True)
class TrainingFacts:
    """What the rows need to know of the training itself."""

    title: str
    kind: str  # "special" or "rotation"
    has_quiz: bool
    attendance_share: float = 0.8

    @property
    def kind_name(self) -> str:
        return TRAINING_KINDS.get(self.kind, self.kind)


# Every score (a cadre's, an average) is shown to 1 decimal, every 学时 to 2 decimals; the
# rate of completion is not rounded (a page shows it to 0.1 %, a spreadsheet formats it so).
SCORE_DIGITS = 1
HOURS_DIGITS = 2


def score_cell(score: float | None) -> float | int | None:
    """A score as the reports give it: 86.666 → 86.7, 92.0 → 92; None for no score."""
    if score is None:
        return None
    score = round(float(score), SCORE_DIGITS)
    return int(score) if score.is_integer() else score


def hours_cell(hours: float) -> float | int:
    """学时 as the reports give them: 2.125 → 2.12, 12.0 → 12."""
    hours = round(float(hours), HOURS_DIGITS)
    return int(hours) if hours.is_integer() else hours


def figure_cells(f: Figures) -> tuple[Cell, ...]:
    """应训人数、已完成、未完成、完成率 (0–1, or None)、平均成绩、参训学时 of some figures."""
    return (
        f.enrolled,
        f.completed,
        f.not_completed,
        f.rate,
        score_cell(f.average_score),
        hours_cell(f.hours),
    )


def summary_cells(row: SummaryRow) -> tuple[Cell, ...]:
    """单位、应训人数、已完成、未完成、完成率 (0–1)、平均成绩、参训学时."""
    return (row.name, *figure_cells(row.figures))


# 学习进度 and 签到次数 as "5/13 篇" and "2/5 次" (as "5/13" a spreadsheet opening the .csv
# would read them as dates, 13 May): the page and both files show them so.
def lessons_text(read: int, required: int) -> str | None:
    return f"{read}/{required} 篇" if required else None


@lru_cache(maxsize=65536)
def local_minute(minute: int, tz: tzinfo) -> str:
    """ "2026-11-20 14:30": a time given in whole minutes since 1970 (UTC), in the time zone.
    The database gives minutes (the same on both engines), so each is converted once."""
    return datetime.fromtimestamp(minute * 60, tz).strftime("%Y-%m-%d %H:%M")


def completed_time(minute: int | None) -> datetime | None:
    """The completion time of a roster row (in whole minutes, as 完成时间 shows it), in UTC;
    None when not completed."""
    return None if minute is None else datetime.fromtimestamp(minute * 60, UTC)


def detail_maker(training: TrainingFacts, tz: tzinfo) -> Callable[[int, Sequence], tuple]:
    """A function that makes one line of the 花名册 from an enrollment's stored progress
    columns (and its cadre's name and position, its unit's and batch's names). Written for
    speed, as it runs once for each cadre of a city-wide roster."""
    kind_name = training.kind_name
    has_quiz = training.has_quiz

    def cells(number: int, row: Sequence) -> tuple[Cell, ...]:
        (_, unit, name, position, _, batch, required, read, score, passed, sessions, attended,
         hours, minute) = row[:ROSTER_WIDTH]  # fmt: skip
        score = score_cell(score)
        return (
            number,
            unit,
            name,
            position or None,
            kind_name,
            batch,
            f"{read}/{required} 篇" if required else None,  # lessons_text, inline for speed
            score,
            (("合格" if passed else "未参加" if score is None else "不合格") if has_quiz else None),
            NOT_COMPLETED if minute is None else local_minute(minute, tz),
            hours_cell(hours),
            f"{attended}/{sessions} 次" if sessions else None,
        )

    return cells


def detail_cells(
    number: int, row: Sequence, training: TrainingFacts, tz: tzinfo
) -> tuple[Cell, ...]:
    """One line of the 花名册 (see detail_maker)."""
    return detail_maker(training, tz)(number, row)


def still_lacks(row: Sequence, training: TrainingFacts) -> str:
    """What one cadre still lacks, from the stored columns and the training's rule, e.g.
    “还有 3 篇课文未学完；结业测验未通过；签到 2/5 次，需至少 4 次”."""
    r = RosterRow._make(row[:ROSTER_WIDTH])
    lacks = lacks_text(
        kind=training.kind,
        lessons_required=r.lessons_required,
        lessons_read=r.lessons_read,
        has_quiz=training.has_quiz,
        quiz_passed=bool(r.quiz_passed),
        quiz_score=r.quiz_score,
        sessions_total=r.sessions_total,
        sessions_attended=r.sessions_attended,
        attendance_share=training.attendance_share,
    )
    return "；".join(lacks) or ALL_MET


def reminder_cells(number: int, row: Sequence, training: TrainingFacts) -> tuple[Cell, ...]:
    """One line of the 催学名单: who, how to reach them, and what they still lack."""
    r = RosterRow._make(row[:ROSTER_WIDTH])
    return (
        number,
        r.unit_name,
        r.name,
        r.position or None,
        r.phone or None,
        r.batch_name,
        lessons_text(r.lessons_read, r.lessons_required),
        still_lacks(r, training),
    )


def text_cell(value: Cell, empty: str = "") -> str:
    """A cell as text, for CSV ("" for nothing) and the page ("—")."""
    if value is None:
        return empty
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def rate_text(value: Cell, empty: str = "") -> str:
    return empty if value is None else f"{float(value) * 100:.1f}%"
