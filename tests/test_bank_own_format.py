"""The project's own question-bank format: parsing, errors with lines, and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.banks.model import LETTERS, Question, normalize_answer
from app.banks.own_format import BankHeader, parse_bank, render_bank
from app.course.files import parse_module
from tests.bank_strategies import CHINESE, KEY, question_strategy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "question_banks" / "README.md"

HEADER = "---\nslug: xuexi-daodu\ntitle: 学习导读\nmodule: xuexi-daodu\n---\n\n"
FIRST = 7  # the line of the first question after HEADER


def parse(body: str):
    return parse_bank(HEADER + body)


def messages(result) -> list[str]:
    return [problem.message for problem in result.problems]


# ------------------------------------------------------------------------- every type

SAMPLE = """## q-001 单选
题干：中国工会第十八次全国代表大会于哪一年召开？
A. 2022年
B、2023年
C．2024年
答案：B
解析：通知开头写明。
出处：导语
难度：1
标签：大会, 时间、届次

## q-002 多选
题干：可以通过举办哪些形式进行专题培训？
A. 专题学习会
B. 报告会
C. 运动会
D. 辅导讲座
答案：A、D、B
出处：三（二）

## q-003 判断
题干：各级工会学习宣传贯彻情况要及时报告市总工会。
答案：对
出处：结语

