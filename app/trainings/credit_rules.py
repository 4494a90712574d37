"""The rules of 学时 (credit hours), pure: no I/O, no web framework.

Every 学时 a cadre earns is a row of the 学时台账 (`CreditEntry`), written by
`app/trainings/credits.py` on the event that earns it. What a row is worth is decided here:

- reading (阅读): a module's active reading time in a year, converted as cadre online
  colleges do: every full `reading_unit_minutes` (30) = 1 学时, a remainder of at least
  `reading_half_minutes` (15) = 0.5 学时;
- quiz (测验): the first pass of a quiz in a year, by an attempt that is not practice:
  `quiz_hours` (0.5);
- session (面授): an attended class session, its own hours;
- training (培训结业): a completed training's `credit_hours`, by `training_mode`:
  "top_up" (the default) gives what the training's sessions already credited did not, so
  nothing counts twice; "none" gives nothing; "full" gives all of it.

The values come from the environment (`app/settings.py`, PEIXUN_CREDIT_*); `CreditRules()`
holds the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

SOURCES = {
    "reading": "阅读",
    "quiz": "测验",
    "session": "面授",
    "training": "培训结业",
}
TRAINING_MODES = {
    "top_up": "补足：结业学时减去该培训已计的面授学时",
    "none": "结业不另计学时",
    "full": "结业学时全部计入",
}


@dataclass(frozen=True)
class CreditRules:
    reading_unit_minutes: int = 30
    reading_half_minutes: int = 15
    quiz_hours: float = 0.5
    training_mode: str = "top_up"

    def __post_init__(self) -> None:
        if self.reading_unit_minutes <= 0:
            raise ValueError("reading_unit_minutes must be positive")
        if not 0 < self.reading_half_minutes <= self.reading_unit_minutes:
            raise ValueError("reading_half_minutes must be within (0, reading_unit_minutes]")
        if self.quiz_hours < 0:
            raise ValueError("quiz_hours must not be negative")
        if self.training_mode not in TRAINING_MODES:
            raise ValueError(f"unknown training_mode {self.training_mode!r}")


def reading_hours(seconds: int, rules: CreditRules) -> float:
    """学时 for `seconds` of active reading: one per full unit, a half for a remainder of at
    least the half threshold."""
    minutes = max(0, seconds) // 60
    full, rest = divmod(minutes, rules.reading_unit_minutes)
    return float(full) + (0.5 if rest >= rules.reading_half_minutes else 0.0)


def training_hours(credit_hours: float, session_hours_credited: float, rules: CreditRules) -> float:
    """学时 a completion earns: by the training mode, never below 0."""
    credit_hours = max(0.0, credit_hours)
    if rules.training_mode == "none":
        return 0.0
    if rules.training_mode == "full":
        return credit_hours
    return max(0.0, credit_hours - max(0.0, session_hours_credited))


def year_of(moment: datetime, zone: tzinfo) -> int:
    """The year of a moment in the installation's time zone (Beijing time by default)."""
    return moment.astimezone(zone).year


def reading_year_seconds(total_seconds: int, earlier: Iterable[tuple[int, int]], year: int) -> int:
    """The reading time of a module that counts in `year`: the module's total time less
    what it was when last credited in an earlier year. `earlier`: (year, module seconds at
    that entry) of the module's reading entries. A remainder too short to earn anything at
    the end of a year carries into the next."""
    before = [seconds for entry_year, seconds in earlier if entry_year < year]
    return max(0, total_seconds - max(before, default=0))


def top_up(net: float, target: float) -> float:
    """What to write so that a key's net 学时 reaches `target`: 0 when it is already there
    (rounded to a hundredth, so float sums never write a 0.0000001 row)."""
    change = round(target - net, 2)
    return 0.0 if abs(change) < 0.005 else change


# ---------------------------------------------------------------- the yearly requirement


def requirement_for(
    requirements: Iterable[Mapping[str, Any]], year: int, role: str, unit_kind: str
) -> Mapping[str, Any] | None:
    """The requirement that applies to a person: rows with year, hours, role and unit_kind
    ("" means any). Of those of the year that match, the most specific wins: role and unit
    kind, then role, then unit kind, then the city-wide one."""
    best: tuple[int, Mapping[str, Any]] | None = None
    for row in requirements:
        if row["year"] != year:
            continue
        if row["role"] and row["role"] != role:
            continue
        if row["unit_kind"] and row["unit_kind"] != unit_kind:
            continue
        rank = (2 if row["role"] else 0) + (1 if row["unit_kind"] else 0)
        if best is None or rank > best[0]:
            best = (rank, row)
    return best[1] if best else None


@dataclass(frozen=True)
class Standing:
    """A cadre's 学时 of a year against the requirement, as the pages say it."""

    earned: float
    required: float | None

    @property
    def missing(self) -> float:
        if self.required is None:
            return 0.0
        return max(0.0, round(self.required - self.earned, 2))

    @property
    def percent(self) -> int:
        if not self.required:
            return 100 if self.required is not None else 0
        return min(100, int(100 * max(0.0, self.earned) / self.required))

    @property
    def met(self) -> bool:
        return self.required is not None and self.missing == 0


def hours_text(hours: float) -> str:
    """学时 as people write them: 12, 12.5, 0.25."""
    return f"{round(hours, 2):g}"
