"""The completion rule of a training (pure).

A cadre completes a training when every required lesson is read, the final quiz (if any)
is passed by the attempt that counts, and, for 集中轮训, at least the training's share of the
batch's class sessions was attended (the sessions given are those not cancelled). 学时: the
hours of the sessions attended, plus the training's own credit hours once it is completed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Facts:
    """What is known of one cadre in one training."""

    kind: str  # "special" or "rotation"
    required_lessons: frozenset[int]
    read_lessons: frozenset[int]  # of the required ones, those read
    has_quiz: bool
    attempt: dict[str, Any] | None = None  # the counted attempt: id, score, passed
    sessions: dict[int, float] = field(default_factory=dict)  # session id → hours
    attended: frozenset[int] = frozenset()
    attendance_share: float = 0.8
    credit_hours: float = 0.0


@dataclass(frozen=True)
class Progress:
    complete: bool
    lessons_required: int
    lessons_read: int
    quiz_score: float | None
    quiz_passed: bool
    sessions_total: int
    sessions_attended: int
    hours: float
    lacks: tuple[str, ...]

    def evidence(self, facts: Facts) -> dict[str, Any]:
        """What the completion rests on, stored with it."""
        return {
            "lessons": sorted(facts.read_lessons),
            "attempt": facts.attempt,
            "sessions": sorted(facts.attended & set(facts.sessions)),
        }


def sessions_needed(total: int, share: float) -> int:
    """How many of `total` sessions must be attended (rounded up; at least one)."""
    return max(1, math.ceil(total * share - 1e-9)) if total else 1


def lacks_text(
    *,
    kind: str,
    lessons_required: int,
    lessons_read: int,
    has_quiz: bool,
    quiz_passed: bool,
    quiz_score: float | None,
    sessions_total: int,
    sessions_attended: int,
    attendance_share: float,
) -> tuple[str, ...]:
    """What a cadre still lacks, in Chinese, one item each."""
    lacks = []
    if lessons_read < lessons_required:
        lacks.append(f"还有 {lessons_required - lessons_read} 篇课文未学完")
    if has_quiz and not quiz_passed:
        lacks.append("结业测验未参加" if quiz_score is None else "结业测验未通过")
    if kind == "rotation":
        needed = sessions_needed(sessions_total, attendance_share)
        if not sessions_total:
            lacks.append("尚未安排面授课程")
        elif sessions_attended < needed:
            lacks.append(f"签到 {sessions_attended}/{sessions_total} 次，需至少 {needed} 次")
    return tuple(lacks)


def evaluate(facts: Facts) -> Progress:
    read = len(facts.read_lessons & facts.required_lessons)
    attended = len(facts.attended & set(facts.sessions))
    score = facts.attempt["score"] if facts.attempt else None
    passed = bool(facts.attempt and facts.attempt["passed"])
    lacks = lacks_text(
        kind=facts.kind,
        lessons_required=len(facts.required_lessons),
        lessons_read=read,
        has_quiz=facts.has_quiz,
        quiz_passed=passed,
        quiz_score=score,
        sessions_total=len(facts.sessions),
        sessions_attended=attended,
        attendance_share=facts.attendance_share,
    )
    session_hours = sum(facts.sessions[s] for s in facts.attended if s in facts.sessions)
    hours = session_hours + (facts.credit_hours if not lacks else 0.0)
    return Progress(
        complete=not lacks,
        lessons_required=len(facts.required_lessons),
        lessons_read=read,
        quiz_score=score,
        quiz_passed=passed,
        sessions_total=len(facts.sessions),
        sessions_attended=attended,
        hours=round(hours, 2),
        lacks=lacks,
    )
