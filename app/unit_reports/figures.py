"""What a unit reports to the city federation (pure): the figures of its 学习贯彻情况报告,
made from the platform's stored facts by `app/unit_reports/gather.py`, frozen as JSON when
the report is submitted, and written into the .docx (`document.py`) and the roll-up .xlsx.

A unit's figures cover its whole subtree: the trainings the round counts (by kind: 专题培训,
集中轮训), the 学时 of the round's year against the yearly requirement, and the round's
工作台账 entries by the kinds of part 三 of the notice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from app.tables import ACTIVITY_KINDS, TRAINING_KINDS

# The forms each kind of activity takes, as the notice names them ("其他" for the rest).
ACTIVITY_FORMS: Mapping[str, tuple[str, ...]] = {
    "publicity": ("报刊报道", "网站专栏", "新媒体", "广播电视", "理论文章", "其他"),
    "study": (
        "专题学习会",
        "报告会",
        "研讨会",
        "云直播",
        "辅导讲座",
        "专题培训",
        "集中轮训",
        "中心组学习",
        "其他",
    ),
    "lecture": ("宣讲团宣讲", "微宣讲", "职工大讲堂", "其他"),
    "implementation": ("工作举措", "建功立业", "维权服务", "基层建设", "其他"),
}

# The four kinds of units the notice is addressed to, in its order.
REPORTING_KINDS = (
    "county_federation",
    "zone_union",
    "industry_union",
    "municipal_grassroots_union",
)


@dataclass(frozen=True)
class TrainingFigures:
    """One kind of training (or all of them: kind ""), over the unit's subtree: the
    trainings its cadres were enrolled in, 应训 (enrollments), 已完成, the quiz scores."""

    kind: str
    trainings: int = 0
    enrolled: int = 0
    completed: int = 0
    scored: int = 0
    score_sum: float = 0.0

    @property
    def label(self) -> str:
        return TRAINING_KINDS.get(self.kind, "合计")

    @property
    def rate(self) -> float | None:
        return self.completed / self.enrolled if self.enrolled else None

    @property
    def average_score(self) -> float | None:
        return round(self.score_sum / self.scored, 1) if self.scored else None


@dataclass(frozen=True)
class ActivityItem:
    """One 工作台账 entry as the report lists it."""

    held_on: date
    kind: str
    form: str
    title: str
    place: str
    participants: int
    speaker: str
    summary: str
    unit_name: str
    photos: int = 0


@dataclass(frozen=True)
class ActivityFigures:
    """The entries of one kind: how many, and their participants added up."""

    kind: str
    count: int = 0
    participants: int = 0
    by_form: Mapping[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ACTIVITY_KINDS[self.kind]


@dataclass(frozen=True)
class ReportFigures:
    """Everything the report says in figures, as of `as_of` (a date in Beijing)."""

    unit_name: str
    unit_kind: str
    round_title: str
    doc_number: str
    as_of: date
    trainings: tuple[TrainingFigures, ...]  # 专题培训, 集中轮训, 合计
    organised: int  # trainings the round counts that units of the subtree organised
    credit_year: int
    cadres: int  # active cadres of the subtree
    credit_hours: float  # their 学时 of the year
    meeting_requirement: int  # cadres who reached the yearly requirement
    requirement_set: bool  # whether any requirement applies to the year
    activities: tuple[ActivityFigures, ...]  # one per ACTIVITY_KINDS key, in order
    items: tuple[ActivityItem, ...]  # by date

    @property
    def total(self) -> TrainingFigures:
        return self.trainings[-1]

    def training(self, kind: str) -> TrainingFigures:
        return next(t for t in self.trainings if t.kind == kind)

    def activity(self, kind: str) -> ActivityFigures:
        return next(a for a in self.activities if a.kind == kind)

    @property
    def activity_count(self) -> int:
        return sum(a.count for a in self.activities)

    @property
    def activity_participants(self) -> int:
        return sum(a.participants for a in self.activities)

    @property
    def average_hours(self) -> float | None:
        return round(self.credit_hours / self.cadres, 1) if self.cadres else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ReportFigures:
        data = json.loads(text)
        return cls(
            **{
                **data,
                "as_of": date.fromisoformat(data["as_of"]),
                "trainings": tuple(TrainingFigures(**t) for t in data["trainings"]),
                "activities": tuple(ActivityFigures(**a) for a in data["activities"]),
                "items": tuple(
                    ActivityItem(**{**i, "held_on": date.fromisoformat(i["held_on"])})
                    for i in data["items"]
                ),
            }
        )


def training_totals(lines: Sequence[TrainingFigures], trainings: int) -> TrainingFigures:
    """The 合计 line of the kinds' lines; `trainings`: distinct trainings over all kinds."""
    return TrainingFigures(
        kind="",
        trainings=trainings,
        enrolled=sum(t.enrolled for t in lines),
        completed=sum(t.completed for t in lines),
        scored=sum(t.scored for t in lines),
        score_sum=sum(t.score_sum for t in lines),
    )


def activity_figures(items: Iterable[ActivityItem]) -> tuple[ActivityFigures, ...]:
    """The entries counted by kind (every kind, in the notice's order) and by form."""
    listed = list(items)
    out = []
    for kind in ACTIVITY_KINDS:
        mine = [i for i in listed if i.kind == kind]
        forms: dict[str, int] = {}
        for item in mine:
            forms[item.form or "其他"] = forms.get(item.form or "其他", 0) + 1
        out.append(
            ActivityFigures(
                kind=kind,
                count=len(mine),
                participants=sum(i.participants for i in mine),
                by_form=forms,
            )
        )
    return tuple(out)


def json_list(text: str) -> list[Any]:
    """A JSON list column (ReportRound.unit_kinds, .trainings); [] for anything else."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []
