"""What a cadre is allowed on a quiz: the quiz's own settings, changed by a trainer's 补考/延期
(an override) when there is one. Pure: the one place the rule is written down; starting an
attempt, the quiz page, a result's 再答一次, 我的成绩 and the learning path all ask it.

The rule
--------
- attempts allowed = the quiz's `max_attempts` + the override's extra attempts; a quiz of
  unlimited attempts (0) stays unlimited.
- time limit = the quiz's `time_limit_minutes` + the override's extra minutes, for attempts
  started while the override stands (an attempt's deadline is fixed when it starts and never
  changes afterwards); an untimed quiz (0) stays untimed.
- the quiz closes at the override's closing time when that is later than the quiz's own;
  a quiz that never closes stays open. When it opens is not changed.
- which attempt counts is still the quiz's rule (`core.counted_attempt`): an override only
  lets more attempts be made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Override:
    """What the rule takes from a trainer's override (a QuizOverride row not revoked)."""

    extra_attempts: int = 0
    extra_minutes: int = 0
    closes_at: datetime | None = None


@dataclass(frozen=True)
class Allowance:
    """What one cadre may do on one quiz."""

    max_attempts: int  # 0: unlimited
    time_limit_minutes: int  # 0: untimed
    opens_at: datetime | None
    closes_at: datetime | None  # None: never closes
    extra_attempts: int = 0  # what the override adds, as it applies to this quiz
    extra_minutes: int = 0
    later_close: bool = False  # the override moved the closing later

    @property
    def extended(self) -> bool:
        """Whether an override changes anything for this cadre."""
        return bool(self.extra_attempts or self.extra_minutes or self.later_close)

    def attempts_left(self, used: int) -> int | None:
        """Attempts still allowed after `used` finished ones; None when unlimited."""
        return max(0, self.max_attempts - used) if self.max_attempts else None

    def may_start(self, used: int) -> bool:
        """Whether another attempt is allowed after `used` finished ones (time aside)."""
        return not self.max_attempts or used < self.max_attempts

    def is_open(self, now: datetime) -> bool:
        return (self.opens_at is None or now >= self.opens_at) and (
            self.closes_at is None or now < self.closes_at
        )

    def deadline(self, started: datetime) -> datetime | None:
        """The deadline of an attempt started at `started`: its time limit from then, but
        never after the closing; an untimed attempt still ends when the quiz closes."""
        if not self.time_limit_minutes:
            return self.closes_at
        end = started + timedelta(minutes=self.time_limit_minutes)
        return min(end, self.closes_at) if self.closes_at else end


def override_of(row: Mapping[str, Any] | None) -> Override | None:
    """The override a QuizOverride row (or a row with its columns) stands for; None for none
    or a revoked one."""
    if row is None or row.get("revoked_at") is not None:
        return None
    return Override(
        int(row.get("extra_attempts") or 0),
        int(row.get("extra_minutes") or 0),
        row.get("closes_at"),
    )


def allowance(quiz: Mapping[str, Any], override: Override | None = None) -> Allowance:
    """The allowance of a cadre on `quiz` (a row with max_attempts, time_limit_minutes,
    opens_at and closes_at), with their override if any."""
    max_attempts = int(quiz["max_attempts"] or 0)
    minutes = int(quiz.get("time_limit_minutes") or 0)
    closes_at = quiz["closes_at"]
    if override is None:
        return Allowance(max_attempts, minutes, quiz["opens_at"], closes_at)
    extra_attempts = max(0, override.extra_attempts) if max_attempts else 0
    extra_minutes = max(0, override.extra_minutes) if minutes else 0
    later = bool(closes_at and override.closes_at and override.closes_at > closes_at)
    return Allowance(
        max_attempts + extra_attempts,
        minutes + extra_minutes,
        quiz["opens_at"],
        override.closes_at if later else closes_at,
        extra_attempts,
        extra_minutes,
        later,
    )
