"""The Excel (.xlsx) importer, exporter and template (pure: bytes in, data out)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from app.banks.model import BankFormatError, Question
from app.banks.own_format import BankHeader, parse_bank, render_bank
from app.banks.xlsx import COLUMNS, TEMPLATE_EXAMPLES, parse_xlsx, render_xlsx, template_xlsx
from tests.bank_strategies import KEY, question_strategy

HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "解析",
    "出处",
    "难度",
    "标签",
]


def workbook_bytes(rows, header=HEADER, edit=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    if edit is not None:
        edit(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def messages(rows, header=HEADER) -> list[str]:
    return [problem.message for problem in parse_xlsx(workbook_bytes(rows, header)).problems]


# ------------------------------------------------------------------------------- types


def test_every_type_imports() -> None:
    rows = [
        [
            "单选",
            "下列哪一项正确？",
            "甲",
            "乙",
            "丙",
            None,
            "b",
            "解析一",
            "一（一）",
            2,
            "甲、乙",
        ],
        ["多选题", "下列哪些正确？", "甲", "乙", "丙", "丁", "Ａ，Ｄ", None, None, None, None],
        ["判断", "这句话是对的。", None, None, None, None, "√", None, None, "难", None],
        ["判断题", "这句话是错的。", None, None, None, None, "错误", None, None, None, None],
        [
            "填空",
            "第一空___，第二空___。",
            None,
            None,
            None,
            None,
            "甲/甲甲|乙",
            None,
            None,
            1,
            None,
        ],
    ]
    result = parse_xlsx(workbook_bytes(rows))
    assert result.ok, result.problems
    single, multiple, true, false, fill = result.questions
    assert [q.key for q in result.questions] == [f"xlsx-00{n}" for n in range(1, 6)]
    assert single.type == "single" and single.options == ("甲", "乙", "丙")
    assert single.answer == ("B",) and single.line == 2 and single.difficulty == 2
    assert single.tags == ("甲", "乙") and single.explanation == "解析一"
    assert single.source_ref == "一（一）"
    assert multiple.type == "multiple" and multiple.answer == ("A", "D")
    assert true.answer == ("对",) and true.difficulty == 3 and true.options == ()
    assert false.answer == ("错",)
    assert fill.blanks == (("甲", "甲甲"), ("乙",)) and fill.answer == ()


def test_header_aliases_marks_title_row_and_key_column() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某某题库"])
    sheet.append(["编号", "题型 *", "题目*", "选项A", "选项B", "答案*", "答案解析", "其他"])
    sheet.append(["k-1", "单项选择题", "问？", "甲", "乙", "A", "因为", "忽略"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_xlsx(buffer.getvalue())
    assert result.ok, result.problems
    (question,) = result.questions
    assert question.key == "k-1" and question.explanation == "因为" and question.line == 3


def test_escaped_separators_in_fill_blank_answers() -> None:
    rows = [["填空", "比例是___。", None, None, None, None, r"1\/2/一半", None, None, None, None]]
    (question,) = parse_xlsx(workbook_bytes(rows)).questions
    assert question.blanks == (("1/2", "一半"),)


# ------------------------------------------------------------------------------ errors

ERRORS = [
    (["单", "问？", "甲", "乙", None, None, "A"], "第 2 行 A 列（题型）：题型应为"),
    ([None, "问？", "甲", "乙", None, None, "A"], "第 2 行 A 列（题型）：缺少题型"),
    (["单选", None, "甲", "乙", None, None, "A"], "第 2 行 B 列（题干）：缺少题干"),
    (["单选", "问？", "甲", None, "丙", None, "A"], "第 2 行 D 列（选项B）：选项B是空的"),
    (
        ["单选", "问？", "甲", None, None, None, "A"],
        "第 2 行 D 列（选项B）：单选题至少要有两个选项",
    ),
    (["单选", "问？", "甲", "乙", None, None, "C"], "第 2 行 G 列（答案）：答案中的“C”不在选项中"),
    (
        ["单选", "问？", "甲", "乙", None, None, "AB"],
        "第 2 行 G 列（答案）：单选题必须有且只有一个",
    ),
    (["多选", "问？", "甲", "乙", None, None, "AA"], "第 2 行 G 列（答案）：答案“AA”中有重复"),
    (["单选", "问？", "甲", "乙", None, None, None], "第 2 行 G 列（答案）：缺少答案"),
    (["判断", "问。", None, None, None, None, "也许"], "第 2 行 G 列（答案）：判断题的答案应为"),
    (["判断", "问。", "甲", None, None, None, "对"], "第 2 行 C 列（选项A）：判断题不应填写选项"),
    (
        ["填空", "没有空。", None, None, None, None, "甲"],
        "第 2 行 B 列（题干）：填空题的题干中没有空",
    ),
    (["填空", "一___二___", None, None, None, None, "甲"], "第 2 行 G 列（答案）：题干中有 2 个空"),
    (
        ["填空", "一___", None, None, None, None, "甲/"],
        "第 2 行 G 列（答案）：第 1 个空的答案中有空白",
    ),
    (
        ["单选", "问？", "甲", "乙", None, None, "A", None, None, 5],
        "第 2 行 J 列（难度）：难度应为",
    ),
    (["单选", "问？", "甲", "乙", None, None, "#N/A"], "第 2 行 G 列（答案）：单元格是错误值"),
]


@pytest.mark.parametrize(("row", "fragment"), ERRORS)
def test_each_error_names_row_and_cell(row, fragment) -> None:
    result = parse_xlsx(workbook_bytes([row]))
    assert not result.ok and result.questions == ()
    assert any(fragment in message for message in [p.message for p in result.problems]), (
        result.problems
    )
    assert all(problem.line == 2 for problem in result.problems)


def test_good_rows_kept_bad_rows_reported_with_their_row() -> None:
    rows = [
        ["单选", "问？", "甲", "乙", None, None, "A"],
        [],
        ["单选", "问？", "甲", "乙", None, None, "Z"],
    ]
    result = parse_xlsx(workbook_bytes(rows))
    assert not result.ok and len(result.questions) == 1
    assert [p.line for p in result.problems] == [4]


def test_bad_and_duplicate_keys() -> None:
    header = ["编号", "题型", "题干", "选项A", "选项B", "答案"]
    rows = [["a 1", "判断", "问。", None, None, "对"], ["k", "判断", "问。", None, None, "对"]]
    rows.append(["k", "判断", "问。", None, None, "错"])
    assert messages(rows, header) == [
        "第 2 行 A 列（编号）：编号只能由字母、数字、“.”“_”“-”组成，现在是“a 1”。",
        "第 4 行 A 列（编号）：编号“k”与第 3 行重复。",
    ]


def test_missing_columns_and_empty_sheet() -> None:
    with pytest.raises(BankFormatError, match="缺少必填列：答案"):
        parse_xlsx(workbook_bytes([], header=["题型", "题干"]))
    with pytest.raises(BankFormatError, match="是空的"):
        parse_xlsx(workbook_bytes([], header=[]))
    result = parse_xlsx(workbook_bytes([]))
    assert not result.ok and "下面没有题目" in result.problems[0].message


# ------------------------------------------------------------------------- bad files


def test_formulas_refused() -> None:
    def edit(sheet):
        sheet["G2"] = '=IF(1,"A","B")'

    content = workbook_bytes([["单选", "问？", "甲", "乙", None, None, None]], edit=edit)
    with pytest.raises(BankFormatError, match="公式（G2 单元格）"):
        parse_xlsx(content)


def test_text_starting_with_equals_sign_is_not_a_formula() -> None:
    question = Question(key="k", type="true_false", stem="=1+1 是公式吗", answer=("错",))
    (back,) = parse_xlsx(render_xlsx([question])).questions
    assert back.same_content(question)


def test_images_refused() -> None:
    content = workbook_bytes([["判断", "问。", None, None, None, None, "对"]])
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n")
        target.writestr("xl/drawings/drawing1.xml", "<xdr:wsDr/>")
    with pytest.raises(BankFormatError, match="图片"):
        parse_xlsx(buffer.getvalue())


def test_zip_that_is_not_xlsx_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        target.writestr("readme.txt", "hello")
    with pytest.raises(BankFormatError, match=re.escape("不是 Excel（.xlsx）工作簿")):
        parse_xlsx(buffer.getvalue())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "空的"),
        ("题型,题干\n".encode(), "不是有效的 Excel"),
        (b"PK\x03\x04broken", "不是有效的 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "设置了打开密码"),
        (b"PK" + b"\0" * (10 * 1024 * 1024), "超过 10 MB"),
    ],
)
def test_unusable_files(content, fragment) -> None:
    with pytest.raises(BankFormatError, match=re.escape(fragment)):
        parse_xlsx(content)


def test_broken_workbook_xml_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        target.writestr("[Content_Types].xml", "<Types/>")
        target.writestr("xl/workbook.xml", "not xml")
    with pytest.raises(BankFormatError, match=re.escape("不是有效的 .xlsx")):
        parse_xlsx(buffer.getvalue())


def test_too_many_rows(monkeypatch) -> None:
    monkeypatch.setattr("app.banks.xlsx.MAX_ROWS", 3)
    rows = [["判断", "问。", None, None, None, None, "对"]] * 4
    with pytest.raises(BankFormatError, match="超过 3 行"):
        parse_xlsx(workbook_bytes(rows))
    assert parse_xlsx(workbook_bytes(rows[:3])).ok


# --------------------------------------------------------------------------- template


def test_template_reads_back_with_every_example() -> None:
    content = template_xlsx()
    result = parse_xlsx(content)
    assert result.ok, result.problems
    assert {q.type for q in result.questions} == {"single", "multiple", "true_false", "fill_blank"}
    for example, question in zip(TEMPLATE_EXAMPLES, result.questions, strict=True):
        assert question.stem == example.stem and question.answer == example.answer
        assert question.blanks == example.blanks
    workbook = load_workbook(io.BytesIO(content))
    sheet, notes = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["B"].width > 20
    assert notes.title == "填写说明"
    assert any("|" in str(cell.value) for row in notes.iter_rows() for cell in row)


def test_render_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError):
        render_xlsx([Question(key="k", type="essay", stem="x")])
    with pytest.raises(ValueError, match="控制字符"):
        render_xlsx([Question(key="k", type="true_false", stem="x\x01", answer=("对",))])


# ------------------------------------------------------------------------- round trip

SPECIALS = ["：", "|", "/", "\\", "；", "=", "=SUM(A1)", "#N/A", "___", " ", "\u3000", "\t"]
SPECIALS += ["\n", "A. ", "答案：", "、", "，", "对", "错", "_", "*", "_x0041_"]
questions = question_strategy(SPECIALS, never=("#N/A",))


@st.composite
def question_lists(draw) -> list[Question]:
    keys = draw(st.lists(KEY, min_size=1, max_size=4, unique=True))
    return [draw(questions(key)) for key in keys]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question_lists())
def test_own_to_xlsx_to_own_loses_nothing(written) -> None:
    header = BankHeader("bank", "题库", "xuexi-daodu")
    _, own = parse_bank(render_bank(header, written))
    assert own.problems == ()
    result = parse_xlsx(render_xlsx(own.questions))
    assert result.problems == (), result.problems
    assert len(result.questions) == len(written)
    for before, after in zip(written, result.questions, strict=True):
        assert after.same_content(before), (before, after)
    assert render_bank(header, result.questions) == render_bank(header, written)
