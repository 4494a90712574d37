"""Fuzzing every parser of user input: whatever comes in, nothing escapes but the parser's own
error type (DocumentError, CourseFileError, PlanError, QuizFileError, BankFormatError,
ImportFileError) or its list of problems.

Inputs the other test files already fuzz are left to them (arbitrary bytes as .txt/.md/.docx
in test_documents, arbitrary text and key: value pairs in test_quiz_files, arbitrary text in
test_bank_aiken and test_bank_pasted_text, arbitrary bytes and CSV in test_cadre_import).
Regression tests for the escapes the fuzzing found come first.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.accounts.cadre_import import UnitChoice, check_rows
from app.accounts.people_import import stored_filename
from app.accounts.roster_files import read_table
from app.accounts.roster_files import template_xlsx as cadre_template_xlsx
from app.banks.formats import FORMATS, SUFFIXES, detect_format, read_bank_file
from app.banks.gift import parse_gift
from app.banks.model import BankFormatError, ParseResult
from app.banks.own_format import parse_bank
from app.banks.xlsx import COLUMNS, parse_xlsx, render_xlsx, template_xlsx
from app.course.documents import Document, outline_json, parse_document, rejoin_lines
from app.course.files import CourseFileError, SourceInfo, parse_module
from app.course.plan import PlanError, build_modules, read_plan
from app.course.text import DocumentError, read_text, source_for
from app.lib import yaml_text
from app.lib.sheets import ImportFileError
from app.quizzes.files import QuizFileError, parse_quiz_file
from app.trainings.enrollment_check import Account, check_enrollment_rows, read_enrollment_table
from tests.test_quiz_files import EXAMPLE as QUIZ_EXAMPLE

# Examples that build or read files (.docx, .xlsx, zip) take milliseconds each; text is fast.
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lines_of(fragments: list[str], max_lines: int = 25) -> st.SearchStrategy[str]:
    """Text made of lines that are fragments, arbitrary short text, or both glued together."""
    line = st.one_of(
        st.sampled_from(fragments),
        st.text(max_size=12),
        st.tuples(st.sampled_from(fragments), st.text(max_size=6)).map("".join),
    )
    return st.lists(line, max_size=max_lines).map("\n".join)


@st.composite
def perturbed(draw, base: str, fragments: list[str]) -> str:
    """A valid file with a few lines dropped, repeated, swapped, split, glued to other text or
    replaced by fragments: mostly valid, so the parser gets past its first checks."""
    lines = base.split("\n")
    fragment = st.sampled_from(fragments) | st.text(max_size=8)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines)))
        op = draw(st.sampled_from(["drop", "repeat", "swap", "split", "glue", "insert", "replace"]))
        if op == "insert":
            lines.insert(at, draw(fragment))
        elif at == len(lines):
            continue
        elif op == "drop":
            del lines[at]
        elif op == "repeat":
            lines.insert(at, lines[at])
        elif op == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif op == "split":
            cut = draw(st.integers(0, len(lines[at])))
            lines[at : at + 1] = [lines[at][:cut], lines[at][cut:]]
        elif op == "glue":
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + draw(fragment) + lines[at][cut:]
        elif op == "replace":
            lines[at] = draw(fragment)
    return "\n".join(lines)


def files_like(base: str, fragments: list[str], max_lines: int = 25) -> st.SearchStrategy[str]:
    return perturbed(base, fragments) | lines_of(fragments, max_lines)


# ---------------------------------------------------------------- zip files


def rebuilt_zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members:
            package.writestr(name, content)
    return buffer.getvalue()


def members_of(content: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


XML_BITS = [
    b"<",
    b">",
    b"/>",
    b"</x>",
    b'<?xml version="1.0"?>',
    b'<c r="A1" t="s"><v>99</v></c>',
    b'<c r="ZZZZ0"><v>x</v></c>',
    b'<row r="-1">',
    b'<row r="1048577">',
    b"<v>1e999</v>",
    b'<sheet name="x" sheetId="1" r:id="rId9"/>',
    b'<dimension ref="A1:XFD1048576"/>',
    b"&amp;",
    b"&#0;",
    b"]]>",
    b"\x00",
    b"\xff",
]


PACKAGES: dict[str, bytes] = {}  # valid files to break, by name (keeps reprs short)


@st.composite
def mutated_zips(draw, package: str) -> bytes:
    """A valid package with one member changed (cut, spliced with XML bits, replaced, dropped)
    or with a few of the package's own bytes flipped."""
    base = PACKAGES[package]
    members = members_of(base)
    how = draw(st.sampled_from(["cut", "splice", "replace", "drop", "flip"]))
    if how == "flip":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(data)
    index = draw(st.integers(0, len(members) - 1))
    name, content = members[index]
    if how == "drop":
        del members[index]
    else:
        if how == "cut":
            content = content[: draw(st.integers(0, len(content)))]
        elif how == "splice":
            at = draw(st.integers(0, len(content)))
            bit = draw(st.sampled_from(XML_BITS) | st.binary(max_size=20))
            content = content[:at] + bit + content[at:]
        else:
            content = draw(
                st.binary(max_size=200) | st.lists(st.sampled_from(XML_BITS)).map(b"".join)
            )
        members[index] = (name, content)
    return rebuilt_zip(members)


