"""What the JSON API returns: msgspec Structs, documented in its OpenAPI schema under these
class names (the errors' `ApiError` is in app/api/errors.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec


class UnitRef(msgspec.Struct):
    id: int
    name: str


class BatchOut(msgspec.Struct):
    """一个期次。"""

    id: int
    name: str
    starts_on: date | None
    ends_on: date | None
    place: str
    capacity: Annotated[int, msgspec.Meta(description="名额，0 表示不限")]


class TrainingOut(msgspec.Struct):
    """一项培训及其期次。"""

    id: int
    title: str
    kind: Annotated[str, msgspec.Meta(description="special（专题培训）或 rotation（集中轮训）")]
    kind_name: str
    organiser: Annotated[UnitRef, msgspec.Meta(description="主办单位")]
    credit_hours: Annotated[float, msgspec.Meta(description="完成后获得的学时")]
    batches: list[BatchOut]


class TrainingList(msgspec.Struct):
    items: list[TrainingOut]


class BatchList(msgspec.Struct):
    training_id: int
    items: list[BatchOut]


class Numbers(msgspec.Struct):
    enrolled: int
    completed: int
    not_completed: int
    completion_rate: Annotated[
        float | None, msgspec.Meta(description="完成率，0 到 1；无人报名时为 null")
    ]
    average_score: Annotated[
        float | None, msgspec.Meta(description="有成绩者的测验平均分；无成绩时为 null")
    ]
    hours: Annotated[float, msgspec.Meta(description="已获学时合计")]


class UnitSummary(msgspec.Struct):
    """一个单位本级（不含下级单位）报名人员的完成情况。"""

    unit_id: int
    name: str
    depth: Annotated[int, msgspec.Meta(description="在全市组织树中的层级，市总工会为 0")]
    level: Annotated[int, msgspec.Meta(description="相对令牌所属单位的层级，令牌单位为 0")]
    enrolled: int
    completed: int
    not_completed: int
    completion_rate: float | None
    average_score: float | None
    hours: float


class Summary(msgspec.Struct):
    training_id: int
    batch_id: int | None
    units: Annotated[list[UnitSummary], msgspec.Meta(description="令牌范围内的单位，按组织树顺序")]
    total: Annotated[Numbers, msgspec.Meta(description="令牌范围内的合计")]


class RosterEntry(msgspec.Struct):
    """一名报名学员的学习进度（不含手机号等个人联系信息）。"""

    enrollment_id: int
    cadre_id: int
    name: str
    position: str
    unit: UnitRef
    batch: UnitRef | None
    lessons_read: int
    lessons_required: int
    quiz_score: float | None
    quiz_passed: bool
    sessions_attended: int
    sessions_total: int
    hours: float
    completed_at: datetime | None


class Roster(msgspec.Struct):
    training_id: int
    total: int
    page: int
    page_size: int
    pages: int
    items: list[RosterEntry]


class CreditNumbers(msgspec.Struct):
    cadres: Annotated[int, msgspec.Meta(description="干部人数")]
    hours: Annotated[float, msgspec.Meta(description="学时合计（取自学时台账，含更正）")]
    average_hours: Annotated[float | None, msgspec.Meta(description="人均学时；无干部时为 null")]
    below: Annotated[int, msgspec.Meta(description="未达到年度学时要求的人数")]


class CreditUnit(msgspec.Struct):
    """一个单位本级（不含下级单位）干部的年度学时。"""

    unit_id: int
    name: str
    depth: Annotated[int, msgspec.Meta(description="在全市组织树中的层级，市总工会为 0")]
    level: Annotated[int, msgspec.Meta(description="相对令牌所属单位的层级，令牌单位为 0")]
    cadres: int
    hours: float
    average_hours: float | None
    below: int
    subtree: Annotated[CreditNumbers, msgspec.Meta(description="本单位及全部下级单位的小计")]


class CreditSummary(msgspec.Struct):
    year: int
    units: Annotated[list[CreditUnit], msgspec.Meta(description="令牌范围内的单位，按组织树顺序")]
    total: Annotated[CreditNumbers, msgspec.Meta(description="令牌范围内的合计")]


class CadreCredit(msgspec.Struct):
    """一名干部的年度学时（不含手机号等个人联系信息）。"""

    cadre_id: int
    name: str
    position: str
    unit: UnitRef
    hours: Annotated[float, msgspec.Meta(description="学时合计")]
    by_source: Annotated[
        dict[str, float],
        msgspec.Meta(
            description="按来源的学时：reading 阅读、quiz 测验、session 面授、training 培训结业"
        ),
    ]
    required: Annotated[float | None, msgspec.Meta(description="适用的年度学时要求；没有时为 null")]
    missing: Annotated[float, msgspec.Meta(description="距年度要求尚差的学时")]
    below: Annotated[bool, msgspec.Meta(description="是否未达到年度要求")]


class CadreCreditList(msgspec.Struct):
    year: int
    total: int
    page: int
    page_size: int
    pages: int
    items: list[CadreCredit]
