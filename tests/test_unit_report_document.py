"""app.unit_reports.document: the 学习贯彻情况报告 drafts (.docx) read back with python-docx,
and the unit's report opened in LibreOffice Writer, as a reader of the file would see it."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from app.unit_reports.document import city_report_docx, unit_report_docx
from app.unit_reports.figures import (
    ActivityItem,
    ReportFigures,
    TrainingFigures,
    activity_figures,
    training_totals,
)
from tests.office_support import convert, require_office

UNIT = "修武县总工会"
ROUND = "关于认真学习宣传贯彻习近平总书记重要讲话精神努力完成中国工会十八大确定的目标任务的通知"
NUMBER = "焦工文〔2023〕93号"
SIGNED = date(2026, 12, 4)

ITEMS = (
    ActivityItem(
        held_on=date(2023, 11, 15),
        kind="publicity",
        form="新媒体",
        title="公众号开设学习宣传专栏",
        place="",
        participants=0,
        speaker="",
        summary="刊发学习体会文章。",
        unit_name=UNIT,
    ),
    ActivityItem(
        held_on=date(2023, 11, 20),
        kind="study",
        form="专题学习会",
        title="学习贯彻工会十八大精神专题学习会",
        place="县总工会三楼会议室",
        participants=45,
        speaker="县总工会主席",
        summary="传达学习重要讲话精神。",
        unit_name=UNIT,
    ),
    ActivityItem(
        held_on=date(2023, 11, 28),
        kind="study",
        form="集中轮训",
        title="基层工会干部集中轮训班",
        place="县职工学校",
        participants=60,
        speaker="",
        summary="分两期轮训基层工会主席。",
        unit_name=UNIT,
    ),
    ActivityItem(
        held_on=date(2023, 12, 5),
        kind="lecture",
        form="微宣讲",
        title="微宣讲进车间",
        place="产业园一号车间",
        participants=30,
        speaker="劳模宣讲员",
        summary="把大会精神讲到生产一线。",
        unit_name=UNIT,
    ),
)
SPECIAL = TrainingFigures("special", trainings=3, enrolled=120, completed=102, scored=100)
SPECIAL = replace(SPECIAL, score_sum=8650.0)
ROTATION = TrainingFigures("rotation", trainings=1)  # nobody enrolled yet
TRAINING_ROWS = [
    ["培训类别", "培训项目数", "应训人次", "已完成人次", "完成率", "平均成绩"],
    ["专题培训", "3", "120", "102", "85.0%", "86.5"],
    ["集中轮训", "1", "0", "0", "—", "—"],
    ["合计", "4", "120", "102", "85.0%", "86.5"],
]
CREDIT_SENTENCE = (
    f"2023年全{UNIT}共有干部120人，累计获得学时1500.5学时，人均12.5学时；达到年度学时要求的96人。"
)
KIND_SENTENCES = {
    "一、舆论宣传情况": "本单位工作台账共记录舆论宣传活动1次，其中新媒体1次。",  # no one counted
    "二、学习培训情况": (
        "本单位工作台账共记录学习培训活动2次，参加人数合计105人次，其中专题学习会1次、集中轮训1次。"
    ),
    "三、理论宣讲情况": "本单位工作台账共记录理论宣讲活动1次，参加人数合计30人次，其中微宣讲1次。",
    "四、落地见效情况": "本单位工作台账中暂无落地见效活动记录。【请补充落地见效工作开展情况】",
}


def figures(**changes) -> ReportFigures:
    base = ReportFigures(
        unit_name=UNIT,
        unit_kind="county_federation",
        round_title=ROUND,
        doc_number=NUMBER,
        as_of=date(2026, 12, 4),
        trainings=(SPECIAL, ROTATION, training_totals([SPECIAL, ROTATION], 4)),
        organised=2,
        credit_year=2023,
        cadres=120,
        credit_hours=1500.5,
        meeting_requirement=96,
        requirement_set=True,
        activities=activity_figures(ITEMS),
        items=ITEMS,
    )
    return replace(base, **changes)


def unit_doc(f: ReportFigures | None = None):
    content = unit_report_docx(f or figures(), addressee="焦作市总工会", signed_on=SIGNED)
    return docx.Document(io.BytesIO(content))


def city_doc():
    content = city_report_docx(
        figures(unit_name="焦作市总工会"),
        reported=[
            ("county_federation", "县（市、区）总工会", 6, 5),
            ("zone_union", "高新区工会", 1, 1),
            ("industry_union", "产业工会", 8, 3),
        ],
        deadline=date(2026, 12, 31),
        signed_on=SIGNED,
    )
    return docx.Document(io.BytesIO(content))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def sections(document) -> dict[str, list[str]]:
    """Each 一、… heading's text → the paragraphs under it, up to the next one."""
    out: dict[str, list[str]] = {}
    current = None
    for p in document.paragraphs:
        if p.style.name == "一级标题":
            current = out.setdefault(p.text, [])
        elif current is not None:
            current.append(p.text)
    return out


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def east_asia(style) -> str | None:
    return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def compact(text: str) -> str:
    return "".join(text.split())