XLSX_MEMBER_NAMES = [
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
    "xl/styles.xml",
    "docProps/app.xml",
]
arbitrary_zips = st.lists(
    st.tuples(
        st.sampled_from(XLSX_MEMBER_NAMES)
        | st.text(st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1),
        st.binary(max_size=100) | st.lists(st.sampled_from(XML_BITS), max_size=8).map(b"".join),
    ),
    max_size=6,
    unique_by=lambda member: member[0],
).map(rebuilt_zip)
pk_bytes = st.binary(max_size=300).map(lambda data: b"PK\x03\x04" + data)


# ---------------------------------------------------------------- workbooks


def legal(text: str) -> str:
    """Text openpyxl can store (no control characters other than tab and line breaks)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


cell_values = st.one_of(
    st.none(),
    st.text(max_size=15).map(legal),
    st.sampled_from(["", " ", "#N/A", "=1+1", "'=A1", "13812345678", "1.3812345678E+10", "对"]),
    st.integers(-(10**16), 10**16),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(date(1900, 3, 1), date(9999, 12, 31)),
    st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31)),
    st.times(),
)


def workbook_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def workbooks(draw, header_names: list[str], typical: list[object]) -> bytes:
    """A well-formed .xlsx: maybe a title row, a header of known names (all of them, some, or
    mixed with other text), then rows of cells that are typical values or anything at all."""
    names = draw(st.permutations(header_names))
    header: list[object] = (
        names[: draw(st.integers(0, len(names)))] if draw(st.booleans()) else names
    )
    for _ in range(draw(st.integers(0, 2))):
        header.insert(draw(st.integers(0, len(header))), draw(cell_values))
    cell = st.sampled_from(typical) | cell_values
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 2), max_size=6))
    title = draw(st.lists(st.lists(cell_values, max_size=2), max_size=1))
    return workbook_bytes([*title, header, *rows])


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


# ================================================================ regressions

# YAML values PyYAML recognises but can't build: yaml.safe_load let ValueError, IndexError,
# AttributeError or KeyError escape instead of a YAML error.
BAD_YAML_VALUES = [
    ("2023-13-45", "2023-13-45"),  # ValueError: month must be in 1..12
    ("2023-02-30", "2023-02-30"),  # ValueError: day is out of range for month
    ("!!int 0xZZ", "0xZZ"),  # ValueError from int()
    ("!!float abc", "abc"),  # ValueError from float()
    ("!!timestamp x", "x"),  # AttributeError: 'NoneType' object has no attribute 'groupdict'
    ("!!bool maybe", "maybe"),  # KeyError: 'maybe'
    ("!!float", ""),  # IndexError: string index out of range
    ("!!int 08", "08"),  # ValueError: invalid literal for int() with base 8
    ("0000-01-01", "0000-01-01"),  # ValueError: year 0 is out of range
]


@pytest.mark.parametrize(("written", "shown"), BAD_YAML_VALUES)
def test_plan_with_a_value_yaml_cannot_build_names_its_line(written: str, shown: str) -> None:
    text = f"modules:\n  - slug: a\n    title: {written}\n    parts: [一]\n"
    with pytest.raises(PlanError) as refused:
        read_plan(text, "plan.yaml")
    assert f"“plan.yaml”第 3 行的值“{shown}”无法识别" in str(refused.value)


def test_plan_nested_too_deep_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="嵌套的层次太深"):
        read_plan("modules: " + "[" * 5000, "plan.yaml")  # was RecursionError


@pytest.mark.parametrize(("written", "shown"), BAD_YAML_VALUES)
def test_bank_header_with_a_value_yaml_cannot_build_names_its_line(
    written: str, shown: str
) -> None:
    text = f"---\nslug: bank\ntitle: {written}\nmodule: m\n---\n" + OWN_BANK.split("---\n")[2]
    header, result = parse_bank(text, "bank.md")
    assert [p.line for p in result.problems] == [3]
    assert result.problems[0].message.startswith(f"第 3 行：文件头中的值“{shown}”无法识别")
    assert len(result.questions) == 4 and header.slug == ""
    uploaded = read_bank_file("题库.md", text.encode(), "own")
    assert uploaded.result.problems == result.problems


@pytest.mark.parametrize("written", ["!!float", "!!int", '!!float ""', "!!int +"])
def test_quiz_number_tagged_but_empty_is_a_quiz_file_error(written: str) -> None:
    text = QUIZ.replace("pass_mark: 80", f"pass_mark: {written}")
    with pytest.raises(QuizFileError) as refused:  # was IndexError
        parse_quiz_file(text, "q.yaml")
    assert refused.value.problems == ("第 5 行：pass_mark（及格分）应为数字。",)


def test_bank_header_nested_too_deep_is_a_problem() -> None:
    _, result = parse_bank("---\nslug: " + "[" * 5000 + "\n---\n")  # was RecursionError
    assert result.problems[0].message == "第 1 行：文件头不是有效的“键: 值”格式。"


@pytest.mark.parametrize(("written", "shown"), BAD_YAML_VALUES)
def test_course_file_with_a_value_yaml_cannot_build_names_file_and_line(
    written: str, shown: str
) -> None:
    text = COURSE_MODULE.replace("title: 学习导读", f"title: {written}")
    with pytest.raises(CourseFileError) as refused:  # was ValueError, IndexError …
        parse_module(text, "xuexi-daodu.md")
    assert str(refused.value) == (
        f"“xuexi-daodu.md”第 3 行：文件头中的值“{shown}”无法识别"
        "（不是有效的日期、数字或 true/false），请改正或加引号写成文字。"
    )


def test_course_file_nested_too_deep_is_a_course_file_error() -> None:
    text = COURSE_MODULE.replace("order: 1", "order: " + "[" * 5000)
    with pytest.raises(CourseFileError) as refused:  # was RecursionError
        parse_module(text, "xuexi-daodu.md")
    assert str(refused.value) == "“xuexi-daodu.md”第 4 行：文件头中的括号或缩进嵌套的层次太深。"


def test_quiz_file_nested_too_deep_is_a_quiz_file_error() -> None:
    with pytest.raises(QuizFileError) as refused:
        parse_quiz_file("slug: " + "{a: " * 5000, "q.yaml")
    assert refused.value.problems == ("不是有效的 YAML 文件。",)


def laughs(levels: int) -> str:
    """YAML anchors each repeating the one before ten times: a few lines, 10**levels values."""
    lines = ["l0: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha, ha]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, levels)]
    return "\n".join(lines)


def test_aliases_that_repeat_into_millions_of_values_are_refused() -> None:
    assert len(yaml_text.load(laughs(4))) == 4  # about 12,000 values: aliases are fine
    # Loading 10**9 values was quick, but printing or checking them took minutes (str()).
    with pytest.raises(PlanError) as refused:
        read_plan(laughs(9) + "\nmodules: *l8", "plan.yaml")
    assert str(refused.value) == (
        "“plan.yaml”格式有误：内容太多：超过 100000 项（用别名“*”重复的内容也计在内）。"
    )
    text = COURSE_MODULE.replace("title: 学习导读", laughs(9) + "\ntitle: *l8")
    with pytest.raises(CourseFileError) as refused:  # l4, on line 7, passes 100,000
        parse_module(text, "m.md")
    assert str(refused.value) == (
        "“m.md”第 7 行：文件头中的内容太多：超过 100000 项（用别名“*”重复的内容也计在内）。"
    )
    _, result = parse_bank("---\n" + laughs(9) + "\nslug: *l8\n---\n")
    assert result.problems[0].message == "第 1 行：文件头不是有效的“键: 值”格式。"
    with pytest.raises(QuizFileError) as refused:
        parse_quiz_file(laughs(9) + "\nslug: *l8\n", "q.yaml")
    assert refused.value.problems == ("不是有效的 YAML 文件。",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x80\xff", "文件“题库.gift”无法读取：文字编码无法识别（已尝试 UTF-8 和 GBK）"),
        (b"", "文件“题库.gift”是空的。"),
    ],
)
def test_unreadable_gift_upload_is_named_as_uploaded(content: bytes, message: str) -> None:
    with pytest.raises(BankFormatError) as refused:  # was named “题库.gift.txt”
        read_bank_file("题库.gift", content)
    assert str(refused.value).startswith(message)


def test_yaml_nesting_is_refused_only_past_its_limit() -> None:
    depth = yaml_text.MAX_DEPTH - 1  # the mapping `a:` is the first level
    nested: list = []
    for _ in range(depth - 1):
        nested = [nested]
    assert yaml_text.load("a:\n  " + "[" * depth + "]" * depth) == {"a": nested}
    with pytest.raises(yaml_text.TooDeep) as refused:
        yaml_text.load("a:\n  " + "[" * (depth + 1) + "]" * (depth + 1))
    assert refused.value.line == 2


# ================================================================ documents

DOC_NUMBERS = [
    "一、",
    "二、",
    "三、",
    "十、",
    "（一）",
    "（二）",
    "(三)",
    "（ 四 ）",
    "1.",
    "2．",
    "3、",
    "（1）",
    "(2)",
    "第一章",
    "第二章",
    "第3章",
    "第一条",
    "第二条",
    "第十条",
    "第一百九十九条",
    "总则",
    "# ",
    "## ",
    "###### ",
    "- ",
    "附件：",
    "附件1",
    "",
]
DOC_BODIES = [
    "总则",
    "会员",
    "加强工会干部培训",
    "各县（市、区）总工会，市直各产业工会：",
    "认真学习贯彻党的二十大精神和中国工会十八大精神，切实做好",
    "焦工文〔2023〕93号",
    "焦工文[2023]93 号",
    "关于开展工会干部学习培训的通知",
    "2023年10月9日",
    "2023年 10月 9日",
    "二〇二三年十月九日",
    "焦作市总工会",
    "特此通知",
    "以上",
    "请各单位于10月底前报送",
    "联系人：张三 电话：3912345",
    "Word 2016 and PDF",
    "现将有关事项通知如下",
]
DOC_ENDS = ["", "。", "：", "；", "，", "！", "?", "）", "\u3000", " ", "\t", " #"]
doc_lines = st.one_of(
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from(DOC_NUMBERS),
            st.sampled_from(DOC_BODIES) | st.text(max_size=8),
            st.sampled_from(DOC_ENDS),
        ),
    ),
    # Full-width lines without final punctuation, as extracted from a PDF.
    st.sampled_from(DOC_BODIES).map(lambda body: (body * 6)[:36]),
    st.sampled_from(["", "", "\u3000", "\r"]),
    st.text(max_size=10),
)
CN = "一二三四五六七八九十"
ARTICLES = [*CN, "十一", "十二"]
DOC_SENTENCES = [
    "认真学习贯彻党的二十大精神和中国工会十八大精神",
    "各级工会要高度重视，把学习培训作为重要政治任务",
    "学习时间为2023年10月至12月",
    "坚持学用结合，推动工会工作高质量发展",
    "具体安排另行通知",
]


@st.composite
def official_documents(draw) -> str:
    """A notice or a charter as written (文号, title, addressees, numbered parts, closing,
    issuer, date), maybe wrapped like PDF text, then perturbed."""
    sentence = st.sampled_from(DOC_SENTENCES)
    lines = []
    if draw(st.booleans()):
        lines.append(
            draw(st.sampled_from(["焦工文〔2023〕93号", "焦工文[2023]93 号", "豫工〔2024〕1号"]))
        )
    lines.append(
        draw(st.sampled_from(["关于开展工会干部学习培训的通知", "中国工会章程", "# 学习方案"]))
    )
    if draw(st.booleans()):
        lines.append("各县（市、区）总工会，市直各产业工会：")
    lines += [draw(sentence) + "。" for _ in range(draw(st.integers(0, 2)))]
    charter = draw(st.booleans())
    article = 0
    for i in range(draw(st.integers(0, 4))):
        if charter:
            lines.append(f"第{CN[i]}章 {draw(st.sampled_from(['总则', '会员', '组织制度']))}")
            for _ in range(draw(st.integers(0, 3))):
                article += 1
                lines.append(f"第{ARTICLES[article - 1]}条 {draw(sentence)}。")
            continue
        lines.append(f"{CN[i]}、{draw(st.sampled_from(['总体要求', '学习内容', '工作要求']))}")
        for j in range(draw(st.integers(0, 3))):
            lines.append(f"（{CN[j]}）{draw(sentence)}。{draw(sentence)}。")
            lines += [f"{k}.{draw(sentence)}；" for k in range(1, draw(st.integers(1, 3)))]
    lines += draw(
        st.lists(st.sampled_from(["特此通知。", "附件：1.学习安排", "联系人：张三"]), max_size=2)
    )
    if draw(st.booleans()):
        lines += ["焦作市总工会", draw(st.sampled_from(["2023年10月9日", "二〇二三年十月九日"]))]
    if draw(st.booleans()):  # PDF text: every paragraph wrapped at one width
        width = draw(st.integers(8, 30))
        lines = [line[i : i + width] for line in lines for i in range(0, max(len(line), 1), width)]
    separator = draw(st.sampled_from(["\n", "\n\n", "\r\n"]))
    return draw(perturbed(separator.join(lines), DOC_NUMBERS + DOC_BODIES))


document_texts = official_documents() | st.lists(doc_lines, max_size=30).map("\n".join)


def check_document(text: str, source: str | None) -> None:
    try:
        document = parse_document(text, source)
    except DocumentError as error:
        assert str(error)
        return
    assert isinstance(document, Document) and document.sections
    json.dumps(outline_json(document), ensure_ascii=False)


@MANY
@given(document_texts, st.sampled_from([None, "pdf-text", "docx", "markdown"]))
def test_structured_text_gives_an_outline_or_document_error(text: str, source: str | None) -> None:
    check_document(text, source)
    assert all(isinstance(p, str) for p in rejoin_lines(text, source))


ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "big5", "latin-1"]


@MANY
@given(
    document_texts,
    st.sampled_from(ENCODINGS),
    st.sampled_from(["通知.txt", "通知.md", "通知.TXT", "a.b.md"]),
)
def test_text_in_any_encoding_reads_or_raises_document_error(
    text: str, encoding: str, filename: str
) -> None:
    try:
        read = read_text(filename, text.encode(encoding, errors="replace"))
    except DocumentError as error:
        assert str(error)
        return
    assert read.strip()
    check_document(read, source_for(filename))


docx_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)


@st.composite
def docx_files(draw) -> bytes:
    """A real .docx: a whole document one paragraph a line, or paragraphs and tables of
    document lines and arbitrary text."""
    document = docx.Document()
    if draw(st.booleans()):
        for line in draw(official_documents()).splitlines():
            document.add_paragraph(ILLEGAL_CHARACTERS_RE.sub("", line))
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)) == 0:
            rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            table = document.add_table(rows=rows, cols=cols)
            for cell in (cell for row in table.rows for cell in row.cells):
                cell.text = draw(docx_text)
            if rows > 1 and draw(st.booleans()):
                table.cell(0, 0).merge(table.cell(1, 0))
        else:
            line = draw(doc_lines | docx_text)
            document.add_paragraph(ILLEGAL_CHARACTERS_RE.sub("", line))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(docx_files())
def test_docx_of_any_paragraphs_gives_an_outline_or_document_error(content: bytes) -> None:
    try:
        text = read_text("通知.docx", content)
    except DocumentError as error:
        assert "空的" in str(error)
        return
    check_document(text, "docx")


def _plain_docx() -> bytes:
    document = docx.Document()
    for line in ("关于开展学习的通知", "各单位：", "一、总则", "（一）学习内容。", "特此通知。"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PACKAGES["notice.docx"] = PLAIN_DOCX = _plain_docx()


@FUZZ
@given(mutated_zips("notice.docx") | arbitrary_zips)
def test_broken_docx_package_raises_document_error(content: bytes) -> None:
    try:
        text = read_text("通知.docx", content)
    except DocumentError as error:
        assert str(error)
        return
    check_document(text, "docx")


# ================================================================ course plans

PLAN_FRAGMENTS = [
    "modules:",
    "modules: []",
    "modules: ~",
    "modules: 1",
    "  - slug: module-1",
    "  - slug: a",
    "  - slug: 甲",
    "  - slug: 2023-13-45",
    "  -",
    "    title: 总则",
    "    title: !!int 0xZZ",
    "    title: !!float abc",
    "    title: 2023-02-30",
    "    title: !!timestamp x",
    "    title: !!bool maybe",
    "    title: .nan",
    "    title: !!float",
    "    title: !!int 08",
    "    note: 0000-01-01",
    "    parts: [一, 二]",
    "    parts: [导语, 一, 二, 三, 结语]",
    "    parts: [一（一）, 一（二）]",
    "    parts: 一",
    "    parts: !!set {a, b}",
    "    parts:",
    "      - 导语",
    "      - 结语",
    "    note: 说明",
    "    note: !!binary aGVsbG8=",
    "    note: !!binary '@@'",
    "  - {slug: b, title: 乙, parts: [二]}",
    "  - [1, 2]",
    "  - &a {slug: c, title: 丙, parts: [三]}",
    "  - *a",
    "  - <<: *a",
    "  - !!omap [{slug: d}]",
    "? [a]",
    ": b",
    "[",
    "{",
    "'",
    '"',
    "---",
    "...",
    "%YAML 1.1",
    "\t",
]

PLAN_DOCUMENT = parse_document(
    "关于开展学习的通知\n各单位：\n为做好学习，现将有关事项通知如下。\n"
    "一、总体要求\n（一）学习内容。\n（二）学习方式。\n二、组织实施\n三、工作要求\n特此通知。\n",
    "docx",
)


PLAN = """\
modules:
  - slug: module-1
    title: 总体要求
    parts: [导语, 一（一）, 一（二）]
    note: 先读导语
  - slug: module-2
    title: 组织实施
    parts:
      - 二
  - {slug: module-3, title: 工作要求, parts: [三, 结语]}