## q-004 填空
题干：要对工会工作者进行___、___。
答案：专题培训|专题学习；集中轮训
出处：三（二）
依据：分层分类、分期分批对工会工作者进行专题培训、集中轮训
"""


def test_every_type_parses():
    header, result = parse(SAMPLE)
    assert header == BankHeader("xuexi-daodu", "学习导读", "xuexi-daodu")
    assert result.ok, messages(result)
    single, multiple, true_false, fill = result.questions
    assert single == Question(
        key="q-001",
        type="single",
        stem="中国工会第十八次全国代表大会于哪一年召开？",
        options=("2022年", "2023年", "2024年"),
        answer=("B",),
        explanation="通知开头写明。",
        source_ref="导语",
        difficulty=1,
        tags=("大会", "时间", "届次"),
        line=FIRST,
    )
    assert multiple.type == "multiple" and multiple.answer == ("A", "B", "D")
    assert multiple.line == FIRST + 11
    assert true_false.type == "true_false" and true_false.answer == ("对",)
    assert true_false.options == ()
    assert fill.type == "fill_blank" and fill.answer == ()
    assert fill.blanks == (("专题培训", "专题学习"), ("集中轮训",))
    assert fill.evidence.startswith("分层分类")


def test_half_width_colons_full_width_letters_and_type_suffix():
    body = "## k1 单选题\n题干:问题\nＡ．甲\nＢ、乙\n答案: ｂ\n难度:２\n"
    _, result = parse(body)
    assert result.ok, messages(result)
    (question,) = result.questions
    assert question.options == ("甲", "乙")
    assert question.answer == ("B",)
    assert question.difficulty == 2


def test_multi_line_values_and_blank_lines():
    body = (
        "## k1 判断\n"
        "题干：\n"
        "  第一段\n"
        "  第一段续\n"
        "\n"
        "\u3000第二段\n"
        "答案：错\n"
        "解析：甲\n"
        "\t乙\n"
        "\n"
        "\n"
        "## k2 单选\n"
        "题干：问\n"
        "A. 选项\n"
        "   第二行\n"
        "B. 乙\n"
        "答案：A\n"
    )
    _, result = parse(body)
    assert result.ok, messages(result)
    first, second = result.questions
    assert first.stem == "第一段\n第一段续\n\n第二段"
    assert first.explanation == "甲\n乙"
    assert second.options == ("选项\n第二行", "乙")
    assert second.line == FIRST + 11


def test_escapes_keep_whitespace_and_backslashes():
    body = "## k1 判断\n题干：\\  前导空格\n  \\\n  行尾空格 \\\n答案：对\n解析：C:\\\\\n"
    _, result = parse(body)
    assert result.ok, messages(result)
    (question,) = result.questions
    assert question.stem == "  前导空格\n\n行尾空格 "
    assert question.explanation == "C:\\"


def test_bom_and_windows_line_endings():
    text = "\ufeff" + (HEADER + SAMPLE).replace("\n", "\r\n")
    _, result = parse_bank(text)
    assert result.ok, messages(result)
    assert len(result.questions) == 4
    assert result.questions[0].stem == "中国工会第十八次全国代表大会于哪一年召开？"


# ---------------------------------------------------------------------------- errors

OK_SINGLE = "题干：问\nA. 甲\nB. 乙\n答案：A\n"

ERRORS = [
    # (body, line, what the message says)
    ("## k1 简答\n题干：问\n答案：甲\n", FIRST, "未知题型“简答”"),
    ("## k1 单选\nA. 甲\nB. 乙\n答案：A\n", FIRST, "缺少题干"),
    ("## k1 单选\n题干：问\nA. 甲\nB. 乙\n", FIRST, "缺少答案"),
    ("## k1 判断\n题干：问\n答案：\n", FIRST + 2, "缺少答案"),
    ("## k1 单选\n题干：问\nA. 甲\nB. 乙\n答案：C\n", FIRST + 4, "答案中的“C”不在选项中"),
    ("## k1 单选\n题干：问\nA. 甲\nB. 乙\n答案：AB\n", FIRST + 4, "单选题必须有且只有一个答案"),
    ("## k1 多选\n题干：问\nA. 甲\nB. 乙\n答案：AAB\n", FIRST + 4, "有重复的字母"),
    ("## k1 填空\n题干：甲___乙___\n答案：一\n", FIRST + 2, "题干中有 2 个空，答案却有 1 组"),
    ("## k1 填空\n题干：甲___\n答案：一；二\n", FIRST + 2, "题干中有 1 个空，答案却有 2 组"),
    ("## k1 填空\n题干：没有空\n答案：一\n", FIRST + 2, "题干中没有空"),
    ("## k1 填空\n题干：甲___\n答案：一|\n", FIRST + 2, "第 1 个空的答案中有空白项"),
    ("## k1 判断\n题干：问\n答案：正确\n", FIRST + 2, "判断题的答案应为“对”或“错”"),
    ("## k1 判断\n题干：问\nA. 对\nB. 错\n答案：对\n", FIRST + 2, "判断题不应有选项"),
    (f"## k1 单选\n{OK_SINGLE}\n## k1 单选\n{OK_SINGLE}", FIRST + 6, "题号“k1”重复（第 7 行"),
    (f"## k1 单选\n{OK_SINGLE}难度：4\n", FIRST + 5, "难度应为 1、2 或 3"),
    (f"## k1 单选\n{OK_SINGLE}难度：易\n", FIRST + 5, "难度应为 1、2 或 3"),
    (
        "## k1 单选\n题干：问\n"
        + "".join(f"{letter}. 项\n" for letter in LETTERS + "I")
        + "答案：A\n",
        FIRST + 10,
        "选项最多到 H",
    ),
    (
        "## k1 单选\n题干：问\nA. 甲\nC. 乙\n答案：A\n",
        FIRST + 3,
        "选项顺序有误：此处应为 B，实为 C",
    ),
    ("## k1 单选\n题干：问\nA. 甲\nB.\n答案：A\n", FIRST + 3, "选项 B 没有内容"),
    ("## k1 单选\n题干：问\nA. 甲\n答案：A\n", FIRST, "单选题至少要有两个选项"),
    (f"## k1 单选\n{OK_SINGLE}答按：A\n", FIRST + 5, "未知的字段“答按”"),
    (f"## k1 单选\n{OK_SINGLE}解析：甲\n解析：乙\n", FIRST + 6, "字段“解析”重复（第 12 行"),
    (f"## k1 单选\n{OK_SINGLE}这一行忘了缩进\n", FIRST + 5, "无法识别这一行"),
    ("## k1 单选\n  缩进\n" + OK_SINGLE, FIRST + 1, "缩进的续行前面没有可接续的字段"),
    ("## k1\n" + OK_SINGLE, FIRST, "题目标题应写成“## 题号 题型”"),
    ("## 第一题 单选\n" + OK_SINGLE, FIRST, "题号“第一题”只能由"),
    ("前言\n## k1 单选\n" + OK_SINGLE, FIRST, "题目之前不能有其他内容"),
]


@pytest.mark.parametrize(("body", "line", "fragment"), ERRORS)
def test_each_error_names_its_line(body, line, fragment):
    _, result = parse(body)
    assert not result.ok
    found = [p for p in result.problems if fragment in p.message]
    assert found, messages(result)
    assert found[0].line == line
    assert found[0].message.startswith(f"第 {line} 行：")
    assert found[0].message.endswith("。")


def test_the_example_message_of_the_brief():
    _, result = parse("## k1 单选\n题干：问\nA. 甲\nB. 乙\nC. 丙\n答案：AC\n")
    assert messages(result) == ["第 12 行：单选题必须有且只有一个答案，现在是“AC”。"]


def test_every_error_is_reported_and_bad_questions_are_left_out():
    body = (
        f"## good-1 单选\n{OK_SINGLE}\n"  # lines 7-11
        "## bad-1 多选\n题干：问\nA. 甲\nB. 乙\n答案：Z\n难度：9\n\n"  # 13-18
        "## bad-2 判断\n答案：也许\n标题：x\n\n"  # 20-22
        f"## good-2 单选\n{OK_SINGLE}"  # 24
    )
    _, result = parse(body)
    assert not result.ok
    assert [q.key for q in result.questions] == ["good-1", "good-2"]
    assert sorted(p.line for p in result.problems) == [17, 18, 20, 21, 22]
    assert all(p.message.startswith(f"第 {p.line} 行：") for p in result.problems)


def test_a_question_whose_only_problem_is_an_unknown_field_is_left_out():
    _, result = parse(f"## k1 单选\n{OK_SINGLE}备注：x\n")
    assert result.questions == ()
    assert [p.line for p in result.problems] == [FIRST + 5]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("## k1 单选\n" + OK_SINGLE, 1, "文件应以“---”开头"),
        ("---\nslug: a\n", 1, "文件头没有以“---”结束"),
        ("---\nslug: [a\n---\n", 2, "不是有效的"),
        ("---\nslug: a\ntitle: 题库\n---\n", 1, "文件头缺少 module"),
        ("---\nslug: A_b\ntitle: t\nmodule: m\n---\n", 2, "slug 应由小写字母"),
        ("---\nslug: a\ntitle: t\nmodule: m\nowner: x\n---\n", 5, "未知的键“owner”"),
        ("---\nslug: a\ntitle: ''\nmodule: m\n---\n", 3, "缺少 title"),
    ],
)
def test_front_matter_errors(text, line, fragment):
    _, result = parse_bank(text)
    found = [p for p in result.problems if fragment in p.message]
    assert found, messages(result)
    assert found[0].line == line


def test_a_file_without_questions_is_not_ok():
    header, result = parse_bank(HEADER, "empty.md")
    assert header.slug == "xuexi-daodu"
    assert not result.ok
    assert "“empty.md”中没有题目" in result.problems[0].message


# --------------------------------------------------------------------------- rendering


def test_render_is_readable():
    _, result = parse(SAMPLE)
    text = render_bank(BankHeader("xuexi-daodu", "学习导读", "xuexi-daodu"), result.questions)
    assert text.startswith(HEADER)
    assert "\n## q-001 单选\n题干：中国工会第十八次全国代表大会于哪一年召开？\nA. 2022年\n" in text
    assert "\n答案：ABD\n" in text
    assert "\n答案：专题培训|专题学习；集中轮训\n" in text
    assert "\n标签：大会、时间、届次\n" in text
    assert "\n难度：1\n" in text


def test_render_refuses_what_it_cannot_write():
    with pytest.raises(ValueError):
        render_bank(BankHeader("a", "t", "m"), [Question(key="k", type="essay", stem="x")])


# -------------------------------------------------------------------------- round trip

SPECIALS = ["：", ":", "|", "；", ";", "#", "## ", "---", "___", " ", "  ", "\u3000", "\t", "\n"]
SPECIALS += ["\\", "A. ", "答案：", "题干：", "、", "，", "对", "错", "_"]
questions = question_strategy(SPECIALS)


@st.composite
def banks(draw) -> tuple[BankHeader, list[Question]]:
    keys = draw(st.lists(KEY, min_size=1, max_size=4, unique=True))
    header = BankHeader(
        slug=draw(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True)),
        title=draw(
            st.lists(st.one_of(CHINESE, st.sampled_from(["：", "#", "-", "“"])), min_size=1).map(
                "".join
            )
        ),
        module=draw(st.sampled_from(["xuexi-daodu", "luoshi-zhiyao", "gonghui-zhangcheng"])),
    )
    return header, [draw(questions(key)) for key in keys]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(banks())
def test_render_then_parse_gives_the_same_bank(bank):
    header, written = bank
    text = render_bank(header, written)
    parsed_header, result = parse_bank(text)
    assert result.problems == (), (text, result.problems)
    assert parsed_header == header
    assert len(result.questions) == len(written)
    for before, after in zip(written, result.questions, strict=True):
        assert after.same_content(before), (text, before, after)
    # Rendering is stable: the parsed bank writes out to the same text.
    assert render_bank(parsed_header, result.questions) == text


# ----------------------------------------------------------------- the README's examples


def readme_blocks() -> list[tuple[int, str]]:
    """The ```markdown blocks of the specification with the line each starts on."""
    lines = README.read_text(encoding="utf-8").split("\n")
    blocks, current, start = [], None, 0
    for number, line in enumerate(lines, start=1):
        if current is None and line.strip() == "```markdown":
            current, start = [], number + 1
        elif current is not None and line.strip() == "```":
            blocks.append((start, "\n".join(current) + "\n"))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def lesson_texts() -> dict[str, str]:
    texts = {}
    for path in sorted((ROOT / "course").glob("*.md")):
        if path.name == "README.md":
            continue
        module = parse_module(path.read_text(encoding="utf-8"), path.name)
        for lesson in module.lessons:
            texts[lesson.source_ref] = normalize_answer("".join(lesson.paragraphs))
    return texts


