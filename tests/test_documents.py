"""app.course.documents: official documents (PDF text, .docx, .md, .txt) turned into outlines."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.course.documents import Document, Section, outline_json, parse_document, rejoin_lines
from app.course.text import DocumentError, read_text, source_for

NOTICE_PATH = Path(__file__).resolve().parent.parent / "course/sources/notice-jiaozuo-2023-93.txt"
NOTICE = NOTICE_PATH.read_text(encoding="utf-8")


def compact(text: str) -> str:
    return "".join(text.split())


def walk(sections: tuple[Section, ...]):
    for section in sections:
        yield section
        yield from walk(section.children)


def in_order(sections: tuple[Section, ...]):
    """The sections' paragraphs in reading order: own text, parts below, text after them."""
    for section in sections:
        yield from section.paragraphs
        yield from in_order(section.children)
        yield from section.after


def by_ref(document: Document) -> dict[str, Section]:
    return {section.source_ref: section for section in walk(document.sections)}


def all_text(document: Document, colon: str = "：") -> str:
    """Every piece of the outline in reading order (the addressees get their colon back)."""
    meta = document.meta
    pieces = [meta.doc_number or "", meta.title or ""]
    if meta.addressees:
        pieces.append(meta.addressees + colon)
    pieces.extend(document.preamble)
    pieces.extend(in_order(document.sections))
    pieces.extend(document.closing)
    pieces.extend([meta.issuer or "", meta.date or ""])
    return "".join(pieces)


def lines(*rows: str) -> str:
    return "\n".join(rows)


# ---------------------------------------------------------------- numbering styles

BASIC = lines(
    "测试单位关于开展测试工作的通知",
    "各测试单位：",
    "为做好测试工作，现将有关事项通知如下。",
    "一、总体要求",
    "坚持问题导向。",
    "（一）第一项要求。具体内容写在这里。",
    "1. 第一小项。",
    "（1）第一细项。",
    "（2）第二细项。",
    "2、第二小项。",
    "（二）第二项要求",
    "1．重新开始的小项。",
    "二、工作安排",
    "具体安排另行通知。",
    "测试单位",
    "2024年1月2日",
)


def test_every_numbering_style_nests_by_its_level() -> None:
    document = parse_document(BASIC)
    meta = document.meta
    assert meta.title == "测试单位关于开展测试工作的通知"
    assert meta.addressees == "各测试单位"
    assert (meta.issuer, meta.date, meta.doc_number) == ("测试单位", "2024年1月2日", None)
    assert document.preamble == ("为做好测试工作，现将有关事项通知如下。",)
    refs = by_ref(document)
    assert list(refs) == [
        "一",
        "一（一）",
        "一（一）1",
        "一（一）1（1）",
        "一（一）1（2）",
        "一（一）2",
        "一（二）",
        "一（二）1",
        "二",
    ]
    assert [refs[r].level for r in refs] == [1, 2, 3, 4, 4, 3, 2, 3, 1]
    assert [refs[r].number for r in refs] == [
        "一、",
        "（一）",
        "1.",
        "（1）",
        "（2）",
        "2、",
        "（二）",
        "1．",
        "二、",
    ]
    assert refs["一"].title == "总体要求"
    assert refs["一"].paragraphs == ("一、总体要求", "坚持问题导向。")
    assert refs["一（一）"].title == "第一项要求"  # run-in heading: its first sentence
    assert refs["一（二）"].title == "第二项要求"
    assert refs["一（一）1（2）"].paragraphs == ("（2）第二细项。",)
    assert refs["二"].paragraphs == ("二、工作安排", "具体安排另行通知。")
    assert document.closing == ()


@pytest.mark.parametrize("number", ["（二)", "(二）", "(二)", "（二）"])
def test_mismatched_and_half_width_brackets(number: str) -> None:
    document = parse_document(lines("一、要求", "（一）甲项。", f"{number}乙项。", "（三)丙项。"))
    (first,) = document.sections
    assert [c.source_ref for c in first.children] == ["一（一）", "一（二）", "一（三）"]
    assert first.children[1].number == number
    assert first.children[1].title == "乙项"
    assert first.children[2].number == "（三)"