"""


@MANY
@given(files_like(PLAN, PLAN_FRAGMENTS) | st.text(max_size=200))
def test_plan_text_gives_modules_or_plan_error(text: str) -> None:
    try:
        plan = read_plan(text, "plan.yaml")
        modules = build_modules(PLAN_DOCUMENT, plan, SourceInfo(title="通知"))
    except PlanError as error:
        assert str(error)
        return
    assert modules


# ================================================================ course files

COURSE_FRAGMENTS = [
    "---",
    "slug: xuexi-daodu",
    "slug: 甲",
    "title: 学习导读",
    "title: 2023-13-45",
    "title: !!int 0xZZ",
    "title: !!timestamp x",
    "title: !!bool maybe",
    "title: !!float",
    "order: 1",
    "order: 一",
    "order: !!int 08",
    "order: [[[[",
    "source:",
    "source: [a]",
    "  title: 通知",
    "  doc_number: 焦工文〔2023〕93号",
    "  file: !!binary '@@'",
    "  file: 0000-01-01",
    "minutes: 3",
    "extra: &a {b: *a}",
    "? [a]",
    ": b",
    "{",
    "'",
    "::: 说明",
    "::: 学习要点",
    ":::",
    "## 导语 {#导语}",
    "## 一 {#一}",
    "## 没有出处",
    "## {#}",
    "##",
    "一、正文。",
    "- 要点",
    "\t",
    "\r",
    "",
]


COURSE_MODULE = """\
---
slug: xuexi-daodu
title: 学习导读
order: 1
source:
  title: 焦作市总工会关于……的通知
  doc_number: 焦工文〔2023〕93号
  file: sources/notice-jiaozuo-2023-93.txt
