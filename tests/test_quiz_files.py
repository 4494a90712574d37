"""Quiz definition files: parsing, problems with their lines, and round trips."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.quizzes.core import COUNTED_POLICIES, REVIEW_POLICIES, DrawRule
from app.quizzes.files import QuizFileError, QuizSpec, parse_quiz_file, render_quiz_file

EXAMPLE = """\
slug: xuexi-daodu-quiz        # lowercase letters, digits, -
title: 学习导读 单元测验
module: xuexi-daodu
time_limit_minutes: 20
pass_mark: 80
full_marks: 100
max_attempts: 3
counted_attempt: highest
review: answers
shuffle_questions: true
shuffle_options: false
partial_credit: true
opens_at: 2023-12-01 08:00
closes_at: 2023-12-31 18:00
rules:
  - type: 单选
    count: 5
    points: 4
    banks: [xuexi-daodu]
    source_refs: [导语, 一]
  - type: fill_blank
    count: 2
    points: 2.5
"""


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(QuizFileError) as error:
        parse_quiz_file(text, "quizzes/test.yaml")
    assert "quizzes/test.yaml" in str(error.value)
    return error.value.problems


def test_example_parses():
    assert parse_quiz_file(EXAMPLE) == QuizSpec(
        slug="xuexi-daodu-quiz",
        title="学习导读 单元测验",
        module="xuexi-daodu",
        time_limit_minutes=20,
        pass_mark=80,
        full_marks=100,
        max_attempts=3,
        counted_attempt="highest",
        review="answers",
        shuffle_questions=True,
        shuffle_options=False,
        partial_credit=True,
        opens_at=datetime(2023, 12, 1, 8, 0),
        closes_at=datetime(2023, 12, 31, 18, 0),
        rules=(
            DrawRule("single", 5, 4, banks=("xuexi-daodu",), source_refs=("导语", "一")),
            DrawRule("fill_blank", 2, 2.5),
        ),
    )


def test_defaults_and_names():
    text = """\
slug: q1
title: 2023
pass_mark: 60
review: 只显示成绩
counted_attempt: 最后一次
opens_at: "2023-12-01 08:00:30"
rules:
  - {type: 判断题, count: 1, points: 1, source_refs: 二（一）}
  - {type: multiple, count: 2, points: 3, banks: ~}
"""
    spec = parse_quiz_file(text)
    assert spec.title == "2023" and spec.review == "score_only"
    assert spec.counted_attempt == "latest"
    assert spec.opens_at == datetime(2023, 12, 1, 8, 0, 30) and spec.closes_at is None
    assert (spec.time_limit_minutes, spec.max_attempts, spec.full_marks) == (0, 0, 100)
    assert spec.shuffle_questions and spec.shuffle_options and not spec.partial_credit
    assert spec.module == ""
    assert spec.rules == (
        DrawRule("true_false", 1, 1, source_refs=("二（一）",)),
        DrawRule("multiple", 2, 3),
    )


def test_every_problem_is_listed_with_its_line():
    text = """\
slug: Bad_Slug
title: 测验
colour: red
time_limit_minutes: -5
pass_mark: 120
full_marks: 100
max_attempts: 1.5
counted_attempt: average
review: always
shuffle_options: maybe
opens_at: 2023-12-31 18:00
closes_at: 2023-12-01 08:00
rules:
  - type: 问答
    count: 0
    points: -1
    colour: blue
  - count: 2
  - just text
