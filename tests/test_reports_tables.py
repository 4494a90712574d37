"""The pure cores of the reports: the summary with subtotals, drill-down rows, the chart,
the cells of each row, the pages of a roster and the writers' helpers. No database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.lib.parsing import parse_id
from app.reports.queries import ByUnit, nested
from app.reports.rows import (
    ALL_MET,
    RosterRow,
    TrainingFacts,
    detail_cells,
    reminder_cells,
    still_lacks,
    summary_cells,
    text_cell,
)
from app.reports.strokes import stroke_key
from app.reports.summary import (
    CHART,
    OWN,
    SUBTOTAL,
    TOTAL,
    UNIT,
    Figures,
    chart_bars,
    drill_rows,
    subtree_figures,
    summary_rows,
)
from app.reports.writers import (
    BOM,
    DATETIME,
    INTEGER,
    LONG_TEXT,
    RATE,
    TEXT,
    csv_text,
    display_width,
    filename,
    safe_text,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def unit(id, parent, path, name, sort_order=0, active=True):
    return {
        "id": id,
        "parent": parent,
        "path": path,
        "depth": path.count("/") - 2,
        "name": name,
        "sort_order": sort_order,
        "active": active,
    }


CITY = unit(1, None, "/1/", "焦作市总工会")
JIEFANG = unit(2, 1, "/1/2/", "解放区总工会", 1)
HOSPITAL = unit(3, 2, "/1/2/3/", "解放区人民医院工会")
ZHONGZHAN = unit(4, 1, "/1/4/", "中站区总工会", 2)
SCHOOL = unit(5, 4, "/1/4/5/", "中站区第一中学工会")
CLOSED = unit(6, 4, "/1/4/6/", "已撤销的工会", active=False)
UNITS = [SCHOOL, CITY, HOSPITAL, ZHONGZHAN, JIEFANG, CLOSED]


def figures(enrolled, completed, scores=(), hours=0.0):
    return Figures(enrolled, completed, len(scores), float(sum(scores)), hours)


def test_the_summary_has_subtotals_in_tree_order_and_a_total():
    own = {
        1: figures(2, 2, (90, 80), 16),
        2: figures(1, 1, (100,), 8),
        3: figures(5, 3, (90, 70, 50), 30),
        5: figures(4, 1, (60,), 10),
    }
    rows = summary_rows(UNITS, own)
    assert [(r.kind, r.name, r.level) for r in rows] == [
        (SUBTOTAL, "焦作市总工会（小计）", 0),
        (OWN, "焦作市总工会（本级）", 1),
        (SUBTOTAL, "解放区总工会（小计）", 1),
        (OWN, "解放区总工会（本级）", 2),
        (UNIT, "解放区人民医院工会", 2),
        (SUBTOTAL, "中站区总工会（小计）", 1),
        (UNIT, "中站区第一中学工会", 2),
        (TOTAL, "合计", 0),
    ]  # the inactive unit with nobody enrolled is left out
    by_name = {r.name: r.figures for r in rows}
    assert by_name["解放区总工会（小计）"] == figures(6, 4, (100, 90, 70, 50), 38)
    assert by_name["合计"].enrolled == 12 and by_name["合计"].completed == 7
    assert by_name["合计"] == by_name["焦作市总工会（小计）"]
    assert summary_cells(rows[2]) == ("解放区总工会（小计）", 6, 4, 2, 4 / 6, 77.5, 38)


def test_an_inactive_unit_with_enrollments_stays():
    rows = summary_rows(UNITS, {6: figures(1, 0)})
    assert "已撤销的工会" in [r.name for r in rows]


def test_keep_empty_false_shows_only_units_with_enrollments():
    rows = summary_rows(UNITS, {3: figures(1, 1)}, keep_empty=False)
    assert [r.name for r in rows] == [
        "焦作市总工会（小计）",
        "解放区总工会（小计）",
        "解放区人民医院工会",
        "合计",
    ]


def test_an_empty_summary_is_a_total_of_zero():
    rows = summary_rows([], {})
    assert [(r.kind, r.figures.enrolled) for r in rows] == [(TOTAL, 0)]
    assert summary_cells(rows[0]) == ("合计", 0, 0, 0, None, None, 0)


def test_drill_rows_roll_each_child_up():
    own = {1: figures(1, 1), 3: figures(5, 3), 5: figures(4, 1), 2: figures(2, 0)}
    rows = drill_rows(UNITS, own, CITY)
    assert [(r.kind, r.name, r.has_children) for r in rows] == [
        (OWN, "焦作市总工会（本级）", False),
        (SUBTOTAL, "解放区总工会", True),
        (SUBTOTAL, "中站区总工会", True),
        (TOTAL, "合计", False),
    ]
    assert rows[1].figures.enrolled == 7 and rows[2].figures.enrolled == 4
    assert rows[-1].figures.enrolled == 12
    leaf = drill_rows(UNITS, own, HOSPITAL)
    assert [(r.kind, r.figures.enrolled) for r in leaf] == [(OWN, 5), (TOTAL, 5)]


def test_the_chart_draws_rates_within_the_track():
    rows = drill_rows(UNITS, {3: figures(4, 3), 5: figures(4, 4)}, CITY)
    bars = chart_bars(rows)
    assert [b.label for b in bars] == ["解放区总工会", "中站区总工会"]
    assert bars[0].width == 0.75 * CHART["bar_width"] and bars[0].rate_text == "75.0%"
    assert bars[1].width == CHART["bar_width"] and bars[1].y == CHART["row_height"]
    empty = chart_bars(drill_rows(UNITS, {}, CITY))
    assert all(b.width == 0 and b.rate_text == "无应训人员" for b in empty)
    long = chart_bars(
        drill_rows([CITY, unit(9, 1, "/1/9/", "焦作市第一人民医院附属分院工会")], {}, CITY)
    )
    assert long[0].label.endswith("…") and len(long[0].label) == 12


# ------------------------------------------------------------------------------ by the hundred


@st.composite
def trees(draw):
    """A random unit tree (some inactive) and random own figures for some of its units."""
    count = draw(st.integers(1, 25))
    units = [unit(1, None, "/1/", "单位1")]
    for n in range(2, count + 1):
        parent = draw(st.sampled_from(units))
        units.append(
            unit(
                n,
                parent["id"],
                f"{parent['path']}{n}/",
                f"单位{n}",
                draw(st.integers(0, 3)),
                draw(st.booleans()),
            )
        )
    own = {}
    for u in units:
        if draw(st.booleans()):
            enrolled = draw(st.integers(0, 50))
            completed = draw(st.integers(0, enrolled))
            scored = draw(st.integers(0, enrolled))
            own[u["id"]] = Figures(enrolled, completed, scored, scored * 75.0, enrolled * 2.0)
    return draw(st.permutations(units)), own


@settings(max_examples=300)
@given(trees())
def test_subtotals_add_up_for_any_tree(data):
    units, own = data
    rows = summary_rows(units, own)
    everything = sum((f.enrolled for f in own.values()), 0)
    assert rows[-1].kind == TOTAL and rows[-1].figures.enrolled == everything
    assert rows[-1].figures.completed == sum(f.completed for f in own.values())
    by_id = {u["id"]: u for u in units}
    sums = subtree_figures(units, own)
    for row in rows[:-1]:
        path = by_id[row.unit_id]["path"]
        if row.kind == SUBTOTAL:
            assert row.figures == sums.get(path, Figures())
        else:
            assert row.figures == own.get(row.unit_id, Figures())
    # Tree order: every shown unit comes after its parent's rows.
    seen: set[int] = set()
    for row in rows[:-1]:
        parent = by_id[row.unit_id]["parent"]
        if row.kind != OWN and parent is not None and parent in {r.unit_id for r in rows}:
            assert parent in seen
        seen.add(row.unit_id)
    # A unit's own cadres are counted once in the total: leaves and 本级 rows add up to it.
    assert sum(r.figures.enrolled for r in rows if r.kind in (UNIT, OWN)) == everything


@settings(max_examples=300)
@given(trees(), st.data())
def test_drill_rows_add_up_for_any_unit(data, pick):
    units, own = data
    current = pick.draw(st.sampled_from(units))
    rows = drill_rows(units, own, current)
    assert rows[-1].kind == TOTAL
    assert sum(r.figures.enrolled for r in rows[:-1]) == rows[-1].figures.enrolled
    assert sum(r.figures.hours for r in rows[:-1]) == rows[-1].figures.hours
    for bar in chart_bars(rows):
        assert 0 <= bar.width <= CHART["bar_width"]


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.integers(1, 8), st.sampled_from(["王五", "李四", "丁一", "欧阳修"])),
        max_size=80,
    ),
    st.lists(st.integers(1, 30), max_size=10),
)
def test_by_unit_sorts_each_unit_however_the_chunks_fall(people, cuts):
    """Rows come by unit (then id); whatever the chunk sizes, each unit comes out sorted by
    name and equal names keep their order."""
    rows = sorted(
        ((unit, f"单位{unit}", name, "", "", None, n) for n, (unit, name) in enumerate(people)),
        key=lambda r: (r[0], r[6]),
    )
    order = ByUnit(stroke_key)
    out, start = [], 0
    for size in [*cuts, len(rows)]:
        out += order.feed(rows[start : start + size])
        start += size
    out += order.finish()
    assert out == sorted(rows, key=lambda r: (r[0], stroke_key(r[2]), r[6]))


def test_ids_and_paths():
    assert parse_id("12") == 12
    assert [parse_id(x) for x in ("", "0", "-1", "1.5", "abc", "１２", "99999999999")] == [None] * 7
    assert nested("/1/", "/1/2/") == "/1/2/" == nested("/1/2/", "/1/")
    assert nested("/1/2/", "/1/4/") is None


# ------------------------------------------------------------------------------ cells

ROTATION = TrainingFacts(title="集中轮训", kind="rotation", has_quiz=True, attendance_share=0.8)
SPECIAL = TrainingFacts(title="专题培训", kind="special", has_quiz=False)


def enrollment(**values):
    row = {
        "unit": 3,
        "unit_name": "解放区人民医院工会",
        "name": "王五",
        "position": "委员",
        "phone": "13900000001",
        "batch_name": "第一期",
        "lessons_required": 8,
        "lessons_read": 5,
        "quiz_score": 55.0,
        "quiz_passed": False,
        "sessions_total": 5,
        "sessions_attended": 2,
        "hours": 4.5,
        "completed_minute": None,
    }
    row.update(values)
    return RosterRow(**row)


def test_the_lacks_of_the_issue():
    assert still_lacks(enrollment(), ROTATION) == (
        "还有 3 篇课文未学完；结业测验未通过；签到 2/5 次，需至少 4 次"
    )
    assert still_lacks(enrollment(quiz_score=None), ROTATION).endswith(
        "结业测验未参加；签到 2/5 次，需至少 4 次"
    )
    assert still_lacks(enrollment(), SPECIAL) == "还有 3 篇课文未学完"
    done = enrollment(lessons_read=8, quiz_passed=True, sessions_attended=4)
    assert still_lacks(done, ROTATION) == ALL_MET


@settings(max_examples=200)
@given(
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 12),
    st.integers(0, 12),
    st.sampled_from([0.5, 0.6, 0.75, 0.8, 1.0]),
)
def test_attendance_needed_is_the_share_rounded_up(required, read, total, attended, share):
    facts = TrainingFacts(title="t", kind="rotation", has_quiz=False, attendance_share=share)
    text = still_lacks(
        enrollment(
            lessons_required=required,
            lessons_read=min(read, required),
            sessions_total=total,
            sessions_attended=min(attended, total),
        ),
        facts,
    )
    if total and min(attended, total) < -(-total * share // 1):
        assert f"签到 {min(attended, total)}/{total} 次" in text
    if required > read:
        assert f"还有 {required - read} 篇课文未学完" in text


def test_a_detail_row():
    cells = detail_cells(3, enrollment(), ROTATION, BEIJING)
    assert cells == (
        3,
        "解放区人民医院工会",
        "王五",
        "委员",
        "集中轮训",
        "第一期",
        "5/8 篇",
        55,
        "不合格",
        "未完成",
        4.5,
        "2/5 次",
    )
    finished = enrollment(
        quiz_score=86.66,
        quiz_passed=True,
        completed_minute=int(datetime(2026, 11, 20, 16, 5, 59, tzinfo=UTC).timestamp()) // 60,
        position="",
        batch_name=None,
    )
    cells = detail_cells(1, finished, ROTATION, BEIJING)
    assert cells[3] is None and cells[5] is None
    assert cells[7:10] == (86.7, "合格", "2026-11-21 00:05")
    special = detail_cells(1, enrollment(quiz_score=None, sessions_total=0), SPECIAL, BEIJING)
    assert special[4] == "专题培训" and special[7] is None and special[8] is None
    assert special[11] is None
    assert [text_cell(c, "—") for c in special][7:9] == ["—", "—"]


def test_a_reminder_row():
    cells = reminder_cells(1, enrollment(), ROTATION)
    assert cells[:7] == (1, "解放区人民医院工会", "王五", "委员", "13900000001", "第一期", "5/8 篇")
    assert cells[7].startswith("还有 3 篇课文未学完")


# ------------------------------------------------------------------------------ writers


def test_text_that_looks_like_a_formula_stays_text():
    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_text("@SUM") == "'@SUM" and safe_text("-1+1") == "'-1+1"
    assert safe_text("王五") == "王五"
    line = csv_text([("=1+1", 0.5), ("张三", None), ("a,b", "-1"), ("2026-11-20", 3)])
    assert list(csv.reader(io.StringIO(line))) == [
        ["'=1+1", "0.5"],
        ["张三", ""],
        ["a,b", "'-1"],
        ["2026-11-20\u200b", "3"],  # text that reads as a date stays text
    ]
    assert csv_text([("王五", None), ("李四", 1)]) == "王五,\r\n李四,1\r\n"


def test_text_that_a_spreadsheet_would_read_as_a_number_or_date_stays_text():
    """Excel and LibreOffice read a CSV field such as 5/13, 0012 or 3% as a date or a number;
    a zero-width space after such text keeps it the text shown (a number or date is never
    followed by one; tests/test_spreadsheets_open.py opens the files in LibreOffice)."""
    kinds = (TEXT, TEXT, INTEGER, RATE, DATETIME, LONG_TEXT)
    rows = [
        ("5/13", "13800000000", 7, 2 / 3, "2026-11-20 14:30", "还有 3 篇课文未学完"),
        ("0012", "1-2", 8, None, "未完成", None),
        ("3%", "王五", 9, 1.0, None, "1/2"),
        ("=1+1", "-5", 10, 0.0, None, "+86"),
        ("１３８００", "5月13日", 11, 0.5, None, "14:30"),
        ("5/13 篇", "第1期", 12, 0.25, None, "1 1/2"),
        ("TRUE", "1e5", 13, 0.125, None, "May 13"),
        ("(5)", "¥5", 14, 1 / 3, None, "2026.5.13"),
    ]
    z = "\u200b"
    assert list(csv.reader(io.StringIO(csv_text(rows, kinds)))) == [
        ["5/13" + z, "13800000000" + z, "7", "66.7%", "2026-11-20 14:30", "还有 3 篇课文未学完"],
        ["0012" + z, "1-2" + z, "8", "", "未完成", ""],
        ["3%" + z, "王五", "9", "100.0%", "", "1/2" + z],
        ["'=1+1", "'-5", "10", "0.0%", "", "'+86"],
        ["１３８００" + z, "5月13日" + z, "11", "50.0%", "", "14:30" + z],
        ["5/13 篇", "第1期", "12", "25.0%", "", "1 1/2" + z],
        ["TRUE" + z, "1e5" + z, "13", "12.5%", "", "May 13" + z],
        ["(5)" + z, "¥5" + z, "14", "33.3%", "", "2026.5.13" + z],
    ]
    # Without kinds every text is text, as in the header row.
    assert csv_text([("学习进度", "5/13")]) == f"学习进度,5/13{z}\r\n"


def test_widths_and_file_names():
    assert display_width("解放区") == 6 and display_width("ab") == 2 and display_width("第1期") == 5
    assert filename("专题/培训", "花名册", "", "20261124", suffix="xlsx") == (
        "专题培训-花名册-20261124.xlsx"
    )
    assert text_cell(12.50) == "12.5" and text_cell(812345.0) == "812345" and text_cell(None) == ""
    assert BOM.encode() == b"\xef\xbb\xbf"


def _written(fast: bool, rows) -> list[list]:
    from openpyxl import load_workbook

    from app.reports.writers import INTEGER, NUMBER, TEXT, XlsxBook

    book = XlsxBook(fast_rows=fast)
    assert book.fast_rows is fast
    sheet = book.add_sheet(
        "明细", "标题", "填报单位：测试", ["序号", "姓名", "成绩"], [INTEGER, TEXT, NUMBER]
    )
    sheet.write_rows(rows[:2])
    sheet.write_rows(rows[2:])
    book._close()
    data = book.file.read()
    book.discard()
    read = load_workbook(io.BytesIO(data))["明细"]
    assert read.freeze_panes == "A4"
    return [[c.value for c in row] for row in read.iter_rows()], read


def test_the_fast_xml_rows_read_back_like_xlsxwriters_own():
    rows = [
        (1, "王五", 86.5),
        (2, "A&B <c>", None),
        (3, " 前后有空格 ", 100),
        (4, "=1+1", 0),
    ]
    fast, sheet = _written(True, rows)
    slow, _ = _written(False, rows)
    assert fast == slow
    assert fast[3:] == [
        [1, "王五", 86.5],
        [2, "A&B <c>", None],
        [3, " 前后有空格 ", 100],
        [4, "=1+1", 0],  # text, never a formula
    ]
    assert sheet["B5"].border.left.style == "thin"  # the column's format, borders and all
    assert sheet["C5"].border.left.style == "thin"  # even on an empty cell
    assert sheet["B4"].number_format == "@"  # text columns stay text when typed over
    # Characters XML cannot hold are left out (xlsxwriter writes them as "_x0001_").
    controlled, _ = _written(True, [(1, "王\x01五\x1f", 1), (2, "李四", 2), (3, "x", 3)])
    assert controlled[3][1] == "王五"


def test_a_completion_time_is_a_date_in_the_workbook():
    from openpyxl import load_workbook

    from app.reports.writers import XlsxBook

    written = []
    for fast in (True, False):
        book = XlsxBook(fast_rows=fast)
        sheet = book.add_sheet("明细", "标题", "信息", ["序号", "完成时间"], [INTEGER, DATETIME])
        sheet.write_rows([(1, "2026-11-20 14:30"), (2, "未完成"), (3, None)])
        book._close()
        read = load_workbook(io.BytesIO(book.file.read()))["明细"]
        book.discard()
        written.append([[c.value for c in row] for row in read.iter_rows(min_row=4)])
        assert read["B4"].number_format == "yyyy-mm-dd hh:mm"
    assert (
        written[0]
        == written[1]
        == [
            [1, datetime(2026, 11, 20, 14, 30)],
            [2, "未完成"],
            [3, None],
        ]
    )
