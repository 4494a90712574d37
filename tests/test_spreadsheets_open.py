"""Every .xlsx and .csv download opened in a real spreadsheet program: LibreOffice Calc,
headless, reading the CSV files as a Chinese (zh-CN) Calc does with 检测特殊数字 on, which
also reads dates, times and percentages, as Excel always does.

Each file is converted by `soffice --convert-to xlsx` and read back with openpyxl. Every cell
must be what the page shows (for the reports) or what peixun wrote (for the other files):
text stays the same text, numbers are numbers, dates are dates, and no cell is a formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from app.banks.model import Question
from app.banks.store import save_question
from app.reports.report import DETAIL_KINDS, REMINDER_KINDS, SUMMARY_KINDS
from app.reports.rows import rate_text, text_cell
from app.reports.writers import DATETIME, INTEGER, LONG_TEXT, NUMBER, RATE, TEXT
from app.tables import (
    Attempt,
    Attendance,
    Bank,
    Batch,
    ClassSession,
    Enrollment,
    Quiz,
    Training,
    User,
)
from tests.conftest import login, make_user, post_form
from tests.office_support import convert, require_office

require_office("calc", module=True)

# How Calc reads a .csv: comma, double quote, UTF-8, from line 1, no column set to text,
# language zh-CN (2052), quoted fields not forced to text, special numbers detected (dates,
# times, percentages), spaces kept, formulas evaluated (as Excel does).
CSV_FILTER = "Text - txt - csv (StarCalc):44,34,76,1,,2052,false,true,false,false,false,-1,true"
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
FORMULA_START = ("=", "+", "-", "@")
TITLE = "学习贯彻工会十八大精神集中轮训"


# ------------------------------------------------------------------------------ LibreOffice


def open_in_calc(files: dict[str, bytes], folder: Path) -> dict[str, tuple]:
    """Each file (name → bytes) as Calc reads it: name → (values, formulas) workbooks. The
    .csv files and the .xlsx files each take one soffice run, one after the other in one
    profile (two at once, each making its own profile, take longer on two cores)."""
    groups: dict[str | None, list[Path]] = {CSV_FILTER: [], None: []}
    for name, content in files.items():
        path = folder / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        groups[CSV_FILTER if name.endswith(".csv") else None].append(path)
    for n, (infilter, paths) in enumerate(groups.items()):
        if paths:  # soffice given no file would wait for one
            convert(paths, folder / f"out{n}", folder / "profile", "xlsx", infilter)
    read = {}
    for name in files:
        out = folder / ("out0" if name.endswith(".csv") else "out1") / (Path(name).stem + ".xlsx")
        assert out.exists(), f"LibreOffice did not convert {name}"
        read[name] = (load_workbook(out, data_only=True), load_workbook(out))
    return read


# ------------------------------------------------------------------------------ the pages


class Tables(HTMLParser):
    """The text of every row of the tables of a page (th and td alike), the h1 and the
    report's info line."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.texts: dict[str, str] = {}
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "h1" or (tag == "p" and "report-info" in classes):
            self._tag, self._cell = ("info" if tag == "p" else "h1"), []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag in ("h1", "p") and self._tag and self._cell is not None:
            self.texts[self._tag] = "".join(self._cell).strip()
            self._tag = self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    return tables


# ------------------------------------------------------------------------------ comparing