"""
    assert problems_of(text) == (
        "第 1 行：slug（测验标识）“Bad_Slug”只能由小写字母、数字和“-”组成。",
        "第 3 行：不认识的键“colour”，可用的键：slug、title、module、time_limit_minutes、"
        "pass_mark、full_marks、max_attempts、counted_attempt、review、shuffle_questions、"
        "shuffle_options、partial_credit、opens_at、closes_at、rules。",
        "第 4 行：time_limit_minutes（限时分钟数）应不小于 0。",
        "第 7 行：max_attempts（最多作答次数）应为整数。",
        "第 8 行：counted_attempt（计分方式）“average”不存在，可用：highest（最高分）、"
        "latest（最后一次）、first（第一次）。",
        "第 9 行：review（交卷后显示）“always”不存在，可用：score_only（只显示成绩）、"
        "answers（交卷后显示答案和解析）、after_close（测验关闭后显示答案）。",
        "第 10 行：shuffle_options（打乱选项顺序）应为 true 或 false。",
        "第 14 行：规则 1 的type（题型）“问答”不存在，可用：单选、多选、判断、填空。",
        "第 15 行：规则 1 的count（题数）应不小于 1。",
        "第 16 行：规则 1 的points（每题分值）应大于 0。",
        "第 17 行：规则 1 中不认识的键“colour”，"
        "可用的键：type、count、points、banks、source_refs。",
        "第 18 行：规则 2 缺少 type（题型）、points（每题分值）。",
        "第 19 行：规则 3 应为“键: 值”的形式。",
        "第 5 行：及格分不能高于满分（100）。",
        "第 12 行：结束时间应晚于开始时间。",
    )


def test_missing_and_repeated_keys():
    problems = problems_of("module: xuexi-daodu\nmodule: gonghui\nrules: []\n")
    assert problems == (
        "第 2 行：module 重复出现（第 1 行已有）。",
        "第 3 行：rules（抽题规则）应列出至少一条规则（每条以“- type:”开头）。",
        "缺少 slug（测验标识）。",
        "缺少 title（标题）。",
        "缺少 pass_mark（及格分）。",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "文件是空的。"),
        ("# 只有注释\n", "文件是空的。"),
        ("- a\n- b\n", "第 1 行：测验文件应为“键: 值”的形式。"),
        ("slug: a\ntitle: [未闭合\n", "第 3 行：不是有效的 YAML，请检查缩进、冒号、引号和括号。"),
        ("slug: a\n  title: b: c\n", "第 2 行：不是有效的 YAML，请检查缩进、冒号、引号和括号。"),
        ("slug: a\ntitle: \x00\n", "第 2 行：含有不能使用的字符（U+0000）。"),
        ("x" * 100_001, "文件太大（超过 100000 字符）。"),
    ],
)
def test_unreadable_files(text, expected):
    assert problems_of(text) == (expected,)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "opens_at: 2023-02-30 08:00",
            "第 5 行：opens_at（开始时间）“2023-02-30 08:00”不是有效的时间",
        ),
        ("opens_at: 2023-12-01", "不是有效的时间，应写成“2023-12-31 18:00”。"),
        ("opens_at: 2023-12-01T08:00:00+08:00", "不是有效的时间"),
        (
            "module: |\n  两行\n  标题",
            "第 5 行：module（所属课程模块）应为一行文字，不能换行或含制表符等控制字符。",
        ),
        ("full_marks: 0", "第 5 行：full_marks（满分）应大于 0。"),
        ("full_marks: .inf", "第 5 行：full_marks（满分）应为数字。"),
        ("max_attempts: 1" + "0" * 20, "第 5 行：max_attempts（最多作答次数）太大。"),
        ("max_attempts: '3'", "第 5 行：max_attempts（最多作答次数）应为数字。"),
        ("partial_credit: !!bool maybe", "应为 true 或 false。"),
        ("time_limit_minutes: !!int abc", "应为数字。"),
        ("module: [a, b]", "第 5 行：module（所属课程模块）应为一行文字。"),
    ],
)
def test_bad_values(line, expected):
    base = "slug: q\npass_mark: 60\nrules: [{type: 单选, count: 1, points: 1}]\ntitle: 测验\n"
    problems = problems_of(base + line + "\n")
    assert len(problems) == 1 and expected in problems[0], problems


def test_chinese_yes_no_and_single_bank():
    text = "slug: q\ntitle: 测验\npass_mark: 0\npartial_credit: 是\nshuffle_options: 否\n"
    spec = parse_quiz_file(text + "rules:\n  - {type: 多选题, count: 1, points: 2, banks: a-b}\n")
    assert spec.partial_credit and not spec.shuffle_options
    assert spec.rules == (DrawRule("multiple", 1, 2, banks=("a-b",)),)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_spec_or_quiz_file_error(text):
    try:
        parse_quiz_file(text)
    except QuizFileError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


KEYS = ["slug", "title", "module", "pass_mark", "full_marks", "review", "opens_at", "rules"]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["1", "-3", "0x1F", "1.5e3", "true", "~", "[a, 1]", "{a: 1}", "&x [*x]"]),
    st.sampled_from(
        ["2023-12-01 08:00", "2023-12-01 08:00:00", "2023-13-01 08:00:00", "!!float x"]
    ),
    st.sampled_from(["\n  - type: 单选\n    count: 1\n    points: 1", "\n  - [1]\n  - x"]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=10))
def test_yaml_like_text_gives_a_spec_or_quiz_file_error(pairs):
    text = "".join(f"{key}: {value}\n" for key, value in pairs)
    try:
        parse_quiz_file(text)
    except QuizFileError as error:
        assert error.problems


# ------------------------------------------------------------------------------ round trip

ONE_LINE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
).filter(lambda text: text == text.strip())
SLUG = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
POINTS = st.one_of(
    st.integers(1, 1000).map(float), st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False)
)
WHEN = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0)
)

rules = st.builds(
    DrawRule,
    type=st.sampled_from(["single", "multiple", "true_false", "fill_blank"]),
    count=st.integers(1, 50),
    points=POINTS,
    banks=st.lists(SLUG, max_size=3).map(tuple),
    source_refs=st.lists(ONE_LINE, max_size=3).map(tuple),
)


@st.composite
def specs(draw) -> QuizSpec:
    full_marks = draw(POINTS)
    opens = draw(st.one_of(st.none(), WHEN))
    closes = draw(st.one_of(st.none(), WHEN))
    if opens and closes and closes <= opens:
        opens = None
    return QuizSpec(
        slug=draw(SLUG),
        title=draw(ONE_LINE),
        pass_mark=draw(st.floats(0, full_marks)),
        rules=tuple(draw(st.lists(rules, min_size=1, max_size=4))),
        module=draw(st.one_of(st.just(""), SLUG)),
        time_limit_minutes=draw(st.integers(0, 600)),
        full_marks=full_marks,
        max_attempts=draw(st.integers(0, 20)),
        counted_attempt=draw(st.sampled_from(sorted(COUNTED_POLICIES))),
        review=draw(st.sampled_from(sorted(REVIEW_POLICIES))),
        shuffle_questions=draw(st.booleans()),
        shuffle_options=draw(st.booleans()),
        partial_credit=draw(st.booleans()),
        opens_at=opens,
        closes_at=closes,
    )


@settings(max_examples=300, deadline=None)
@given(specs())
def test_render_then_parse_gives_the_spec_back(spec):
    assert parse_quiz_file(render_quiz_file(spec)) == spec


def test_render_example():
    text = render_quiz_file(parse_quiz_file(EXAMPLE))
    assert text.startswith(
        "slug: xuexi-daodu-quiz\ntitle: 学习导读 单元测验\nmodule: xuexi-daodu\n"
    )
    assert "opens_at: 2023-12-01 08:00\n" in text and "pass_mark: 80\n" in text
    assert "  - type: 单选\n    count: 5\n    points: 4\n    banks: [xuexi-daodu]\n" in text
    assert "    source_refs: [导语, 一]\n" in text and "    points: 2.5\n" in text