minutes: 3
---

::: 说明
本模块是通知的开头。
:::

## 导语 {#导语}

2023年10月9日至12日，中国工会第十八次全国代表大会胜利召开。

## 提高政治站位 {#一}

一、提高政治站位

::: 学习要点
- 学习要点
:::
"""


@MANY
@given(files_like(COURSE_MODULE, COURSE_FRAGMENTS, max_lines=30) | st.text(max_size=200))
def test_course_file_text_gives_a_module_or_course_file_error(text: str) -> None:
    try:
        module = parse_module(text, "xuexi-daodu.md")
    except CourseFileError as error:
        assert str(error).startswith("“xuexi-daodu.md”")
        return
    assert module.lessons and all(lesson.source_ref for lesson in module.lessons)


# ================================================================ quiz files

QUIZ_FRAGMENTS = [
    "slug: q",
    "title: 测验",
    "pass_mark: 60",
    "full_marks: !!float abc",
    "pass_mark: !!int 0xZZ",
    "pass_mark: 1e999",
    "pass_mark: !!float",
    "full_marks: !!int +",
    "    points: !!int",
    "    count: !!int 08",
    "max_attempts: !!int 99999999999999999999999",
    "time_limit_minutes: -0",
    "opens_at: 2023-02-30 08:00",
    "opens_at: !!timestamp x",
    "closes_at: 2023-12-31 18:00",
    "shuffle_options: !!bool maybe",
    "partial_credit: 是",
    "review: after_close",
    "counted_attempt: 最高",
    "rules:",
    "rules: !!set {a}",
    "  - type: 单选",
    "  - type: [单选]",
    "  - {type: 判断, count: 1, points: 1}",
    "  - &r {type: 填空, count: 2, points: 2.5}",
    "  - *r",
    "  - <<: *r",
    "  - !!omap [{type: 单选}]",
    "    count: 5",
    "    count: !!str 5",
    "    points: 4",
    "    points: .inf",
    "    banks: [xuexi-daodu, 甲]",
    "    banks: {a: 1}",
    "    source_refs: [导语, 一, ~]",
    "    source_refs: !!binary '@@'",
    "? [a]",
    ": b",
    "[",
    "{",
    "---",
    "...",
    "\t",
    "\x00",
    "\ufeff",
]


QUIZ = QUIZ_EXAMPLE  # the full example of tests/test_quiz_files.py


@MANY
@given(files_like(QUIZ, QUIZ_FRAGMENTS))
def test_quiz_file_fragments_give_a_spec_or_quiz_file_error(text: str) -> None:
    try:
        parse_quiz_file(text, "q.yaml")
    except QuizFileError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


# ================================================================ question banks


def check_result(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    for problem in result.problems:
        assert problem.message and (problem.line is None or str(problem.line) in problem.message)


OWN_FRAGMENTS = [
    "---",
    "slug: bank",
    "title: 题库",
    "module: xuexi-daodu",
    "slug: 2023-13-45",
    "title: !!int 0xZZ",
    "module: !!timestamp x",
    "title: !!bool maybe",
    "title: !!float",
    "module: 0000-01-01",
    "other: 1",
    "[[[[",
    "## q-001 单选",
    "## q-002 多选题",
    "## q-003 判断",
    "## q-004 填空",
    "## q-005 问答",
    "## 单选",
    "##",
    "## 甲 单选",
    "题干：工会第十八次全国代表大会于哪一年召开？",
    "题干：___ 和 ___",
    "题干:",
    "A. 2022年",
    "B、2023年",
    "Ｃ．2024年",
    "I. 选项",
    "Z) 选项",
    "答案：A",
    "答案：ABD",
    "答案：对",
    "答案：甲；乙|丙",
    "答案：；",
    "  续行",
    "\u3000续行",
    "\t",
    "\\",
    "\\\\",
    "解析：通知写明",
    "出处：导语",
    "难度：9",
    "难度：二",
    "标签：大会、时间",
    "依据：2023年",
    "未知：x",
]


OWN_BANK = """\
---
slug: xuexi-daodu
title: 学习导读
module: xuexi-daodu
---