def test_numbers_beyond_ten() -> None:
    numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三"]
    rows = [f"{n}、第{i}部分" for i, n in enumerate(numerals, 1)]
    rows[10:11] = [
        "十一、第11部分",
        *[f"（{n}）第{i}项。" for i, n in enumerate(numerals[:12], 1)],
        *[f"（{i}）细项{i}。" for i in range(1, 13)],
    ]
    document = parse_document(lines(*rows))
    assert [s.number for s in document.sections] == [f"{n}、" for n in numerals]
    eleven = document.sections[10]
    assert eleven.source_ref == "十一"
    assert eleven.children[-1].source_ref == "十一（十二）"
    assert [c.source_ref for c in eleven.children[-1].children][-2:] == [
        "十一（十二）（11）",
        "十一（十二）（12）",
    ]


def test_numbers_must_continue_their_sequence() -> None:
    document = parse_document(
        lines("一、甲", "二、乙", "四、不是标题，因为跳过了三。", "二十、也不是。")
    )
    assert [s.source_ref for s in document.sections] == ["一", "二"]
    assert document.sections[1].paragraphs == (
        "二、乙",
        "四、不是标题，因为跳过了三。",
        "二十、也不是。",
    )


def test_twenty_and_more() -> None:
    tens = ["十", "二十"]
    digits = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
    names = [*digits[1:], *(t + d for t in tens for d in digits)][:23]
    assert names[-4:] == ["二十", "二十一", "二十二", "二十三"]
    document = parse_document(lines(*(f"{n}、部分{n}" for n in names), "（一）分项。"))
    assert len(document.sections) == 23
    assert [s.source_ref for s in document.sections][-4:] == ["二十", "二十一", "二十二", "二十三"]
    assert document.sections[-1].children[0].source_ref == "二十三（一）"


def test_arabic_list_restarts_under_each_parent() -> None:
    document = parse_document(
        lines(
            "一、第一部分",
            "1. 甲。",
            "2. 乙。",
            "二、第二部分",
            "1. 丙。",
            "（一）分项",
            "1. 丁。",
            "2. 戊。",
            "（二）分项",
            "1. 己。",
        )
    )
    refs = list(by_ref(document))
    assert refs == [
        "一",
        "一1",
        "一2",
        "二",
        "二1",
        "二（一）",
        "二（一）1",
        "二（一）2",
        "二（二）",
        "二（二）1",
    ]
    assert by_ref(document)["二1"].level == 2  # the level is the depth in the outline


def test_prose_that_looks_numbered_is_not_a_heading() -> None:
    document = parse_document(
        lines(
            "一、总体要求",
            "2023年，全市工会完成了各项任务。",
            "1. 第一点。",
            "2. 第二点。",
            "1. 这一段以“1.”开头，但没有接续编号。",
            "3.5万名职工参加了活动。",
            "二、工作安排",
        )
    )
    first = document.sections[0]
    assert first.paragraphs == ("一、总体要求", "2023年，全市工会完成了各项任务。")
    assert [c.source_ref for c in first.children] == ["一1", "一2"]
    assert first.children[1].paragraphs == (
        "2.第二点。",
        "1.这一段以“1.”开头，但没有接续编号。",
        "3.5万名职工参加了活动。",
    )


# ---------------------------------------------------------------- line rejoining


def test_rejoin_the_notice() -> None:
    paragraphs = rejoin_lines(NOTICE)
    assert paragraphs[:3] == [
        "焦工文〔2023〕93号",
        "焦作市总工会关于认真学习宣传贯彻习近平总书记重要讲话精神努力完成中国工会十八大确定的"
        "目标任务的通知",
        "各县（市、区）总工会，高新技术产业开发区工会，各产业工会，市属各基层工会：",
    ]
    assert paragraphs[3].startswith("2023年10月9日至12日，中国工会第十八次全国代表大会胜利召开。")
    assert paragraphs[4] == (
        "一、提高政治站位，充分认识学习宣传贯彻习近平总书记重要讲话精神、"
        "落实中国工会十八大目标任务的重要意义"
    )
    assert paragraphs[-2:] == ["焦作市总工会", "2023年11月8日"]
    training = next(p for p in paragraphs if p.startswith("（二)"))
    assert training.startswith(
        "（二)认真抓好学习培训。要把学习宣传贯彻习近平总书记重要讲话精神作为"
    )
    assert training.endswith(
        "切实让习近平总书记重要讲话精神和中国工会十八大精神在基层落地生根、开花结果。"
    )
    results = next(p for p in paragraphs if p.startswith("（四）扎实推动"))
    assert "四风”，一体推进不敢腐" in results
    assert results.endswith("为党的工运事业和工会工作高质量发展提供坚强保障。")
    assert len(paragraphs) == 3 + 1 + 4 + 2 + 4 + 2 + 4 + 1 + 2
    assert compact("".join(paragraphs)) == compact(NOTICE)


