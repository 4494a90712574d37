"""The 补考/延期 rule and the checking of a grant and of an uploaded list (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.lib.sheets import SourceRow
from app.quizzes.allowance import Override, allowance, override_of
from app.quizzes.override_check import Cadre, check_grant, check_override_rows, parse_moment

BEIJING = ZoneInfo("Asia/Shanghai")
CLOSES = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # 18:00 in Beijing
QUIZ = {"max_attempts": 2, "time_limit_minutes": 20, "opens_at": None, "closes_at": CLOSES}


def test_without_an_override_the_quiz_decides():
    allowed = allowance(QUIZ)
    assert (allowed.max_attempts, allowed.time_limit_minutes, allowed.closes_at) == (2, 20, CLOSES)
    assert not allowed.extended
    assert allowed.attempts_left(1) == 1 and allowed.may_start(1) and not allowed.may_start(2)
    start = CLOSES - timedelta(hours=1)
    assert allowed.deadline(start) == start + timedelta(minutes=20)
    # The deadline never passes the closing; an untimed attempt ends when the quiz closes.
    assert allowed.deadline(CLOSES - timedelta(minutes=5)) == CLOSES
    assert allowance({**QUIZ, "time_limit_minutes": 0}).deadline(start) == CLOSES
    assert allowance({**QUIZ, "closes_at": None, "time_limit_minutes": 0}).deadline(start) is None


def test_extra_attempts_add_to_the_quiz_and_unlimited_stays_unlimited():
    allowed = allowance(QUIZ, Override(extra_attempts=1))
    assert allowed.max_attempts == 3 and allowed.extra_attempts == 1 and allowed.extended
    assert allowed.may_start(2) and not allowed.may_start(3)
    assert allowed.attempts_left(2) == 1
    unlimited = allowance({**QUIZ, "max_attempts": 0}, Override(extra_attempts=2))
    assert unlimited.max_attempts == 0 and unlimited.attempts_left(10) is None
    assert unlimited.may_start(99) and unlimited.extra_attempts == 0


def test_extra_minutes_lengthen_a_timed_quiz_only():
    start = CLOSES - timedelta(hours=2)
    allowed = allowance(QUIZ, Override(extra_minutes=15))
    assert allowed.time_limit_minutes == 35
    assert allowed.deadline(start) == start + timedelta(minutes=35)
    untimed = allowance({**QUIZ, "time_limit_minutes": 0}, Override(extra_minutes=15))
    assert untimed.time_limit_minutes == 0 and untimed.deadline(start) == CLOSES


def test_a_later_closing_date_reopens_the_quiz_an_earlier_one_changes_nothing():
    later = CLOSES + timedelta(days=5)
    allowed = allowance(QUIZ, Override(closes_at=later))
    after_close = CLOSES + timedelta(days=1)
    assert not allowance(QUIZ).is_open(after_close)
    assert allowed.is_open(after_close) and allowed.later_close and allowed.closes_at == later
    # Started just before the override's closing: the time limit is cut at it.
    assert allowed.deadline(later - timedelta(minutes=5)) == later
    assert allowed.deadline(after_close) == after_close + timedelta(minutes=20)
    earlier = allowance(QUIZ, Override(closes_at=CLOSES - timedelta(days=1)))
    assert earlier.closes_at == CLOSES and not earlier.extended
    never_closes = allowance({**QUIZ, "closes_at": None}, Override(closes_at=later))
    assert never_closes.closes_at is None and not never_closes.later_close
    opens = CLOSES - timedelta(days=3)
    assert not allowance({**QUIZ, "opens_at": opens}, Override(closes_at=later)).is_open(
        opens - timedelta(minutes=1)
    )


def test_a_revoked_override_is_no_override():
    row = {"extra_attempts": 1, "extra_minutes": 0, "closes_at": None, "revoked_at": None}
    assert override_of(row) == Override(1, 0, None)
    assert override_of({**row, "revoked_at": CLOSES}) is None
    assert override_of(None) is None


def test_closing_times_are_read_in_beijing_time():
    assert parse_moment("2026-12-20 18:00", BEIJING) == datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
    assert parse_moment("2026/12/20 18:00:00", BEIJING) == datetime(2026, 12, 20, 10, tzinfo=UTC)
    assert parse_moment("2026-12-20T18:00", BEIJING) == datetime(2026, 12, 20, 10, tzinfo=UTC)
    # A date alone: the end of that day.
    assert parse_moment("２０２６-12-20", BEIJING) == datetime(2026, 12, 20, 15, 59, tzinfo=UTC)
    assert parse_moment("", BEIJING) is None
    for wrong in ("明天", "2026-13-01", "1999-12-20"):
        try:
            parse_moment(wrong, BEIJING)
        except ValueError:
            continue
        raise AssertionError(wrong)


def test_a_grant_is_checked_field_by_field():
    grant, errors = check_grant(
        {"extra_attempts": "1", "closes_at": "2026-12-20 18:00", "reason": " 因公出差补考 "},
        QUIZ,
        BEIJING,
    )
    assert errors == {}
    assert grant.extra_attempts == 1 and grant.reason == "因公出差补考"
    assert grant.closes_at == datetime(2026, 12, 20, 10, tzinfo=UTC)

    _, errors = check_grant(
        {"extra_attempts": "-1", "extra_minutes": "1.5", "closes_at": "2026-12-09 18:00"},
        QUIZ,
        BEIJING,
    )
    assert set(errors) == {"extra_attempts", "extra_minutes", "closes_at", "reason"}
    assert "2026-12-10 18:00" in errors["closes_at"] and "原因" in errors["reason"]

    _, errors = check_grant({"reason": "因病"}, QUIZ, BEIJING)
    assert "至少填写" in errors["extra_attempts"]
    unlimited = {**QUIZ, "max_attempts": 0, "time_limit_minutes": 0, "closes_at": None}
    _, errors = check_grant(
        {"extra_attempts": "1", "extra_minutes": "5", "closes_at": "2026-12-20", "reason": "x"},
        unlimited,
        BEIJING,
    )
    assert "次数不限" in errors["extra_attempts"] and "不限时" in errors["extra_minutes"]
    assert "没有结束时间" in errors["closes_at"]


def _row(n: int, **values: str) -> SourceRow:
    columns = ("姓名", "手机号", "工号", "增加次数", "延长分钟", "截止时间", "原因")
    return SourceRow(n, {column: values.get(column, "") for column in columns})


CADRES = [
    Cadre(1, "孙学员", "13800000001", "", "cadre", True, "解放区人民医院工会", "/1/2/3/"),
    Cadre(2, "周学员", "13800000002", "A-7", "cadre", True, "中站区第一中学工会", "/1/4/5/"),
    Cadre(3, "吴停用", "13800000003", "", "cadre", False, "解放区人民医院工会", "/1/2/3/"),
    Cadre(4, "李培训", "13800000004", "", "trainer", True, "焦作市总工会", "/1/"),
]


def test_a_list_names_every_bad_row_and_column_once():
    rows = [
        _row(2, 姓名="孙学员", 手机号="138 0000 0001", 增加次数="1", 原因="因公出差"),
        _row(3, 姓名="周学员", 工号="A-7", 截止时间="2026-12-20 18:00", 原因="因病"),
        _row(4, 姓名="孙学员", 手机号="13800000001", 增加次数="1", 原因="重复"),
        _row(5, 姓名="王五", 手机号="13900000000", 增加次数="x", 原因=""),
        _row(6, 姓名="吴停用", 手机号="13800000003", 延长分钟="10", 原因="因公"),
        _row(7, 姓名="李培训", 手机号="13800000004", 增加次数="1", 原因="因公"),
        _row(8, 姓名="周学员", 手机号="13800000002", 截止时间="2026-12-01", 原因="因公"),
    ]
    plan = check_override_rows(rows, CADRES, scope="/1/", quiz=QUIZ, timezone=BEIJING)
    assert [d.row for d in plan.drafts] == [2, 3] and not plan.ok
    messages = [p.message for p in plan.problems]
    assert messages[0].startswith("第 4 行“手机号”") and "与第 2 行是同一人" in messages[0]
    assert [(p.row, p.column) for p in plan.problems] == [
        (4, "手机号"),
        (5, "手机号"),
        (5, "增加次数"),
        (5, "原因"),
        (6, "手机号"),
        (7, "手机号"),
        (8, "手机号"),
        (8, "截止时间"),
    ]
    assert "没有找到手机号 13900000000 的人员“王五”" in messages[1]
    assert "已停用" in messages[4] and "不是学员账号" in messages[5]
    assert all(m.startswith(f"第 {p.row} 行") for m, p in zip(messages, plan.problems, strict=True))


def test_a_list_is_limited_to_the_scope_and_to_real_names():
    rows = [
        _row(2, 姓名="周学员", 手机号="13800000002", 增加次数="1", 原因="因公"),
        _row(3, 姓名="张冒名", 手机号="13800000001", 增加次数="1", 原因="因公"),
    ]
    plan = check_override_rows(rows, CADRES, scope="/1/2/", quiz=QUIZ, timezone=BEIJING)
    assert not plan.drafts
    assert "不在您的管理范围内" in plan.problems[0].message
    assert "与手机号 13800000001 的账号“孙学员”不符" in plan.problems[1].message
    assert plan.problems[1].column == "姓名"
    empty = check_override_rows([], CADRES, scope="/", quiz=QUIZ, timezone=BEIJING)
    assert empty.problems[0].message == "文件中没有数据行。"