## xuexi-daodu-001 单选
题干：中国工会第十八次全国代表大会于哪一年召开？
A. 2022年
B. 2023年
答案：B
解析：通知开头写明
出处：导语
难度：1
标签：大会、时间
依据：2023年10月9日至12日

## xuexi-daodu-002 多选
题干：哪些是学习方式？
  可多选
A. 集中学习
B. 自学
C. 不学
答案：AB

## xuexi-daodu-003 判断
题干：学习要学用结合。
答案：对

## xuexi-daodu-004 填空
题干：学习时间为 ___ 至 ___。
答案：10月|十月；12月
"""


@MANY
@given(files_like(OWN_BANK, OWN_FRAGMENTS, max_lines=30))
def test_own_format_text_gives_questions_and_problems(text: str) -> None:
    header, result = parse_bank(text, "bank.md")
    check_result(result)
    assert isinstance(header.slug, str) and isinstance(header.title, str)


GIFT_FRAGMENTS = [
    "::标题::",
    "::未闭合",
    "工会会员的权利 {",
    "=对 ~错",
    "=a =b",
    "~%50%甲 ~%50%乙",
    "~%-100%丙",
    "=%200%丁",
    "~%abc%戊",
    "=甲 -> 乙",
    "#1:2",
    "#反馈",
    "####总体反馈",
    "}",
    "{",
    "{T}",
    "{FALSE}",
    "{}",
    "{=}",
    "{#}",
    "// peixun: 难度=2",
    "// peixun: 难度=x",
    "// peixun: 出处=一; 标签=a,b",
    "// peixun: 未知=1",
    "// 注释",
    "$CATEGORY: 题库/第一章",
    "[html]",
    "[markdown]",
    "[moodle]",
    "\\{",
    "\\}",
    "\\=",
    "\\~",
    "\\#",
    "\\:",
    "\\",
    "___",
    "",
]


GIFT_BANK = """\
// peixun: 出处=导语; 难度=1; 标签=大会,时间
::q1::中国工会第十八次全国代表大会于哪一年召开？{
~2022年
=2023年
####通知开头写明
}