# ------------------------------------------------------------------------------ unit report


def test_title_addressee_opening_and_signature():
    document = unit_doc()
    paragraphs = document.paragraphs
    assert paragraphs[0].text == f"{UNIT}关于学习贯彻情况的报告"
    assert paragraphs[0].style.name == "公文标题"
    assert paragraphs[0].style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    addressee = next(p for p in paragraphs if p.text.endswith("："))
    assert addressee.text == "焦作市总工会："
    assert addressee.style.paragraph_format.first_line_indent == 0
    assert addressee.alignment in (None, WD_ALIGN_PARAGRAPH.LEFT)
    assert f"根据市总工会《{ROUND}》（{NUMBER}）要求，现将{UNIT}学习贯彻情况报告如下。" in texts(
        document
    )
    blank, name, day = paragraphs[-3:]
    assert (blank.text, name.text, day.text) == ("", UNIT, "2026年12月4日")
    assert name.alignment == day.alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_opening_leaves_out_an_empty_doc_number():
    opening = texts(unit_doc(figures(doc_number="")))
    assert f"根据市总工会《{ROUND}》要求，现将{UNIT}学习贯彻情况报告如下。" in opening
    assert not any("（）" in t for t in opening)


def test_four_kinds_of_work_then_next_steps():
    document = unit_doc()
    assert list(sections(document)) == [*KIND_SENTENCES, "五、下一步工作打算"]
    assert [p.text for p in document.paragraphs if p.style.name == "二级标题"] == [
        "（一）学习培训活动开展情况",
        "（二）干部培训完成情况",
    ]
    assert sections(document)["五、下一步工作打算"][0] == "【请补充下一步工作打算】"


def test_each_kind_counted_and_each_entry_listed_under_it():
    parts = sections(unit_doc())
    for heading, sentence in KIND_SENTENCES.items():
        assert sentence in parts[heading], heading
    study = parts["二、学习培训情况"]
    assert (
        "1．2023年11月20日，学习贯彻工会十八大精神专题学习会。地点：县总工会三楼会议室；"
        "形式：专题学习会；参加人数：45人；主讲人：县总工会主席。传达学习重要讲话精神。"
    ) in study
    assert any(t.startswith("2．2023年11月28日，基层工会干部集中轮训班。") for t in study)
    assert any("参加人数：60人" in t for t in study)
    lecture = parts["三、理论宣讲情况"]
    assert any("2023年12月5日，微宣讲进车间" in t and "参加人数：30人" in t for t in lecture)
    publicity = parts["一、舆论宣传情况"]
    assert any("2023年11月15日，公众号开设学习宣传专栏" in t for t in publicity)
    assert not any("参加人数：0人" in t for t in publicity)
    everywhere = "".join(t for body in parts.values() for t in body)
    for item in ITEMS:
        assert everywhere.count(item.title) == 1, item.title
    assert "【请补充" not in "".join(parts["二、学习培训情况"] + parts["三、理论宣讲情况"])


def test_training_table_cell_by_cell_and_credit_sentence():
    document = unit_doc()
    assert len(document.tables) == 1
    assert table_rows(document.tables[0]) == TRAINING_ROWS
    study = sections(document)["二、学习培训情况"]
    sentence = next(t for t in study if t.startswith("本轮纳入统计的培训项目"))
    assert sentence.startswith(
        "本轮纳入统计的培训项目共4个，应训120人次，已完成102人次，完成率85.0%，平均成绩86.5分；"
        "其中本单位及所属单位组织开展2个。"
    )
    assert "专题培训3个，应训120人次，已完成102人次，完成率85.0%，平均成绩86.5分" in sentence
    assert "集中轮训1个，暂无应训人次" in sentence
    assert sentence.endswith(CREDIT_SENTENCE)


def test_credit_sentence_without_a_requirement():
    document = unit_doc(figures(requirement_set=False, credit_hours=1440.0))
    body = "".join(texts(document))
    assert f"2023年全{UNIT}共有干部120人，累计获得学时1440学时，人均12学时。" in body
    assert "达到年度学时要求" not in body