def test_rejoin_spaces_between_digits_and_chinese_go_latin_spaces_stay() -> None:
    text = lines(
        "关于 2023年 10月 9日 会议的说明",  # not a document: a title-like line
        "请使用 Word 2016 或 WPS Office 打开附表，共 3 页。",
    )
    assert rejoin_lines(text, source="docx") == [
        "关于2023年10月9日会议的说明",
        "请使用Word 2016或WPS Office打开附表，共3页。",
    ]


PDF_LIKE = lines(
    "一、这是一个用来测试的很长的标题，它在排版时超过了一行宽度因而被",  # 30 wide characters
    "拆开成两行",
    "正文第一段的第一行在这里，这一段说明了测试的内容，它还没有写完，",
    "下面一行接着写，这一行虽然以句号结束，但它是整行，所以并不分段。",  # no break
    "第二行在这里结束了。",
    "",
    "第二段中间有空行，但空行本身并不表示分段，真正的分段要看上一行是",
    "",
    "否以句号结束并且明显短于周围的整行，这一段使用的词语是 Microsoft",
    "Word 2016，年份写作 2023年 10月，最后在这里结束。",
    "（一）小标题。接下来是正文，正文一直写到这一行的末尾，然后还有",
    "一点点内容。",
)


def test_rejoin_pdf_like_text() -> None:
    assert rejoin_lines(PDF_LIKE, source="pdf-text") == [
        "一、这是一个用来测试的很长的标题，它在排版时超过了一行宽度因而被拆开成两行",
        "正文第一段的第一行在这里，这一段说明了测试的内容，它还没有写完，"
        "下面一行接着写，这一行虽然以句号结束，但它是整行，所以并不分段。第二行在这里结束了。",
        "第二段中间有空行，但空行本身并不表示分段，真正的分段要看上一行是"
        "否以句号结束并且明显短于周围的整行，这一段使用的词语是Microsoft "
        "Word 2016，年份写作2023年10月，最后在这里结束。",
        "（一）小标题。接下来是正文，正文一直写到这一行的末尾，然后还有一点点内容。",
    ]


def test_docx_style_lines_are_never_joined() -> None:
    text = lines("一、标题", "没有句号的一行", "另一行")
    assert rejoin_lines(text, source="docx") == ["一、标题", "没有句号的一行", "另一行"]


# ---------------------------------------------------------------- the notice


@pytest.fixture(scope="module")
def notice() -> Document:
    return parse_document(NOTICE)


def test_notice_meta(notice: Document) -> None:
    assert notice.meta.doc_number == "焦工文〔2023〕93号"
    assert notice.meta.title == (
        "焦作市总工会关于认真学习宣传贯彻习近平总书记重要讲话精神努力完成中国工会十八大"
        "确定的目标任务的通知"
    )
    assert notice.meta.addressees == (
        "各县（市、区）总工会，高新技术产业开发区工会，各产业工会，市属各基层工会"
    )
    assert notice.meta.issuer == "焦作市总工会"
    assert notice.meta.date == "2023年11月8日"


def test_notice_preamble_and_closing(notice: Document) -> None:
    (preamble,) = notice.preamble
    assert preamble.startswith(
        "2023年10月9日至12日，中国工会第十八次全国代表大会胜利召开。10月23日"
    )
    assert preamble.endswith("现就做好全市工会系统学习宣传贯彻工作通知如下。")
    assert notice.closing == (
        "各县（市、区）总工会，高新技术产业开发区工会，各产业工会，市属各基层工会学习宣传贯彻"
        "习近平总书记重要讲话精神、落实中国工会十八大确定的目标任务情况要及时报告市总工会。",
    )


