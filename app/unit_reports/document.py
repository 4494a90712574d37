"""The 学习贯彻情况报告 as a draft .docx (pure): a unit's report to the city federation, and
the city federation's own report with the city-wide totals, both written from `ReportFigures`
in the layout of 党政机关公文格式 (GB/T 9704): A4, 三号仿宋 body at a fixed 28 pt line,
二号小标宋 title, 黑体 and 楷体 headings, page numbers as "— 1 —".

Every figure comes from the figures; what only the unit can say is left as a 【请补充……】
fill-in for it to write.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from app.lib.forms import typed_text
from app.reports.summary import percent
from app.tables import ACTIVITY_KINDS
from app.trainings.credit_rules import hours_text
from app.unit_reports.figures import ACTIVITY_FORMS, ReportFigures, TrainingFigures

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"

BODY = "Normal"
TITLE = "公文标题"
HEADING_1 = "一级标题"
HEADING_2 = "二级标题"
PLAIN = "顶格正文"  # 主送, 落款: no first-line indent
CELL = "表格文字"
CELL_HEAD = "表格表头"

NUMERALS = "一二三四五六七八九十"
TRAINING_HEADER = ("培训类别", "培训项目数", "应训人次", "已完成人次", "完成率", "平均成绩")
REPORTING_HEADER = ("类别", "应报送", "已报送", "未报送")

Doc = Any  # docx.document.Document


# ------------------------------------------------------------------------------ layout


def _fonts(rpr: Any, font: str, latin: str = LATIN) -> None:
    """Set the fonts of a style's (or the defaults') run properties, East Asian included,
    dropping the theme fonts that would override them."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute, value in (("ascii", latin), ("hAnsi", latin), ("eastAsia", font), ("cs", font)):
        rfonts.set(qn(f"w:{attribute}"), value)


def _style(doc: Doc, name: str, font: str, size: float, *, indent: bool, outline: int = -1) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles[BODY]
    style.quick_style = True
    style.font.size = Pt(size)
    _fonts(style.element.get_or_add_rPr(), font)
    if not indent:
        _indent(style, chars=0)
    if outline >= 0:
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(outline))
        style.element.get_or_add_pPr().append(level)
        style.paragraph_format.keep_with_next = True
    return style


def _indent(style: Any, chars: int) -> None:
    """A first-line indent of `chars` characters (Word keeps it right at any font size)."""
    style.paragraph_format.first_line_indent = Pt(16 * chars)
    ind = style.element.get_or_add_pPr().find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _document() -> Doc:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Pt(14)  # the page number 7 mm below the text

    defaults = doc.styles.element.find(qn("w:docDefaults"))
    default_run = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(default_run, FANGSONG)
    default_run.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")

    body = doc.styles[BODY]
    body.font.size = Pt(16)
    _fonts(body.element.get_or_add_rPr(), FANGSONG)
    body.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    body.paragraph_format.line_spacing = Pt(28)
    body.paragraph_format.space_after = Pt(0)
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _indent(body, chars=2)

    title = _style(doc, TITLE, XIAOBIAOSONG, 22, indent=False)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.line_spacing = Pt(35)
    _style(doc, HEADING_1, HEITI, 16, indent=True, outline=0)
    _style(doc, HEADING_2, KAITI, 16, indent=True, outline=1)
    _style(doc, PLAIN, FANGSONG, 16, indent=False)
    for name, font in ((CELL, FANGSONG), (CELL_HEAD, HEITI)):
        cell = _style(doc, name, font, 14, indent=False)
        cell.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraph_format.line_spacing = Pt(22)
    _page_numbers(doc)
    return doc


def _page_numbers(doc: Doc) -> None:
    """ "— 1 —" in 四号宋体: odd pages on the right, even pages on the left, one character in."""
    footer = doc.styles["Footer"]
    footer.font.size = Pt(14)
    _fonts(footer.element.get_or_add_rPr(), SONGTI)
    _indent(footer, chars=0)
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for part, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = part.paragraphs[0]
        paragraph.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = Pt(14)
        else:
            paragraph.paragraph_format.left_indent = Pt(14)
        paragraph.add_run("— ")
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        paragraph._p.append(field)
        paragraph.add_run(" —")