def test_fonts_sizes_and_spacing_come_from_the_styles():
    document = unit_doc()
    styles = document.styles
    expected = {
        "Normal": ("仿宋_GB2312", 16),
        "公文标题": ("方正小标宋简体", 22),
        "一级标题": ("黑体", 16),
        "二级标题": ("楷体_GB2312", 16),
    }
    for name, (font, size) in expected.items():
        assert east_asia(styles[name]) == font, name
        assert styles[name].font.size == Pt(size), name
    normal = styles["Normal"].paragraph_format
    assert normal.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert normal.line_spacing == Pt(28)
    indent = styles["Normal"].element.pPr.find(qn("w:ind"))
    assert indent.get(qn("w:firstLineChars")) == "200"
    assert normal.first_line_indent == Pt(32)
    defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    assert defaults.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None
    used = {p.style.name for p in document.paragraphs}
    assert {"Normal", "公文标题", "一级标题", "二级标题"} <= used
    runs = [r for p in document.paragraphs for r in p.runs]
    assert runs and all(r._r.rPr is None for r in runs)  # nothing set run by run


def test_page_size_margins_and_page_numbers():
    document = unit_doc()
    section = document.sections[0]
    sizes = (section.page_width, section.page_height)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(length.mm, 1) for length in sizes] == [210, 297]  # A4, stored in twips
    assert [round(length.mm, 1) for length in margins] == [37, 35, 28, 26]
    for footer in (section.footer, section.even_page_footer):
        paragraph = footer.paragraphs[0]
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        fields = paragraph._p.findall(qn("w:fldSimple"))
        assert [f.get(qn("w:instr")).strip() for f in fields] == ["PAGE"]
    assert section.footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert section.even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT


def test_markup_characters_in_names_survive():
    name = "A&B<县>\"职工\"'总工会'"
    title = '学习<会> & "交流"'
    item = replace(ITEMS[1], title=title, unit_name=name)
    document = unit_doc(figures(unit_name=name, items=(item,), activities=activity_figures([item])))
    paragraphs = texts(document)
    assert paragraphs[0] == f"{name}关于学习贯彻情况的报告"
    assert paragraphs[-2] == name
    assert any(title in t for t in paragraphs)
    assert any(f"2023年全{name}共有干部120人" in t for t in paragraphs)


# ------------------------------------------------------------------------------ city report


def test_city_report_has_the_reporting_status_and_counts_only():
    document = city_doc()
    paragraphs = texts(document)
    assert paragraphs[0] == "焦作市总工会关于全市工会系统学习贯彻情况的报告"
    assert "【主送机关】：" in paragraphs
    opening = next(t for t in paragraphs if t.startswith("按照"))
    assert f"《{ROUND}》（{NUMBER}）" in opening
    assert "2026年12月31日前" in opening
    assert "应报送单位15个，已报送9个，未报送6个" in opening
    status, training = document.tables
    assert table_rows(status) == [
        ["类别", "应报送", "已报送", "未报送"],
        ["县（市、区）总工会", "6", "5", "1"],
        ["高新区工会", "1", "1", "0"],
        ["产业工会", "8", "3", "5"],
        ["合计", "15", "9", "6"],
    ]
    assert table_rows(training) == TRAINING_ROWS
    parts = sections(document)
    assert list(parts) == [*KIND_SENTENCES, "五、下一步工作打算"]
    for heading, sentence in KIND_SENTENCES.items():
        assert sentence.replace("本单位", "全市工会系统") in parts[heading], heading
    body = "".join(paragraphs)
    assert "全市各级工会组织开展2个" in body
    assert "2023年全市工会系统共有干部120人，累计获得学时1500.5学时" in body
    for item in ITEMS:
        assert item.title not in body
    assert paragraphs[-2:] == ["焦作市总工会", "2026年12月4日"]
    assert document.paragraphs[-1].alignment == WD_ALIGN_PARAGRAPH.RIGHT


# ------------------------------------------------------------------------------ LibreOffice


def test_libreoffice_writer_reads_the_same_figures(tmp_path):
    """Does Word see the same thing: the unit's report as LibreOffice Writer reads it."""
    require_office("writer")
    source = tmp_path / "report.docx"
    source.write_bytes(unit_report_docx(figures(), addressee="焦作市总工会", signed_on=SIGNED))
    convert([source], tmp_path / "out", tmp_path / "profile", "txt:Text")
    converted = tmp_path / "out" / "report.txt"
    assert converted.exists()
    lines = [line.strip().lstrip("\ufeff") for line in converted.read_text("utf-8").splitlines()]
    text = compact("".join(lines))
    assert lines[0] == f"{UNIT}关于学习贯彻情况的报告"
    assert "焦作市总工会：" in lines
    for sentence in KIND_SENTENCES.values():
        assert sentence in text
    for item in ITEMS:
        assert item.title in text
    assert CREDIT_SENTENCE in text
    cells = [cell for row in TRAINING_ROWS for cell in row]
    start = lines.index("培训类别")
    assert lines[start : start + len(cells)] == cells
    assert lines[-2:] == [UNIT, "2026年12月4日"]