def test_notice_sections(notice: Document) -> None:
    one, two, three = notice.sections
    assert [s.source_ref for s in notice.sections] == ["一", "二", "三"]
    assert one.title == (
        "提高政治站位，充分认识学习宣传贯彻习近平总书记重要讲话精神、"
        "落实中国工会十八大目标任务的重要意义"
    )
    assert two.title == "深入学习领会，全面准确把握习近平总书记重要讲话精神和中国工会十八大精神"
    assert three.title == (
        "抓好学习贯彻，把习近平总书记重要讲话精神和中国工会十八大提出的目标任务落到实处"
    )
    assert len(one.paragraphs) == 4 and one.children == ()
    assert one.paragraphs[1].startswith("2023年10月9日至12日，中国工会第十八次全国代表大会在北京")
    assert one.paragraphs[1].endswith("是全国亿万职工群众政治生活中的一件大事。")
    assert one.paragraphs[3].endswith("全力投身现代化焦作建设，具有重大而深远的意义。")

    assert len(two.paragraphs) == 2 and two.paragraphs[1].endswith("会十八大精神。")
    assert [c.source_ref for c in two.children] == ["二（一）", "二（二）", "二（三）", "二（四）"]
    assert [c.title for c in two.children] == [
        "认真学习习近平总书记在同中华全国总工会新一届领导班子成员集体谈话时的重要讲话精神",
        "认真学习党中央致词精神",
        "认真学习中国工会十八大报告",
        "认真学习《中国工会章程（修正案）》",
    ]

    assert len(three.paragraphs) == 2 and three.paragraphs[1].endswith("迅速兴起学习宣传贯彻热潮。")
    assert [c.source_ref for c in three.children] == [
        "三（一）",
        "三（二）",
        "三（三）",
        "三（四）",
    ]
    assert [c.title for c in three.children] == [
        "精心组织舆论宣传",
        "认真抓好学习培训",
        "深入开展理论宣讲",
        "扎实推动落地见效",
    ]
    assert three.children[1].number == "（二)"
    for child in (*two.children, *three.children):
        assert child.level == 2 and child.children == ()
        assert len(child.paragraphs) == 1, child.source_ref  # blank lines did not split them
    assert (
        three.children[3].paragraphs[0].endswith("为党的工运事业和工会工作高质量发展提供坚强保障。")
    )


def test_notice_nothing_lost_nothing_invented(notice: Document) -> None:
    assert all_text(notice) == compact(NOTICE)
    for section in walk(notice.sections):
        assert compact(section.paragraphs[0]).startswith(section.number)
        for paragraph in section.paragraphs:
            assert paragraph == paragraph.strip() and "  " not in paragraph


def test_notice_outline_json_round_trips(notice: Document) -> None:
    data = outline_json(notice)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["meta"]["doc_number"] == "焦工文〔2023〕93号"
    second = data["sections"][1]
    assert set(second) == {
        "source_ref", "number", "title", "level", "paragraphs", "children", "after"
    }  # fmt: skip
    assert second["children"][3]["source_ref"] == "二（四）"
    assert data["closing"] == list(notice.closing)


def test_notice_in_other_kinds_of_input(notice: Document) -> None:
    """The same text, given as one line per paragraph, gives the same outline."""
    assert parse_document("\n".join(rejoin_lines(NOTICE)), source="docx") == notice


# ---------------------------------------------------------------- reading files


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b""), ("utf-8-sig", b""), ("gbk", b""), ("gb18030", b"")]
)
def test_read_text_encodings(encoding: str, prefix: bytes, notice: Document) -> None:
    content = prefix + NOTICE.encode(encoding)
    text = read_text("通知.TXT", content)
    assert text.lstrip("\ufeff") == NOTICE
    assert parse_document(text) == notice


def test_read_text_rejects_what_it_cannot_read() -> None:
    with pytest.raises(DocumentError, match=re.escape("不支持的文件类型“.pdf”")):
        read_text("通知.pdf", b"%PDF-1.7")
    with pytest.raises(DocumentError, match=r"旧版 Word 格式（\.doc）"):
        read_text("通知.doc", b"\xd0\xcf\x11\xe0")
    with pytest.raises(DocumentError, match="没有扩展名"):
        read_text("通知", b"abc")
    with pytest.raises(DocumentError, match=re.escape("文件“空.txt”是空的。")):
        read_text("空.txt", b"")
    with pytest.raises(DocumentError, match="是空的"):
        read_text("空.txt", "\ufeff \n\u3000\n".encode())
    with pytest.raises(DocumentError, match="文字编码无法识别"):
        read_text("乱码.txt", b"\xff\xff\x81\x30\xfe")
    with pytest.raises(DocumentError, match="文字编码无法识别"):
        read_text("笔记.md", "一、标题".encode("gbk"))