::q2::哪些是学习方式？{
~%50%集中学习
~%50%自学
~%-100%不学
}

$CATEGORY: 学习导读

::q3::学习要学用结合。{T}

::q4::学习时间为 {=10月 =十月} 开始。

[markdown]谁是第一个？{=甲 ~乙 #反馈}

配对。{=甲 -> 乙 =丙 -> 丁 =戊 -> 己}

数字 {#1822:1}

问答 {}
"""


@MANY
@given(files_like(GIFT_BANK, GIFT_FRAGMENTS, max_lines=30))
def test_gift_text_gives_questions_and_problems(text: str) -> None:
    try:
        result = parse_gift(text)
    except BankFormatError as error:
        assert str(error)
        return
    check_result(result)


@MANY
@given(
    st.binary(max_size=300)
    | files_like(OWN_BANK, OWN_FRAGMENTS).map(str.encode)
    | files_like(GIFT_BANK, GIFT_FRAGMENTS).map(str.encode),
    st.sampled_from([*SUFFIXES, ".gift", ".xls", ".MD", ""]),
    st.sampled_from([*FORMATS, "auto", "其他"]),
)
def test_any_upload_gives_a_bank_file_or_bank_format_error(
    content: bytes, suffix: str, fmt: str
) -> None:
    try:
        bank_file = read_bank_file("题库" + suffix, content, fmt)
    except BankFormatError as error:
        assert str(error)
        return
    assert bank_file.format in FORMATS
    check_result(bank_file.result)


@MANY
@given(st.text(max_size=200), st.sampled_from([*SUFFIXES, ".gift", ""]))
def test_format_detection_takes_any_text(text: str, suffix: str) -> None:
    assert detect_format("题库" + suffix, text) in FORMATS


PACKAGES["bank.xlsx"] = BANK_XLSX = render_xlsx(parse_bank(OWN_BANK)[1].questions)
PACKAGES["bank-template.xlsx"] = template_xlsx()


@FUZZ
@given(pk_bytes | arbitrary_zips | mutated_zips("bank.xlsx") | mutated_zips("bank-template.xlsx"))
def test_broken_xlsx_bank_raises_bank_format_error(content: bytes) -> None:
    try:
        result = parse_xlsx(content)
    except BankFormatError as error:
        assert str(error)
        return
    check_result(result)


BANK_CELLS = [
    "单选",
    "多选",
    "判断",
    "填空",
    "单项选择题",
    "是非题",
    "问答",
    "A",
    "AB",
    "A,B",
    "ａ、ｂ",
    "E",
    "对",
    "错",
    "√",
    "题干 ___ 和 ___",
    "哪一年？",
    "甲/乙|丙",
    "\\|",
    "/",
    "1",
    3,
    "难",
    "key-1",
    "key 1",
    "#N/A",
    "#REF!",
]


@FUZZ
@given(workbooks([*COLUMNS, "题目", "答案解析", "题型*", "答案（必填）"], BANK_CELLS))
def test_xlsx_bank_with_any_cells_gives_questions_and_problems(content: bytes) -> None:
    try:
        result = parse_xlsx(content)
    except BankFormatError as error:
        assert str(error)
        return
    check_result(result)
    assert all(re.match(r"第 \d+ 行", p.message) for p in result.problems)


# ================================================================ cadre rosters and lists

ROSTER_CELLS = [
    "张三",
    "李四",
    "买买提·艾力",
    "Anna Li",
    "焦作市总工会",
    "解放区总工会",
    "解放区",
    "工会主席",
    "13812345678",
    13812345678,
    13812345678.0,
    "+86 138 1234 5678",
    "1.38123E+10",
    "13800000001",
    "zhou",
    "男",
    "女",
    "M",
    "A01",
]
ROSTER_HEADERS = ["姓名", "单位", "职务", "手机号", "性别", "工号", "所在单位", "联系电话", "手机"]
UNITS = [
    UnitChoice(1, "焦作市总工会", "/1/"),
    UnitChoice(2, "解放区总工会", "/1/2/"),
    UnitChoice(3, "解放区教育工会", "/1/2/x/"),
]


def check_roster(filename: str, content: bytes) -> None:
    try:
        rows = read_table(filename, content)
    except ImportFileError as error:
        assert str(error)
        return
    plan = check_rows(rows, UNITS, {"13812345678"})
    assert all(p.row is None or p.message.startswith(f"第 {p.row} 行：") for p in plan.problems)


@FUZZ
@given(workbooks(ROSTER_HEADERS, ROSTER_CELLS), st.sampled_from(["名单.xlsx", "名单.csv"]))
def test_roster_workbook_with_any_cells_gives_rows_or_import_file_error(
    content: bytes, filename: str
) -> None:
    check_roster(filename, content)


PACKAGES["cadres.xlsx"] = cadre_template_xlsx()


@FUZZ
@given(pk_bytes | arbitrary_zips | mutated_zips("cadres.xlsx"))
def test_broken_roster_workbook_raises_import_file_error(content: bytes) -> None:
    check_roster("名单.xlsx", content)


LIST_HEADERS = ["姓名", "手机号", "工号", "用户名", "单位", "账号", "登录名", "所在单位", "电话"]
ACCOUNTS = [
    Account(
        1, "孙学员", "13800000001", "13800000001", "A01", "cadre", True, "解放区总工会", "/1/2/"
    ),
    Account(2, "周学员", "zhou", "13800000002", "A01", "cadre", False, "山阳区总工会", "/1/4/"),
    Account(3, "王管理", "wang", "", "", "unit_admin", True, "焦作市总工会", "/1/"),
]


def check_list(filename: str, content: bytes) -> None:
    try:
        rows = read_enrollment_table(filename, content)
    except ImportFileError as error:
        assert str(error)
        return
    plan = check_enrollment_rows(
        rows, ACCOUNTS, scope="/1/", enrolled={3}, batch_name="第一期", capacity=1,
        batch_enrolled=0,
    )  # fmt: skip
    assert all(p.row is None or p.message.startswith(f"第 {p.row} 行：") for p in plan.problems)


@FUZZ
@given(st.binary(max_size=300) | pk_bytes, st.sampled_from(["名单.xlsx", "名单.csv", "名单.xls"]))
def test_any_bytes_as_enrollment_list_raise_import_file_error(
    content: bytes, filename: str
) -> None:
    check_list(filename, content)


@MANY
@given(
    st.lists(st.lists(st.sampled_from(LIST_HEADERS) | st.text(max_size=8), max_size=6), max_size=8),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
)
def test_any_csv_as_enrollment_list_gives_rows_or_import_file_error(
    rows: list[list[str]], encoding: str
) -> None:
    check_list("名单.csv", csv_bytes(rows, encoding))


@FUZZ
@given(workbooks(LIST_HEADERS, ROSTER_CELLS) | arbitrary_zips | mutated_zips("cadres.xlsx"))
def test_enrollment_workbook_gives_rows_or_import_file_error(content: bytes) -> None:
    check_list("名单.xlsx", content)


@MANY
@given(st.text(max_size=300))
def test_any_upload_name_is_stored_safely(filename: str) -> None:
    stored = stored_filename(filename)
    assert 0 < len(stored) <= 255 and "/" not in stored and "\\" not in stored


def test_the_files_the_fuzzing_starts_from_are_valid() -> None:
    """The perturbed files start out valid, so the fuzzing reaches past the first checks."""
    module = parse_module(COURSE_MODULE)
    assert module.slug == "xuexi-daodu" and len(module.lessons) == 2 and module.note
    build_modules(PLAN_DOCUMENT, read_plan(PLAN), SourceInfo())
    assert parse_quiz_file(QUIZ).slug == "xuexi-daodu-quiz"
    header, own = parse_bank(OWN_BANK)
    assert header.slug == "xuexi-daodu" and own.ok and len(own.questions) == 4
    gift = parse_gift(GIFT_BANK)
    assert len(gift.questions) == 5 and len(gift.skipped) == 3 and not gift.problems
    assert parse_xlsx(BANK_XLSX).ok and parse_xlsx(PACKAGES["bank-template.xlsx"]).ok
    assert read_table("名单.xlsx", PACKAGES["cadres.xlsx"])[0].values["姓名"] == "张三"
    assert parse_document(read_text("a.docx", PLAIN_DOCX), "docx").sections[0].title == "总则"