def shown(value, number_format: str = "General") -> str:
    """A cell as the page would show it ("—" for nothing); zero-width characters show nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"布尔值 {value}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, int | float):
        return rate_text(value) if "%" in number_format else text_cell(value)
    return str(value).translate(ZERO_WIDTH)


def what_it_is(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime):
        return "date"
    if isinstance(value, int | float):
        return "number"
    return "text"


A_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
# What each kind of column may hold, as the spreadsheet reads it.
ALLOWED = {
    TEXT: {"text", "empty"},
    LONG_TEXT: {"text", "empty"},
    INTEGER: {"number", "empty"},
    NUMBER: {"number", "empty"},
    RATE: {"number", "empty"},
    DATETIME: {"date", "text", "empty"},  # 完成时间, or 未完成
}


def compare_rows(
    where: str,
    read: tuple,
    sheet: str | None,
    first: int,
    expected: list[list[str]],
    kinds,
    csv_file: bool,
    problems: list[str],
    skip: int | None = None,
) -> None:
    """The rows of a converted sheet after its first `first` rows against the page's rows
    (leaving out the sheet's column `skip`, which the page does not show)."""
    values, formulas = read
    sheet_values = values[sheet] if sheet else values.worksheets[0]
    sheet_formulas = formulas[sheet] if sheet else formulas.worksheets[0]
    got = list(sheet_values.iter_rows(min_row=first + 1))
    raw = list(sheet_formulas.iter_rows(min_row=first + 1))
    if len(got) != len(expected):
        problems.append(f"{where}: {len(got)} rows, the page has {len(expected)}")
    for cells, raw_cells, page in zip(got, raw, expected, strict=False):
        columns = [
            (c, r, k)
            for n, (c, r, k) in enumerate(zip(cells, raw_cells, kinds, strict=False))
            if n != skip
        ]
        if len(columns) != len(page):
            problems.append(f"{where}: {len(columns)} columns, the page has {len(page)}")
            continue
        for (cell, raw_cell, kind), text in zip(columns, page, strict=True):
            at = f"{where} {cell.coordinate}"
            if raw_cell.data_type == "f":
                problems.append(f"{at}: a formula {raw_cell.value!r} (the page shows {text!r})")
                continue
            it_is = what_it_is(cell.value)
            if it_is not in ALLOWED[kind] or (
                kind == DATETIME and A_TIME.fullmatch(text) and it_is != "date"
            ):
                problems.append(f"{at}: read as {it_is} {cell.value!r}, the page shows {text!r}")
                continue
            want = text
            if csv_file and it_is == "text" and text.startswith(FORMULA_START):
                want = "'" + text  # the CSV's mark that this is no formula
            if shown(cell.value, cell.number_format) != want:
                problems.append(f"{at}: shows {cell.value!r}, the page shows {text!r}")


def compare_to_original(name: str, original: bytes, read: tuple, problems: list[str]) -> None:
    """A file peixun wrote against the same file as Calc reads it: every cell the same value
    of the same kind, and none a formula."""
    mine = load_workbook(io.BytesIO(original))
    values, formulas = read
    for sheet in mine.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                at = f"{name} {sheet.title}!{cell.coordinate}"
                if cell.data_type == "f":
                    problems.append(f"{at}: peixun wrote a formula {cell.value!r}")
                    continue
                theirs = values[sheet.title][cell.coordinate]
                if formulas[sheet.title][cell.coordinate].data_type == "f":
                    problems.append(f"{at}: Calc reads a formula, peixun wrote {cell.value!r}")
                elif what_it_is(theirs.value) != what_it_is(cell.value) or (
                    theirs.value != cell.value
                ):
                    problems.append(
                        f"{at}: Calc reads {theirs.value!r}, peixun wrote {cell.value!r}"
                    )


# ------------------------------------------------------------------------------ the data


async def _report_data(tree, people):
    """A training whose cells look like dates, numbers, percentages and formulas."""
    quiz = Quiz(slug="jieye-ceshi", title="结业测验")
    await quiz.save()
    training = Training(
        title=TITLE,
        kind="rotation",
        unit=tree["city"].id,
        credit_hours=8.0,
        attendance_share=0.8,
        final_quiz=quiz.id,
    )
    await training.save()
    first = Batch(training=training.id, name="1-2", sort_order=1)  # a date to a spreadsheet
    await first.save()
    second = Batch(training=training.id, name="第二期", sort_order=2)
    await second.save()
    done = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    cadres = [
        # name, position, phone, batch, lessons read of 13, sessions attended of 5, score,
        # passed, hours, completed
        ("王五", "0012", "13900000101", first, 5, 2, 55.0, False, 4.0, None),
        ("李四", "=1+1", "13900000102", first, 12, 1, None, False, 0.5, None),
        ("张三", "3%", "13900000103", second, 13, 5, 86.66, True, 12.5, done),
        ("赵六", "-5", "13900000104", second, 13, 4, 92.0, True, 12.0, done),
        ("刘一", "", "13900000105", first, 3, 0, 60.0, False, 2.25, None),
        ("孙七", "1 1/2", "13900000106", second, 1, 3, 30.0, False, 1.0, None),
    ]
    for name, position, phone, batch, read, attended, score, passed, hours, completed in cadres:
        person = await make_user(
            phone, tree["jiefang_g"], name=name, position=position, phone=phone
        )
        await Enrollment(
            training=training.id,
            batch=batch.id,
            account=person.id,
            unit=tree["jiefang_g"].id,
            lessons_required=13,
            lessons_read=read,
            quiz_score=score,
            quiz_passed=passed,
            sessions_total=5,
            sessions_attended=attended,
            hours=hours,
            completed_at=completed,
        ).save()
    await Enrollment(
        training=training.id,
        batch=second.id,
        account=people["other_cadre"].id,
        unit=tree["zhongzhan_g"].id,
        lessons_required=13,
        lessons_read=5,
        sessions_total=5,
        sessions_attended=5,
        hours=3.0,
    ).save()
    return training


async def _bank():
    bank = Bank(slug="kaishi-ceshi", title="打开测试题库")
    await bank.save()
    questions = [
        Question(
            key="t-001",
            type="single",
            stem="哪个像日期？",
            options=("5/13", "13800000000", "0012", "=1+1"),
            answer=("A",),
            explanation="1-2",
            source_ref="3%",
            difficulty=2,
            tags=("1-2", "示例"),
        ),
        Question(
            key="t-002",
            type="fill_blank",
            stem="比例是 ___。",
            blanks=(("3%", "0.03"),),
            explanation="-5",
            evidence="@提及",
        ),
    ]
    for question in questions:
        await save_question(bank.id, question, None, new=True)
    return bank


CADRES_CSV = (
    "姓名,单位,职务,手机号,性别,工号\r\n"
    "吴一,解放区人民医院工会,=1+1,13700000001,男,0012\r\n"
    "郑二,解放区总工会,1-2,13700000002,女,5/13\r\n"
    "冯三,中站区第一中学工会,3%,13700000003,,-7\r\n"
)


async def _accounts_xlsx(client) -> bytes:
    """The list of initial passwords, from importing three cadres."""
    await client.get("/people/import")
    preview = await client.post(
        "/people/import",
        files={"file": ("名单.csv", CADRES_CSV.encode("utf-8-sig"), "text/csv")},
        data={"_csrf_token": client.cookies["csrftoken"]},
    )
    assert preview.status_code == 200, preview.text
    action = re.search(r'action="(/people/import/\d+)"', preview.text)
    assert action, "no confirm form"
    done = await post_form(client, action.group(1))
    assert done.status_code == 200, done.text
    found = re.search(r'href="(/people/imports/\d+/passwords\.xlsx)"', done.text)
    assert found, "no list of initial passwords on the page"
    listed = await client.get(found.group(1))
    assert listed.status_code == 200
    return listed.content


async def _scores_url(people) -> str:
    """The score file of the training's quiz, with two finished attempts and one running."""
    quiz = await Quiz.objects().where(Quiz.slug == "jieye-ceshi").first()
    start = datetime(2026, 11, 20, 1, 5, tzinfo=UTC)
    for score, status in ((58.5, "submitted"), (90.0, "expired"), (None, "in_progress")):
        await Attempt(
            quiz=quiz.id,
            account=people["cadre"].id,
            status=status,
            started_at=start,
            finished_at=None if score is None else start + timedelta(minutes=25),
            score=score,
            passed=None if score is None else score >= 60,
        ).save()
        start += timedelta(hours=1)
    return f"/admin/quizzes/{quiz.slug}/scores.xlsx"


async def _attendance_sheet_url(training) -> str:
    """The 签到表 of a class session of the batch "1-2": one cadre checked in by code, one
    marked by the trainer, the others not there."""
    batch = await Batch.objects().where(Batch.training == training.id, Batch.name == "1-2").first()
    session = ClassSession(
        batch=batch.id,
        starts_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        topic="=1+1",
        place="3%",
        hours=3.0,
    )
    await session.save()
    for name, method, minute in (("王五", "code", 5), ("李四", "trainer", 40)):
        person = await User.objects().where(User.name == name).first()
        await Attendance(
            session=session.id,
            account=person.id,
            method=method,
            created_at=datetime(2026, 11, 20, 1, minute, tzinfo=UTC),
        ).save()
    return f"/sessions/{session.id}/sheet.xlsx"


# ------------------------------------------------------------------------------ the test


async def test_every_export_opens_in_a_spreadsheet_as_the_page_shows_it(
    client, people, tree, tmp_path
):
    training = await _report_data(tree, people)
    bank = await _bank()
    await login(client, "admin")
    base = f"/reports/trainings/{training.id}"
    pages = {}
    for page in ("summary", "roster", "reminders"):
        response = await client.get(f"{base}/{page}")
        assert response.status_code == 200, page
        pages[page] = page_tables(response.text)
    files: dict[str, bytes] = {}
    problems: list[str] = []
    for page in ("summary", "roster", "reminders"):
        for suffix in ("xlsx", "csv"):
            response = await client.get(f"{base}/{page}.{suffix}")
            assert response.status_code == 200, f"{page}.{suffix}"
            media_type = response.headers["content-type"]
            if suffix == "csv" and media_type != "text/csv; charset=utf-8":
                problems.append(f"{page}.csv: Content-Type {media_type!r}")
            files[f"{page}.{suffix}"] = response.content
    for name, url in (
        ("bank.xlsx", f"/banks/{bank.slug}/export.xlsx"),
        ("bank-template.xlsx", "/banks/template.xlsx"),
        ("cadre-template.xlsx", "/people/import/template.xlsx"),
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        files[name] = response.content
    files["accounts.xlsx"] = await _accounts_xlsx(client)
    # The people list (the imported staff numbers 0012, 5/13 and -7 among it) and the scores
    # of a quiz (dates, numbers, 是/否).
    for name, url in (
        ("people.xlsx", "/people.xlsx?status=all"),
        ("scores.xlsx", await _scores_url(people)),
        ("attendance-sheet.xlsx", await _attendance_sheet_url(training)),
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        files[name] = response.content

    read = open_in_calc(files, tmp_path)

    # The reports: each file against its page, header and all.
    summary, roster, reminders = pages["summary"], pages["roster"], pages["reminders"]
    reminder_rows = [r for r in reminders.rows if r != reminders.rows[0]]
    for name, sheet, page, kinds, skip in (
        ("summary", None, summary, SUMMARY_KINDS, None),
        ("roster", "明细", roster, DETAIL_KINDS, None),
        ("reminders", None, reminders, REMINDER_KINDS, 1),
    ):
        rows = reminder_rows if name == "reminders" else page.rows[1:]
        header = page.rows[0]
        for suffix in ("xlsx", "csv"):
            book = read[f"{name}.{suffix}"]
            first = 3 if suffix == "xlsx" else 1  # the title, info and header rows
            named = sheet if suffix == "xlsx" else None
            sheet_values = book[0][named] if named else book[0].worksheets[0]
            heading = [c.value for c in next(sheet_values.iter_rows(min_row=first, max_row=first))]
            if skip is not None:
                heading.pop(skip)
            if heading != header:
                problems.append(f"{name}.{suffix}: header {heading}, the page {header}")
            if suffix == "xlsx":
                top = [sheet_values["A1"].value, sheet_values["A2"].value]
                if top != [page.texts["h1"], page.texts["info"]]:
                    problems.append(f"{name}.xlsx: title {top}, the page {page.texts}")
            compare_rows(
                f"{name}.{suffix}", book, named, first, rows, kinds, suffix == "csv", problems, skip
            )
    # The 花名册's own 汇总 sheet is the 汇总表.
    compare_rows(
        "roster.xlsx", read["roster.xlsx"], "汇总", 3, summary.rows[1:], SUMMARY_KINDS, False,
        problems,
    )  # fmt: skip

    # The other files: each cell as peixun wrote it.
    for name in (
        "bank.xlsx",
        "bank-template.xlsx",
        "cadre-template.xlsx",
        "accounts.xlsx",
        "people.xlsx",
        "scores.xlsx",
        "attendance-sheet.xlsx",
    ):
        compare_to_original(name, files[name], read[name], problems)

    # What the data set was made to hold is there, read as text.
    roster_csv = list(csv.reader(io.StringIO(files["roster.csv"].decode("utf-8-sig"))))
    assert any(r[6].startswith("5/13") for r in roster_csv[1:]), roster_csv
    assert any(r[5].startswith("1-2") for r in roster_csv[1:]), roster_csv
    assert not problems, "\n".join(problems)


async def test_the_credit_files_open_in_a_spreadsheet_as_the_page_shows_them(
    client, people, tree, tmp_path
):
    """学时统计表, 学时明细, 学时催学名单 (.xlsx and .csv) against their pages, and a
    学习档案 (.xlsx, and the one in a unit's .zip) cell by cell as peixun wrote it."""
    from app.reports.credit_report import (
        CREDIT_DETAIL_HEADERS,
        CREDIT_DETAIL_KINDS,
        CREDIT_REMINDER_KINDS,
        CREDIT_SUMMARY_KINDS,
    )
    from app.tables import CreditEntry, CreditRequirement

    year = datetime.now(UTC).year
    ledger = {
        # name, position, phone: (source, hours) rows; a negative row is a correction
        ("王五", "0012", "13900000201"): [("reading", 12.5), ("quiz", 0.5)],
        ("李四", "=1+1", "13900000202"): [("session", 3.0), ("session", -3.0)],
        ("张三", "3%", "13900000203"): [("training", 16.0), ("reading", 4.5)],
        ("赵六", "1-2", "13900000204"): [],
    }
    cadres = []
    for (name, position, phone), rows in ledger.items():
        person = await make_user(
            phone, tree["jiefang_g"], name=name, position=position, phone=phone
        )
        cadres.append(person)
        for n, (source, hours) in enumerate(rows, 1):
            await CreditEntry(
                account=person.id,
                year=year,
                source=source,
                key=f"{source}:1",
                sequence=n,
                hours=hours,
                earned_at=datetime(year, 5, 13, 2, 0, tzinfo=UTC),
                note="=SUM(1,2)" if hours < 0 else "1-2",
            ).save()
    await CreditRequirement(year=year, hours=12.5).save()

    await login(client, "admin")
    query = f"?year={year}"
    summary = page_tables((await client.get(f"/reports/credits{query}")).text)
    split = summary.rows.index(list(CREDIT_DETAIL_HEADERS))
    reminders = page_tables((await client.get(f"/reports/credits/reminders{query}")).text)
    files: dict[str, bytes] = {}
    for name, url in (
        ("credits.xlsx", f"/reports/credits.xlsx{query}"),
        ("credits.csv", f"/reports/credits.csv{query}"),
        ("credit-reminders.xlsx", f"/reports/credits/reminders.xlsx{query}"),
        ("credit-reminders.csv", f"/reports/credits/reminders.csv{query}"),
        ("record.xlsx", f"/people/{cadres[0].id}/record.xlsx{query}"),
        ("records.zip", f"/units/{tree['jiefang_g'].id}/records.zip{query}"),
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        files[name] = response.content
    with zipfile.ZipFile(io.BytesIO(files.pop("records.zip"))) as archive:
        inside = [n for n in archive.namelist() if n.endswith(".xlsx")]
        assert len(inside) >= len(cadres), inside
        files["zipped-record.xlsx"] = archive.read(inside[0])

    read = open_in_calc(files, tmp_path)
    problems: list[str] = []
    reminder_header = reminders.rows[0]
    reminder_rows = [r for r in reminders.rows if r != reminder_header]
    listed = {r[1] for r in reminder_rows}
    assert {"李四", "赵六"} <= listed and not {"王五", "张三"} & listed, reminder_rows
    for name, sheet, rows, kinds, skip in (
        ("credits.xlsx", "汇总", summary.rows[1:split], CREDIT_SUMMARY_KINDS, None),
        ("credits.xlsx", "明细", summary.rows[split + 1 :], CREDIT_DETAIL_KINDS, None),
        ("credits.csv", None, summary.rows[split + 1 :], CREDIT_DETAIL_KINDS, None),
        ("credit-reminders.xlsx", None, reminder_rows, CREDIT_REMINDER_KINDS, 1),
        ("credit-reminders.csv", None, reminder_rows, CREDIT_REMINDER_KINDS, 1),
    ):
        first = 1 if name.endswith(".csv") else 3
        compare_rows(name, read[name], sheet, first, rows, kinds, first == 1, problems, skip)
    for name in ("record.xlsx", "zipped-record.xlsx"):
        compare_to_original(name, files[name], read[name], problems)
    assert not problems, "\n".join(problems)


async def test_the_reporting_roll_up_opens_in_a_spreadsheet_as_written(
    client, people, tree, tmp_path
):
    """The city's 报送汇总表: every cell as peixun wrote it, entries whose texts look like
    formulas, dates and numbers included."""
    import json
    from datetime import date

    from app.tables import ReportRound, WorkActivity
    from app.unit_reports.submission import submit_report

    report_round = ReportRound(
        title="=关于学习贯彻的通知",
        doc_number="1-2",
        unit_kinds=json.dumps(["county_federation"]),
        credit_year=2026,
        deadline=date(2026, 12, 31),
    )
    await report_round.save()
    for title, place, participants in (("=1+1", "3%", 30), ("5/13", "0012", 0)):
        await WorkActivity(
            round=report_round.id,
            unit=tree["jiefang_g"].id,
            kind="study",
            form="研讨会",
            held_on=date(2026, 5, 13),
            title=title,
            place=place,
            participants=participants,
            summary="-5",
        ).save()
    round_row = await ReportRound.select().where(ReportRound.id == report_round.id).first()
    unit = {"id": tree["jiefang"].id, "name": tree["jiefang"].name}
    unit.update(kind="county_federation", path=tree["jiefang"].path)
    assert await submit_report(round_row, unit, people["admin"].id)
    await login(client, "admin")
    response = await client.get(f"/reporting/{report_round.id}/rollup.xlsx")
    assert response.status_code == 200
    files = {"rollup.xlsx": response.content}
    read = open_in_calc(files, tmp_path)
    problems: list[str] = []
    compare_to_original("rollup.xlsx", files["rollup.xlsx"], read["rollup.xlsx"], problems)
    assert not problems, "\n".join(problems)
    titles = [c.value for c in read["rollup.xlsx"][0]["活动明细"]["G"]]
    assert "=1+1" in [str(t).replace("\u200b", "") for t in titles if t]