def test_parse_document_errors() -> None:
    with pytest.raises(DocumentError) as empty:
        parse_document(" \n\u3000\n")
    assert str(empty.value) == "文件是空的。"
    with pytest.raises(DocumentError) as flat:
        parse_document("第一段话。\n第二段话。\n第三段话。")
    message = str(flat.value)
    assert message.startswith("没有在文件中找到可识别的结构：未发现“一、”“（一）”")
    assert "“第一章”“第一条”" in message and "3 段" in message


# ---------------------------------------------------------------- markdown

MARKDOWN = """# 测试用学习提纲

为了测试，写下
这一段。

## 一、学习内容

### （一）第一项

正文一，
续行。
正文二。

### （二)第二项

## 二、工作要求

- 列表项一
- 列表项二

## 附录说明
没有编号的标题。
"""


def test_markdown_headings() -> None:
    assert source_for("提纲.md") == "markdown"
    document = parse_document(read_text("提纲.md", MARKDOWN.encode()))
    assert document.meta.title == "测试用学习提纲"
    assert document.preamble == ("为了测试，写下这一段。",)
    refs = by_ref(document)
    assert list(refs) == ["一", "一（一）", "一（二）", "二", "附录说明"]
    assert refs["一"].title == "学习内容"
    assert refs["一（一）"].paragraphs == ("（一）第一项", "正文一，续行。", "正文二。")
    assert refs["一（二）"].number == "（二)"
    assert refs["二"].paragraphs == ("二、工作要求", "-列表项一", "-列表项二")
    assert refs["附录说明"].number == ""
    assert refs["附录说明"].title == "附录说明"
    assert refs["附录说明"].paragraphs == ("附录说明", "没有编号的标题。")
    assert compact(all_text(document)) == compact(MARKDOWN).replace("#", "")


# ---------------------------------------------------------------- docx


