"""The 学时 rules, pure: reading time converted, a completed training's 学时 by mode, the
year of a credit, the requirement that applies, and the standing against it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.settings import SettingsError, load_settings
from app.trainings.credit_rules import (
    CreditRules,
    Standing,
    reading_hours,
    reading_year_seconds,
    requirement_for,
    top_up,
    training_hours,
    year_of,
)

DEFAULT = CreditRules()


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [
        (0, 0),
        (14, 0),
        (15, 0.5),
        (29, 0.5),
        (30, 1),
        (44, 1),
        (45, 1.5),
        (60, 2),
        (95, 3),
        (105, 3.5),
    ],
)
def test_reading_every_30_minutes_is_one_hour_and_15_left_over_a_half(minutes, hours):
    assert reading_hours(minutes * 60, DEFAULT) == hours
    assert reading_hours(minutes * 60 + 59, DEFAULT) == hours  # seconds short of a minute


def test_reading_thresholds_follow_the_rules():
    rules = CreditRules(reading_unit_minutes=45, reading_half_minutes=20)
    assert [reading_hours(m * 60, rules) for m in (19, 20, 44, 45, 65)] == [0, 0.5, 0.5, 1, 1.5]
    assert reading_hours(-5, DEFAULT) == 0
    with pytest.raises(ValueError):
        CreditRules(reading_unit_minutes=30, reading_half_minutes=31)
    with pytest.raises(ValueError):
        CreditRules(training_mode="twice")


def test_a_years_reading_starts_where_earlier_years_were_credited():
    assert reading_year_seconds(3000, [], 2026) == 3000
    # 2025 credited at 1,900 s; this year's time is what came after.
    assert reading_year_seconds(3000, [(2025, 1000), (2025, 1900), (2026, 2500)], 2026) == 1100
    assert reading_year_seconds(1000, [(2025, 1900)], 2026) == 0


def test_a_completion_tops_up_none_or_full():
    assert training_hours(8, 3, DEFAULT) == 5
    assert training_hours(8, 10, DEFAULT) == 0  # never below 0
    assert training_hours(8, 3, CreditRules(training_mode="none")) == 0
    assert training_hours(8, 3, CreditRules(training_mode="full")) == 8


def test_the_difference_to_write_ignores_float_dust():
    assert top_up(0.1 + 0.2, 0.3) == 0
    assert top_up(3.0, 0.0) == -3.0
    assert top_up(0.5, 1.5) == 1.0


def test_the_year_is_the_year_in_beijing_time():
    beijing = ZoneInfo("Asia/Shanghai")
    assert year_of(datetime(2025, 12, 31, 16, 30, tzinfo=UTC), beijing) == 2026
    assert year_of(datetime(2025, 12, 31, 15, 59, tzinfo=UTC), beijing) == 2025


ROWS = [
    {"id": 1, "year": 2026, "hours": 50, "role": "", "unit_kind": ""},
    {"id": 2, "year": 2026, "hours": 40, "role": "", "unit_kind": "grassroots_union"},
    {"id": 3, "year": 2026, "hours": 60, "role": "unit_admin", "unit_kind": ""},
    {"id": 4, "year": 2026, "hours": 70, "role": "unit_admin", "unit_kind": "county_federation"},
    {"id": 5, "year": 2025, "hours": 30, "role": "", "unit_kind": ""},
]


@pytest.mark.parametrize(
    ("year", "role", "kind", "expected"),
    [
        (2026, "cadre", "county_federation", 1),  # city-wide
        (2026, "cadre", "grassroots_union", 2),  # unit kind beats city-wide
        (2026, "unit_admin", "grassroots_union", 3),  # role beats unit kind
        (2026, "unit_admin", "county_federation", 4),  # both beat either
        (2025, "unit_admin", "county_federation", 5),  # another year's own
        (2024, "cadre", "grassroots_union", None),
    ],
)
def test_the_most_specific_requirement_wins(year, role, kind, expected):
    found = requirement_for(ROWS, year, role, kind)
    assert (found["id"] if found else None) == expected


def test_standing_against_the_requirement():
    short = Standing(earned=12.5, required=50)
    assert (short.missing, short.percent, short.met) == (37.5, 25, False)
    done = Standing(earned=52, required=50)
    assert (done.missing, done.percent, done.met) == (0, 100, True)
    unset = Standing(earned=3, required=None)
    assert (unset.missing, unset.met) == (0, False)


def test_the_rules_come_from_the_environment():
    settings = load_settings({})
    assert (
        settings.credit_reading_minutes,
        settings.credit_reading_half_minutes,
        settings.credit_quiz_hours,
        settings.credit_training_mode,
    ) == (30, 15, 0.5, "top_up")
    changed = load_settings(
        {
            "PEIXUN_CREDIT_READING_MINUTES": "45",
            "PEIXUN_CREDIT_READING_HALF_MINUTES": "20",
            "PEIXUN_CREDIT_QUIZ_HOURS": "1",
            "PEIXUN_CREDIT_TRAINING": "none",
        }
    )
    assert (changed.credit_reading_minutes, changed.credit_quiz_hours) == (45, 1.0)
    assert changed.credit_training_mode == "none"
    with pytest.raises(SettingsError, match="PEIXUN_CREDIT_TRAINING"):
        load_settings({"PEIXUN_CREDIT_TRAINING": "double"})
    with pytest.raises(SettingsError, match="不能大于"):
        load_settings({"PEIXUN_CREDIT_READING_HALF_MINUTES": "40"})