def _save(doc: Doc, title: str, author: str) -> bytes:
    doc.core_properties.title = title
    doc.core_properties.author = author
    doc.core_properties.last_modified_by = author
    doc.core_properties.comments = ""
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------ parts


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _para(doc: Doc, text: str, style: str = BODY, align: Any = None) -> None:
    # typed_text: a character Word cannot hold, from text stored before it was checked,
    # must not stop the document being made.
    paragraph = doc.add_paragraph(typed_text(text), style=doc.styles[style])
    if align is not None:
        paragraph.alignment = align


def _opening_lines(doc: Doc, title: str, addressee: str) -> None:
    _para(doc, title, TITLE)
    _para(doc, "", PLAIN)
    _para(doc, f"{addressee}：", PLAIN)


def _table(doc: Doc, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    table = doc.add_table(rows=0, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for n, line in enumerate((header, *rows)):
        cells = table.add_row().cells
        for cell, value in zip(cells, line, strict=True):
            cell.paragraphs[0].text = typed_text(value)
            cell.paragraphs[0].style = doc.styles[CELL_HEAD if n == 0 else CELL]


def _kind_summary(figures: ReportFigures, kind: str, who: str) -> str:
    activity = figures.activity(kind)
    label = ACTIVITY_KINDS[kind]
    if not activity.count:
        return f"{who}工作台账中暂无{label}活动记录。【请补充{label}工作开展情况】"
    order = dict.fromkeys([*ACTIVITY_FORMS.get(kind, ()), *sorted(activity.by_form)])
    forms = "、".join(f"{f}{activity.by_form[f]}次" for f in order if f in activity.by_form)
    text = f"{who}工作台账共记录{label}活动{activity.count}次"
    if activity.participants:
        text += f"，参加人数合计{activity.participants}人次"
    return f"{text}，其中{forms}。" if forms else f"{text}。"


def _items(doc: Doc, figures: ReportFigures, kind: str) -> None:
    mine = [i for i in figures.items if i.kind == kind]
    for n, item in enumerate(mine, start=1):
        details = [
            f"地点：{item.place}" if item.place else "",
            f"形式：{item.form}" if item.form else "",
            f"参加人数：{item.participants}人" if item.participants else "",
            f"主讲人：{item.speaker}" if item.speaker else "",
        ]
        said = "；".join(d for d in details if d)
        text = f"{n}．{date_text(item.held_on)}，{item.title}。" + (f"{said}。" if said else "")
        _para(doc, text + item.summary.strip())


def _training_sentence(figures: ReportFigures, scope: str, organisers: str) -> str:
    def line(t: TrainingFigures) -> str:
        if not t.enrolled:
            return f"{t.trainings}个，暂无应训人次"
        score = "" if t.average_score is None else f"，平均成绩{t.average_score:.1f}分"
        return (
            f"{t.trainings}个，应训{t.enrolled}人次，已完成{t.completed}人次，"
            f"完成率{percent(t.rate)}{score}"
        )

    kinds = "；".join(t.label + line(t) for t in figures.trainings[:-1])
    text = (
        f"本轮纳入统计的培训项目共{line(figures.total)}；其中{organisers}组织开展"
        f"{figures.organised}个。分类别看，{kinds}。"
        f"{figures.credit_year}年{scope}共有干部{figures.cadres}人，"
        f"累计获得学时{hours_text(figures.credit_hours)}学时"
    )
    if figures.average_hours is not None:
        text += f"，人均{hours_text(figures.average_hours)}学时"
    if figures.requirement_set:
        text += f"；达到年度学时要求的{figures.meeting_requirement}人"
    return text + "。"


def _training_table(doc: Doc, figures: ReportFigures) -> None:
    _table(
        doc,
        TRAINING_HEADER,
        (
            (
                t.label,
                str(t.trainings),
                str(t.enrolled),
                str(t.completed),
                percent(t.rate),
                "—" if t.average_score is None else f"{t.average_score:.1f}",
            )
            for t in figures.trainings
        ),
    )


def _sections(doc: Doc, figures: ReportFigures, *, city: bool) -> None:
    """一、 to 四、: the four kinds of work of part 三 of the notice; 学习培训 with the
    platform's training figures. A unit lists its entries; the city only counts them."""
    who = "全市工会系统" if city else "本单位"
    scope = "全市工会系统" if city else f"全{figures.unit_name}"
    organisers = "全市各级工会" if city else "本单位及所属单位"
    for n, kind in enumerate(ACTIVITY_KINDS):
        _para(doc, f"{NUMERALS[n]}、{ACTIVITY_KINDS[kind]}情况", HEADING_1)
        if kind == "study":
            _para(doc, "（一）学习培训活动开展情况", HEADING_2)
        _para(doc, _kind_summary(figures, kind, who))
        if not city:
            _items(doc, figures, kind)
        if kind == "study":
            _para(doc, "（二）干部培训完成情况", HEADING_2)
            _para(doc, _training_sentence(figures, scope, organisers))
            _training_table(doc, figures)
    _para(doc, f"{NUMERALS[len(ACTIVITY_KINDS)]}、下一步工作打算", HEADING_1)
    _para(doc, "【请补充下一步工作打算】")


def _signature(doc: Doc, name: str, signed_on: date) -> None:
    _para(doc, "", PLAIN)
    _para(doc, name, PLAIN, WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, date_text(signed_on), PLAIN, WD_ALIGN_PARAGRAPH.RIGHT)


# ------------------------------------------------------------------------------ documents


def unit_report_docx(figures: ReportFigures, *, addressee: str, signed_on: date) -> bytes:
    """A unit's 学习贯彻情况报告 to `addressee` (the city federation), as a .docx."""
    title = f"{figures.unit_name}关于学习贯彻情况的报告"
    doc = _document()
    _opening_lines(doc, title, addressee)
    number = f"（{figures.doc_number}）" if figures.doc_number else ""
    _para(
        doc,
        f"根据市总工会《{figures.round_title}》{number}要求，"
        f"现将{figures.unit_name}学习贯彻情况报告如下。",
    )
    _sections(doc, figures, city=False)
    _signature(doc, figures.unit_name, signed_on)
    return _save(doc, title, figures.unit_name)


def city_report_docx(
    figures: ReportFigures,
    *,
    reported: Sequence[tuple[str, str, int, int]],
    deadline: date,
    signed_on: date,
) -> bytes:
    """The city federation's report on the whole city: `figures` city-wide, `reported` per
    kind of unit (kind, its label, units that must report, units that have reported)."""
    title = f"{figures.unit_name}关于全市工会系统学习贯彻情况的报告"
    doc = _document()
    _opening_lines(doc, title, "【主送机关】")
    must = sum(r[2] for r in reported)
    done = sum(r[3] for r in reported)
    number = f"（{figures.doc_number}）" if figures.doc_number else ""
    _para(
        doc,
        f"按照《{figures.round_title}》{number}要求，各单位应于{date_text(deadline)}前"
        f"报送学习贯彻情况。截至{date_text(figures.as_of)}，应报送单位{must}个，"
        f"已报送{done}个，未报送{must - done}个，各类单位报送情况见下表。"
        f"现将全市工会系统学习贯彻情况报告如下。",
    )
    _table(
        doc,
        REPORTING_HEADER,
        [
            *((label, str(m), str(d), str(m - d)) for _, label, m, d in reported),
            ("合计", str(must), str(done), str(must - done)),
        ],
    )
    _sections(doc, figures, city=True)
    _signature(doc, figures.unit_name, signed_on)
    return _save(doc, title, figures.unit_name)
