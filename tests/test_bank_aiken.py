"""The Aiken importer (pure): good files, full-width variants and every error with its line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.banks.aiken import parse_aiken
from app.banks.model import BankFormatError

GOOD = """\
工会会员大会的职权一般不包括下列哪一项？
A. 选举工会委员会
B. 审议工会工作报告
C. 任命企业经理
ANSWER: C

基层工会开展活动，
应当坚持什么原则？
A) 依法依规
B) 随意安排
ANSWER: A

职工之家建设的重点是？
Ａ．阵地建设
Ｂ．娱乐消费
答案：Ａ
"""


def messages(text: str) -> list[str]:
    return [problem.message for problem in parse_aiken(text).problems]


def test_good_file_imports_every_question() -> None:
    result = parse_aiken(GOOD)
    assert result.ok and not result.skipped
    assert [q.key for q in result.questions] == ["aiken-001", "aiken-002", "aiken-003"]
    first, second, third = result.questions
    assert first.type == "single"
    assert first.stem == "工会会员大会的职权一般不包括下列哪一项？"
    assert first.options == ("选举工会委员会", "审议工会工作报告", "任命企业经理")
    assert first.answer == ("C",)
    assert first.line == 1
    assert second.stem == "基层工会开展活动，\n应当坚持什么原则？"
    assert second.answer == ("A",) and second.line == 7
    assert third.options == ("阵地建设", "娱乐消费") and third.answer == ("A",)


def test_crlf_bom_and_extra_blank_lines() -> None:
    text = "\ufeff\r\n\r\n" + GOOD.replace("\n", "\r\n") + "\r\n\r\n"
    result = parse_aiken(text)
    assert result.ok and len(result.questions) == 3
    assert result.questions[0].line == 3


# As trainers write Aiken in Word: blank lines around the options, "A、" and "答案：".
WORD_STYLE = """\
工会会员大会的职权一般不包括下列哪一项？

A、选举工会委员会
B、审议工会工作报告

C、任命企业经理
答案：C

基层工会开展活动应当坚持什么原则？

A．依法依规
B．随意安排
正确答案：A
"""


def test_blank_lines_between_the_stem_and_its_options_and_chinese_marks() -> None:
    result = parse_aiken(WORD_STYLE)
    assert not result.problems
    assert [(q.line, q.stem, q.options, q.answer) for q in result.questions] == [
        (
            1,
            "工会会员大会的职权一般不包括下列哪一项？",
            ("选举工会委员会", "审议工会工作报告", "任命企业经理"),
            ("C",),
        ),
        (9, "基层工会开展活动应当坚持什么原则？", ("依法依规", "随意安排"), ("A",)),
    ]


def test_options_and_answers_it_cannot_read_are_named_with_the_change() -> None:
    text = "题一？\nA：甲\nB：乙\n答案 B\n"
    assert messages(text) == [
        "第 2 行：选项“A：甲”的写法无法识别，请写成“A. 甲”或“A、甲”",
        "第 3 行：选项“B：乙”的写法无法识别，请写成“B. 乙”或“B、乙”",
        "第 4 行：答案行“答案 B”的写法无法识别，请写成“ANSWER: B”或“答案：B”",
    ]
    assert messages("题一？\nA. 甲\nB. 乙\nC：丙\nANSWER: A\n") == [
        "第 4 行：选项“C：丙”的写法无法识别，请写成“C. 丙”或“C、丙”"
    ]


def test_option_without_question() -> None:
    assert messages("A. 甲\nB. 乙\nANSWER: A\n") == ["第 1 行：选项 A 前没有题目文字"]


def test_missing_answer_before_blank_line_and_before_next_question() -> None:
    text = "题一？\nA. 甲\nB. 乙\n\n题二？\nA. 甲\nB. 乙\n题三？\nA. 甲\nB. 乙\nANSWER: B\n"
    result = parse_aiken(text)
    assert [p.message for p in result.problems] == [
        "第 1 行：题目缺少 ANSWER 行（例如 ANSWER: B）",
        "第 5 行：题目缺少 ANSWER 行（例如 ANSWER: B）",
    ]
    assert [q.stem for q in result.questions] == ["题三？"]


def test_missing_answer_at_end_of_file() -> None:
    assert messages("题一？\nA. 甲\nB. 乙") == ["第 1 行：题目缺少 ANSWER 行（例如 ANSWER: B）"]


def test_answer_letter_not_among_options() -> None:
    assert messages("题一？\nA. 甲\nB. 乙\nANSWER: D\n") == [
        "第 4 行：答案 D 不在选项中（现有选项：A、B）"
    ]


def test_more_than_one_answer_letter() -> None:
    assert messages("题一？\nA. 甲\nB. 乙\nANSWER: AB\n") == [
        "第 4 行：答案“AB”不是单个字母；Aiken 只支持单选题"
    ]


def test_too_few_options() -> None:
    assert messages("题一？\nA. 甲\nANSWER: A\n") == ["第 1 行：选项太少：只有 1 个，至少需要 2 个"]


def test_options_out_of_order() -> None:
    assert messages("题一？\nA. 甲\nC. 丙\nB. 乙\nANSWER: A\n") == [
        "第 3 行：选项顺序错误：此处应为 B，实为 C",
        "第 4 行：选项顺序错误：此处应为 C，实为 B",
    ]


def test_answer_without_question_and_empty_answer() -> None:
    assert messages("ANSWER: A\n\n题一？\nA. 甲\nB. 乙\nANSWER:\n") == [
        "第 1 行：ANSWER 行前没有题目",
        "第 6 行：ANSWER 行没有给出答案字母",
    ]


def test_empty_file_is_a_problem() -> None:
    result = parse_aiken("\n\n")
    assert not result.ok
    assert [p.message for p in result.problems] == ["文件中没有找到任何题目"]


def test_errors_keep_other_questions_and_list_all_problems() -> None:
    text = GOOD + "\n坏题？\nA. 甲\nB. 乙\nANSWER: E\n"
    result = parse_aiken(text)
    assert len(result.questions) == 3 and not result.ok
    assert [p.line for p in result.problems] == [21]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(
                ["", "A. 甲", "Ａ．乙", "B) 丙", "ANSWER: A", "答案：Ｂ", "ANSWER:", "题？"]
            ),
        ),
        max_size=25,
    ).map("\n".join)
)
def test_arbitrary_text_never_raises(text: str) -> None:
    try:
        result = parse_aiken(text)
    except BankFormatError:
        return
    for question in result.questions:
        assert question.type == "single"
        assert len(question.answer) == 1 and len(question.options) >= 2
    assert all(
        problem.message.startswith("第") or problem.line is None for problem in result.problems
    )