def docx_bytes(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_paragraphs_and_tables() -> None:
    def build(document) -> None:
        document.add_paragraph("测试单位关于开展测试工作的通知")
        document.add_paragraph("各测试单位：")
        document.add_paragraph("为做好测试工作，现将有关事项通知如下。")
        document.add_heading("一、总体要求", level=1)
        document.add_paragraph("这一段没有句号结尾，但它是单独的段落")
        document.add_paragraph("")
        document.add_paragraph("第二段。")
        document.add_heading("二、报名安排", level=1)
        document.add_paragraph("（一）报名方式。见下表。")
        table = document.add_table(rows=3, cols=2)
        table.cell(0, 0).text = "单位"
        table.cell(0, 1).text = "人数"
        table.cell(1, 0).text = "测试单位"
        table.cell(1, 1).text = "10"
        table.cell(2, 0).merge(table.cell(2, 1)).text = "合并单元格只读一次"
        document.add_paragraph("（二）报名时间。2024年 1月 10日前。")
        document.add_paragraph("测试单位")
        document.add_paragraph("2024年1月2日")

    filename = "通知.docx"
    text = read_text(filename, docx_bytes(build))
    assert "\n\n" in text  # the empty paragraph is a blank line
    document = parse_document(text, source=source_for(filename))
    assert parse_document(text) == document  # detected as one paragraph per line
    assert document.meta.title == "测试单位关于开展测试工作的通知"
    assert document.meta.issuer == "测试单位"
    one, two = document.sections
    assert one.paragraphs == ("一、总体要求", "这一段没有句号结尾，但它是单独的段落", "第二段。")
    assert [c.source_ref for c in two.children] == ["二（一）", "二（二）"]
    assert two.children[0].paragraphs == (
        "（一）报名方式。见下表。",
        *("单位", "人数", "测试单位", "10", "合并单元格只读一次"),
    )
    assert two.children[1].paragraphs == ("（二）报名时间。2024年1月10日前。",)


def test_empty_and_broken_docx() -> None:
    with pytest.raises(DocumentError, match=re.escape("文件“空白.docx”是空的。")):
        read_text("空白.docx", docx_bytes(lambda document: None))
    with pytest.raises(DocumentError) as broken:
        read_text("假的.docx", "一、这其实是文本文件".encode())
    assert str(broken.value) == "文件“假的.docx”无法读取：它不是有效的 Word 文档（.docx）。"
    with pytest.raises(DocumentError, match="不是有效的 Word 文档"):
        read_text("坏的.docx", b"PK\x03\x04" + b"\x00" * 40)


# ---------------------------------------------------------------- charter style

TEST_CHARTER = lines(
    "测试用章程（非正式文本）",
    "总则",
    "本文本仅用于测试大纲解析功能，不是任何组织的正式章程。",
    "测试协会是由测试人员自愿组成的虚构组织。",
    "第一章　会员",
    "第一条　凡承认本测试章程的人员，均可申请成为会员。",
    "第二条　会员享有下列权利：",
    "（一）参加本会组织的活动；",
    "（二）对本会工作提出建议。",
    "第三条　会员履行下列义务：",
    "遵守本测试章程。",
    "按时参加活动。",
    "第二章　组织",
    "第四条　本会实行民主议事。",
    "第五条　本会设理事会。",
    "第三章　附则",
    "第六条　本测试章程由理事会负责解释。",
)


def test_charter_style_test_document() -> None:
    document = parse_document(TEST_CHARTER)
    assert document.meta.title == "测试用章程（非正式文本）"
    assert document.preamble == ()
    assert [(s.source_ref, s.number, s.title, s.level) for s in document.sections] == [
        ("总则", "", "总则", 1),
        ("第一章", "第一章", "会员", 1),
        ("第二章", "第二章", "组织", 1),
        ("第三章", "第三章", "附则", 1),
    ]
    general = document.sections[0]
    assert general.paragraphs == (
        "总则",
        "本文本仅用于测试大纲解析功能，不是任何组织的正式章程。",
        "测试协会是由测试人员自愿组成的虚构组织。",
    )
    refs = by_ref(document)
    assert [r for r in refs if "条" in r] == [
        "第一章 第一条",
        "第一章 第二条",
        "第一章 第二条（一）",
        "第一章 第二条（二）",
        "第一章 第三条",
        "第二章 第四条",
        "第二章 第五条",
        "第三章 第六条",
    ]
    article = refs["第一章 第三条"]
    assert (article.number, article.title, article.level) == ("第三条", "", 2)
    assert article.paragraphs == ("第三条会员履行下列义务：", "遵守本测试章程。", "按时参加活动。")
    assert refs["第一章 第二条（一）"].title == "参加本会组织的活动"
    assert refs["第一章 第二条（一）"].level == 3
    assert document.closing == ()
    assert all_text(document) == compact(TEST_CHARTER)


# Written for these tests; not the text of any real rules. An article's items, then a
# paragraph of the article after them.
ITEMS_THEN_TEXT = lines(
    "测试小组工作办法（非正式文本）",
    "第一条　为测试大纲解析，制定本测试办法。",
    "第二条　测试小组履行下列职责：",
    "（一）编写测试文本；",
    "（二）核对解析结果。",
    "测试小组的职责由组长分工落实。",
    "组长每月检查一次。",
    "第三条　测试小组履行职责，可以请求下列协助：",
    "（一）提供样例文件；",
    "（二）说明文件格式：",
    "1. 文件的编码；",
    "2. 文件的版式。",
    "提供协助的单位应当及时答复。",
    "第四条　测试小组每月汇总一次结果。",
)


def test_text_after_an_articles_items_belongs_to_the_article() -> None:
    document = parse_document(ITEMS_THEN_TEXT)
    refs = by_ref(document)
    assert refs["第二条（二）"].paragraphs == ("（二）核对解析结果。",)
    assert refs["第二条"].paragraphs == ("第二条测试小组履行下列职责：",)
    assert refs["第二条"].after == ("测试小组的职责由组长分工落实。", "组长每月检查一次。")
    assert refs["第三条（二）2"].paragraphs == ("2.文件的版式。",)
    assert refs["第三条"].after == ("提供协助的单位应当及时答复。",)
    assert refs["第四条"].paragraphs == ("第四条测试小组每月汇总一次结果。",)
    assert all_text(document) == compact(ITEMS_THEN_TEXT)  # in reading order
    assert rejoin_lines(ITEMS_THEN_TEXT)[4:7] == [
        "（二）核对解析结果。",
        "测试小组的职责由组长分工落实。",
        "组长每月检查一次。",
    ]
    assert outline_json(document)["sections"][1]["after"] == list(refs["第二条"].after)
    # A notice's subsection goes on after its heading: only an article's items are closed.
    notice = parse_document(lines("一、总体要求", "（一）加强领导。", "各单位要重视。"))
    assert by_ref(notice)["一（一）"].paragraphs == ("（一）加强领导。", "各单位要重视。")


def test_an_item_that_does_not_end_its_list_keeps_the_next_paragraph() -> None:
    document = parse_document(
        lines("第一条　测试小组负责：", "（一）编写测试文本，", "并及时更新；", "（二）核对结果。")
    )
    refs = by_ref(document)
    assert refs["第一条（一）"].paragraphs == ("（一）编写测试文本，", "并及时更新；")
    assert refs["第一条"].after == ()


def test_articles_under_general_provisions_and_restarted_numbers() -> None:
    document = parse_document(
        lines(
            "总则", "第一条　甲。", "第二条　乙。", "第一章　细则", "第三条　丙。", "第一条　丁。"
        )
    )
    refs = list(by_ref(document))
    assert refs == ["总则", "总则 第一条", "总则 第二条", "第一章", "第一章 第三条"]
    assert by_ref(document)["第一章 第三条"].paragraphs == ("第三条丙。", "第一条丁。")


def test_attachments_and_closing_request_leave_the_last_section() -> None:
    document = parse_document(
        lines(
            "各单位：",
            "一、要求",
            "认真落实。",
            "请各单位于3月1日前报送工作总结。",
            "附件：1. 报名表",
            "2. 统计表",
            "测试单位",
            "2024年2月1日",
        )
    )
    assert document.meta.addressees == "各单位"
    assert document.sections[0].paragraphs == ("一、要求", "认真落实。")
    assert document.closing == (
        "请各单位于3月1日前报送工作总结。",
        "附件：1.报名表",
        "2.统计表",
    )


# ---------------------------------------------------------------- arbitrary input

FRAGMENTS = [
    "一、",
    "二、",
    "十一、",
    "（一）",
    "（二)",
    "(三)",
    "1.",
    "2、",
    "（1）",
    "第一章",
    "第二章 会员",
    "第一条",
    "第二条",
    "总则",
    "附件：",
    "2023年 10月 9日",
    "焦工文〔2023〕93 号",
    "的通知",
    "各单位：",
    "工会工作",
    "Word 2016",
    "。",
    "，",
    "：",
    "；",
    " ",
    "\u3000",
    "\n",
    "\n\n",
    "\r\n",
    "# ",
    "## ",
    "- ",
    "特此通知。",
    "焦作市总工会",
]
document_like = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=document_like, filename=st.sampled_from(["a.txt", "a.md"]))
def test_arbitrary_text_only_raises_document_error(text: str, filename: str) -> None:
    try:
        document = parse_document(read_text(filename, text.encode("utf-8")))
    except DocumentError:
        return
    ignored = str.maketrans("", "", "#：:\ufeff")  # heading marks; the addressees' colon
    assert compact(all_text(document, colon="")).translate(ignored) == compact(text).translate(
        ignored
    )
    json.dumps(outline_json(document))


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200), filename=st.sampled_from(["a.txt", "a.md", "a.docx"]))
def test_arbitrary_bytes_only_raise_document_error(content: bytes, filename: str) -> None:
    try:
        text = read_text(filename, content)
    except DocumentError:
        return
    assert text.strip()


@settings(max_examples=200, deadline=None)
@given(text=document_like, source=st.sampled_from(["pdf-text", "docx", "markdown"]))
def test_every_source_keeps_all_text(text: str, source: str) -> None:
    paragraphs = rejoin_lines(text, source=source)
    ignored = str.maketrans("", "", "#") if source == "markdown" else {}
    assert compact("".join(paragraphs)).translate(ignored) == compact(text).translate(ignored)
