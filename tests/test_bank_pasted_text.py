"""The pasted-text importer (pure): Word-style Chinese question lists and every error by line.

The sample paste is invented practice material about union training in general, written in
the styles trainers use; it quotes no official document.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.banks.model import BankFormatError, blank_count
from app.banks.pasted_text import parse_pasted_text

PASTE = """\
工会基础知识练习题（培训示例）
（考试时间：30分钟）

一、单项选择题（每题2分）
1. 工会会员代表大会的代表一般由（ B ）产生。
A. 上级指定  B. 会员选举  C. 行政任命  D. 自愿报名
解析：代表由会员民主选举产生，
体现了工会组织的民主原则。
出处：第二讲 第一节
2、基层工会委员会每届任期一般为（  ）。
A、一年
B、三年至五年
C、十年
D、不设任期
答案：B
二、多项选择题（每题3分）
3．下列属于工会会员权利的有（ＡＢＤ）。
A．选举权和被选举权 B．批评建议权 C．任命企业负责人 D．参加工会活动
4)【多选题】职工之家建设通常包括哪些方面？
A)阵地建设 B)制度建设 C)队伍建设
答案：A、B、C　解析：三方面缺一不可。
三、判断题
5. 工会小组是工会最基层的组织单元。（√）
6. 工会经费可以随意挪作他用。
答案：错
（7）工会会员可以自愿退会。
答案：正确
四、填空题
8. 工会的基本职责是维护职工的______。
答案：合法权益
9. 工会会员大会应当（定期）召开，听取（工会委员会）的工作报告。
10. 【填空题】职工代表大会是职工行使民主管理权力的______，工会委员会是其______。
答案：基本形式；工作机构/办事机构
解析：本题考查职代会的地位。
（1）职代会是基本形式；
（2）工会是工作机构。
出处：第三讲
五、简答题（每题10分）
11. 简述工会的基本职责。
"""


def messages(text: str) -> list[str]:
    return [problem.message for problem in parse_pasted_text(text).problems]


def test_word_style_paste_with_all_four_types() -> None:
    result = parse_pasted_text(PASTE)
    assert not result.problems
    assert result.ok
    questions = result.questions
    assert [q.key for q in questions] == [f"text-{n:03d}" for n in range(1, 11)]
    assert [q.type for q in questions] == [
        "single",
        "single",
        "multiple",
        "multiple",
        "true_false",
        "true_false",
        "true_false",
        "fill_blank",
        "fill_blank",
        "fill_blank",
    ]
    assert [q.line for q in questions] == [5, 10, 17, 19, 23, 24, 26, 29, 31, 32]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (39, "第 11 题：平台不支持的题型“简答题”")
    ]


def test_answers_in_stem_brackets_are_taken_and_emptied() -> None:
    q = parse_pasted_text(PASTE).questions
    assert q[0].stem == "工会会员代表大会的代表一般由（ ）产生。"
    assert q[0].options == ("上级指定", "会员选举", "行政任命", "自愿报名")
    assert q[0].answer == ("B",)
    assert q[1].stem == "基层工会委员会每届任期一般为（ ）。"
    assert q[1].answer == ("B",)
    assert q[2].stem == "下列属于工会会员权利的有（ ）。"  # full-width ＡＢＤ
    assert q[2].answer == ("A", "B", "D")
    assert q[4].stem == "工会小组是工会最基层的组织单元。（ ）"
    assert q[4].answer == ("对",)


def test_options_on_one_line_and_labels_on_one_line() -> None:
    q = parse_pasted_text(PASTE).questions
    assert q[2].options == ("选举权和被选举权", "批评建议权", "任命企业负责人", "参加工会活动")
    assert q[3].stem == "职工之家建设通常包括哪些方面？"
    assert q[3].options == ("阵地建设", "制度建设", "队伍建设")
    assert q[3].answer == ("A", "B", "C")
    assert q[3].explanation == "三方面缺一不可。"


def test_multi_line_explanation_and_source() -> None:
    q = parse_pasted_text(PASTE).questions
    assert q[0].explanation == "代表由会员民主选举产生，\n体现了工会组织的民主原则。"
    assert q[0].source_ref == "第二讲 第一节"
    # "（1）" inside a 解析 under questions numbered "10." continues the 解析.
    assert (
        q[9].explanation == "本题考查职代会的地位。\n（1）职代会是基本形式；\n（2）工会是工作机构。"
    )
    assert q[9].source_ref == "第三讲"


def test_true_false_answers() -> None:
    q = parse_pasted_text(PASTE).questions
    assert [(q[i].stem, q[i].answer) for i in (5, 6)] == [
        ("工会经费可以随意挪作他用。", ("错",)),
        ("工会会员可以自愿退会。", ("对",)),
    ]


def test_fill_in_the_blank() -> None:
    q = parse_pasted_text(PASTE).questions
    assert q[7].stem == "工会的基本职责是维护职工的___。"
    assert q[7].blanks == (("合法权益",),)
    assert q[8].stem == "工会会员大会应当___召开，听取___的工作报告。"
    assert q[8].blanks == (("定期",), ("工会委员会",))
    assert q[9].blanks == (("基本形式",), ("工作机构", "办事机构"))
    assert all(blank_count(x.stem) == len(x.blanks) for x in q[7:])
    assert all(x.answer == () and x.options == () for x in q[7:])


def test_section_heading_sets_the_type_and_marker_overrides_it() -> None:
    text = (
        "一、多项选择题\n1. 甲乙？\nA. 甲 B. 乙 C. 丙\n答案：AB\n"
        "2.【单选题】丙？\nA. 甲 B. 乙\n答案：B\n"
    )
    result = parse_pasted_text(text)
    assert [q.type for q in result.questions] == ["multiple", "single"]
    text = "三、判断题\n1. 工会是群众组织。\n答案：√\n2. 工会可以不经会员同意解散。\n答案：×\n"
    assert [q.answer for q in parse_pasted_text(text).questions] == [("对",), ("错",)]


def test_types_are_inferred_without_markers() -> None:
    text = (
        "1. 单？\nA. 甲\nB. 乙\n答案：A\n"
        "2. 多？\nA. 甲\nB. 乙\nC. 丙\n答案：BC\n"
        "3. 判断一句话。\n答案：错误\n"
        "4. 工会会员的义务包括遵守工会章程。（ √ ）\n"
        "5. 填写____。\n答案：甲\n"
    )
    result = parse_pasted_text(text)
    assert not result.problems
    assert [q.type for q in result.questions] == [
        "single",
        "multiple",
        "true_false",
        "true_false",
        "fill_blank",
    ]


def test_full_width_punctuation_and_numbering() -> None:
    text = "１．全角题号？\nＡ．甲\nＢ．乙\n答案：Ｂ\n（2）括号题号？\nA）甲 B）乙\n答案:a\n"
    result = parse_pasted_text(text)
    assert not result.problems
    assert [(q.stem, q.options, q.answer) for q in result.questions] == [
        ("全角题号？", ("甲", "乙"), ("B",)),
        ("括号题号？", ("甲", "乙"), ("A",)),
    ]


def test_a_stem_that_begins_with_a_number_right_after_the_question_number() -> None:
    # As pasted from a Word quiz on current affairs: "1．2023年……" with no space.
    text = (
        "一、单项选择题\n"
        "1．2023年10月9日至12日，中国工会第十八次全国代表大会在（ B ）召开。\n"
        "A．上海 B．北京 C．广州 D．深圳\n"
        "2.2024年是全面贯彻大会精神的（ A ）。\n"
        "A. 开局之年 B. 收官之年\n"
        "二、判断题\n"
        "1．10月是一年中的第十个月。（√）\n"
    )
    result = parse_pasted_text(text)
    assert not result.problems
    assert [(q.line, q.stem, q.answer) for q in result.questions] == [
        (2, "2023年10月9日至12日，中国工会第十八次全国代表大会在（ ）召开。", ("B",)),
        (4, "2024年是全面贯彻大会精神的（ ）。", ("A",)),
        (7, "10月是一年中的第十个月。（ ）", ("对",)),
    ]


def test_a_decimal_inside_a_stem_does_not_start_a_question() -> None:
    text = "1. 某单位职工人数增长了\n2.5倍，这一说法（ √ ）\n"
    (question,) = parse_pasted_text(text).questions
    assert question.stem == "某单位职工人数增长了\n2.5倍，这一说法（ ）"


def test_true_false_written_with_options() -> None:
    text = "【判断题】1. 工会是职工自愿结合的群众组织。\nA. 正确 B. 错误\n答案：A\n"
    (question,) = parse_pasted_text(text).questions
    assert question.type == "true_false" and question.answer == ("对",)
    assert question.options == ()


def test_scores_and_titles_are_ignored() -> None:
    text = "练习题\n说明：请选择\n1.（2分）工会？\nA.甲 B.乙\n答案：A\n"
    (question,) = parse_pasted_text(text).questions
    assert question.stem == "工会？"


# ----- errors, each with its line -----


def test_stem_without_answer_is_a_problem_not_dropped() -> None:
    text = "1. 甲？\nA. 甲\nB. 乙\n2. 乙？\nA. 甲\nB. 乙\n答案：A\n"
    result = parse_pasted_text(text)
    assert [p.message for p in result.problems] == [
        "第 1 行：第 1 题缺少答案（如“答案：B”或题干中的“（ B ）”）"
    ]
    assert not result.ok and len(result.questions) == 1


def test_answer_not_among_options() -> None:
    assert messages("1. 甲？\nA. 甲\nB. 乙\n答案：D\n") == ["第 4 行：第 1 题的答案 D 不在选项中"]


def test_options_out_of_order_and_too_few() -> None:
    assert messages("1. 甲？\nA. 甲\nC. 丙\n答案：A\n") == [
        "第 3 行：第 1 题选项顺序错误：此处应为 B，实为 C"
    ]
    assert messages("一、单项选择题\n1. 甲？\nA. 甲\n答案：A\n") == [
        "第 2 行：第 1 题选项太少：只有 1 个，至少需要 2 个"
    ]


def test_single_with_two_answers_and_multiple_with_one() -> None:
    text = (
        "一、单项选择题\n1. 甲？\nA. 甲 B. 乙\n答案：AB\n"
        "二、多项选择题\n2. 乙？\nA. 甲 B. 乙\n答案：A\n"
    )
    # 多选 with one answer is read (不定项选择题 may have one); the lint warns about it.
    assert messages(text) == ["第 4 行：第 1 题是单选题，但答案有 2 个（AB）"]


def test_choice_without_options_and_bad_letter_answer() -> None:
    assert messages("一、单项选择题\n1. 甲？\n答案：B\n") == [
        "第 2 行：第 1 题是选择题，但没有选项（如“A. ……”）"
    ]
    assert messages("1. 甲？\nA. 甲 B. 乙\n答案：对\n") == [
        "第 3 行：第 1 题的答案“对”不是选项字母（如 B 或 ABD）"
    ]


def test_bracket_and_answer_line_disagree() -> None:
    assert messages("1. 甲（ A ）？\nA. 甲 B. 乙\n答案：B\n") == [
        "第 3 行：第 1 题“答案：B”与题干括号中的 A 不一致"
    ]


def test_true_false_with_bad_answer() -> None:
    assert messages("三、判断题\n1. 甲。\n答案：也许\n") == [
        "第 3 行：第 1 题是判断题，答案应为 对/错（或 正确/错误、√/×），现为“也许”"
    ]


def test_fill_blank_errors() -> None:
    assert messages("四、填空题\n1. 没有空。\n答案：甲\n") == [
        "第 2 行：第 1 题是填空题，但题干中没有空（下划线“___”或括号“（ ）”）"
    ]
    assert messages("四、填空题\n1. ___和___。\n答案：甲\n") == [
        "第 3 行：第 1 题有 2 个空，但给出了 1 个答案"
    ]
    assert messages("四、填空题\n1. 空___。\nA. 甲 B. 乙\n答案：甲\n") == [
        "第 3 行：第 1 题是填空题，不应有选项"
    ]


def test_type_cannot_be_inferred() -> None:
    assert messages("1. 甲？\n答案：B\n") == [
        "第 2 行：第 1 题无法判断题型：没有选项，答案“B”也不是对/错；"
        "请加题型标记（如【单选题】）或小标题（如“一、单项选择题”）"
    ]


def test_stray_lines_are_reported() -> None:
    text = "甲？\nA. 甲\nB. 乙\n答案：A\n1. 乙？\nA. 甲 B. 乙\n答案：B\n丙？\nA. 丙\n"
    assert messages(text) == [
        "第 2 行：选项前没有题目（题干需以题号开头，如“1.”）",
        "第 3 行：选项前没有题目（题干需以题号开头，如“1.”）",
        "第 4 行：“答案”前没有题目（题干需以题号开头，如“1.”）",
        "第 8 行：无法识别的内容“丙？”（不属于第 1 题的题干或选项）",
        "第 9 行：第 1 题的“答案”之后又出现选项（可能缺少题号）",
    ]


def test_options_after_explanation_reveal_a_missing_number() -> None:
    text = "1. 甲？\nA. 甲 B. 乙\n答案：A\n解析：因为甲。\n3. 乙？\nA. 甲 B. 乙\n答案：B\n"
    assert messages(text) == [
        "第 6 行：第 1 题的“解析”之后出现选项（可能缺少题号）",
        "第 7 行：第 1 题有重复的“答案”行（题号可能有误）",
    ]


def test_duplicate_labels() -> None:
    text = "1. 甲？\nA. 甲 B. 乙\n答案：A\n答案：B\n出处：第一讲\n出处：第二讲\n"
    assert messages(text) == [
        "第 4 行：第 1 题有重复的“答案”行（题号可能有误）",
        "第 6 行：第 1 题有重复的“出处”",
    ]


def test_nothing_found_is_a_problem() -> None:
    result = parse_pasted_text("这里只有一段说明文字。\n")
    assert not result.ok
    assert [p.line for p in result.problems] == [None]


PIECES = st.sampled_from(
    [
        "",
        "一、单项选择题",
        "二、多项选择题（每题2分）",
        "三、判断题",
        "四、填空题",
        "五、简答题",
        "【单选题】",
        "1. 工会（ B ）？",
        "2、甲___乙___",
        "（3）丙（√）",
        "4．（甲）和（乙）",
        "A.甲 B.乙 C.丙",
        "A、甲",
        "Ｂ．乙",
        "答案：B",
        "答案：ABD",
        "答案：对",
        "答案：甲；乙",
        "答案：",
        "解析：",
        "（1）要点",
        "出处：第一讲",
        "（ ）（ ）",
        "______",
        "\x00",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=30).map("\n".join))
def test_arbitrary_text_never_raises(text: str) -> None:
    try:
        result = parse_pasted_text(text)
    except BankFormatError:
        return
    for question in result.questions:
        if question.type == "fill_blank":
            assert blank_count(question.stem) == len(question.blanks) > 0
            assert all(question.blanks)
        elif question.type == "true_false":
            assert question.answer in (("对",), ("错",))
        else:
            assert question.answer and set(question.answer) <= set(
                "ABCDEFGH"[: len(question.options)]
            )
    for problem in result.problems:
        assert problem.line is None or problem.message.startswith(f"第 {problem.line} 行：")