def test_the_readme_has_a_complete_example_file_that_parses():
    files = [text for _start, text in readme_blocks() if text.startswith("---\n")]
    assert files, "README 中应有完整示例"
    for text in files:
        header, result = parse_bank(text, "README.md")
        assert result.ok, messages(result)
        assert {q.type for q in result.questions} == {
            "single",
            "multiple",
            "true_false",
            "fill_blank",
        }
        assert header.module
        assert any(q.evidence for q in result.questions)
        assert any("\n" in q.explanation for q in result.questions)


def test_every_example_in_the_readme_parses_and_is_true_to_the_notice():
    lessons = lesson_texts()
    seen_types = set()
    for start, text in readme_blocks():
        whole = text if text.startswith("---\n") else HEADER + text
        _, result = parse_bank(whole)
        assert result.ok, (start, messages(result))
        for question in result.questions:
            seen_types.add(question.type)
            passage = lessons[question.source_ref]  # every 出处 resolves to a lesson
            if question.evidence:
                assert normalize_answer(question.evidence) in passage
                continue
            if question.type == "fill_blank":
                for group in question.blanks:
                    for alternative in group:
                        assert normalize_answer(alternative) in passage, alternative
            elif question.type in ("single", "multiple"):
                for letter in question.answer:
                    option = question.options[LETTERS.index(letter)]
                    assert normalize_answer(option) in passage, option
    assert seen_types == {"single", "multiple", "true_false", "fill_blank"}


def test_awkward_text_survives_a_round_trip():
    nasty = "\n  ## 不是标题\n---\n答案：A\n\n\\开头与结尾\\\n行尾空格 \n"
    question = Question(
        key="k.1_x",
        type="single",
        stem=" 前导空格：| ； # ---",
        options=(nasty, "\n乙\n", "A. 乙\n\u3000全角空格缩进"),
        answer=("B",),
        explanation=nasty,
        source_ref="二（四）",
        evidence="\\",
    )
    text = render_bank(BankHeader("a", "题库：#", "xuexi-daodu"), [question])
    _, result = parse_bank(text)
    assert result.ok, (text, messages(result))
    assert result.questions[0].same_content(question)
