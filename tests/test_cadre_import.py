"""Tests for app.accounts.cadre_import: reading rosters, checking rows, the template."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from app.accounts.cadre_import import (
    CadreDraft,
    ImportPlan,
    Problem,
    UnitChoice,
    check_rows,
    match_unit,
)
from app.accounts.roster_files import COLUMNS_OPTIONAL, COLUMNS_REQUIRED, read_table, template_xlsx
from app.lib.sheets import MAX_UNZIPPED, ImportFileError, SourceRow

HEADER = ["姓名", "单位", "职务", "手机号", "性别", "工号"]

UNITS = [
    UnitChoice(1, "焦作市总工会", "/1/"),
    UnitChoice(2, "解放区总工会", "/1/2/"),
    UnitChoice(3, "解放区教育工会", "/1/2/3/"),
    UnitChoice(4, "山阳区总工会", "/1/4/"),
    UnitChoice(5, "焦作市卫生健康工会", "/1/5/"),
]


def make_xlsx(rows: list[list[object]], title: str = "Sheet") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(n: int, **values: str) -> SourceRow:
    """A SourceRow of a good cadre, with `values` overriding columns."""
    base = {
        "姓名": "李四",
        "单位": "解放区总工会",
        "职务": "工会主席",
        "手机号": f"139{n:08d}",
        "性别": "",
        "工号": "",
    }
    base.update(values)
    return SourceRow(row=n, values=base)


def messages(plan: ImportPlan) -> list[str]:
    return [p.message for p in plan.problems]


# --------------------------------------------------------------------------- read_table


def test_xlsx_happy_path_with_int_and_float_phone_cells() -> None:
    content = make_xlsx(
        [
            HEADER,
            ["王五", "解放区总工会", "工会主席", 13812345678, "男", 1001],
            [" 赵六\u3000", "\xa0山阳区总工会 ", "副主席", 13912345678.0, "女", None],
        ]
    )
    rows = read_table("名单.xlsx", content)
    assert rows == [
        SourceRow(
            2,
            {
                "姓名": "王五",
                "单位": "解放区总工会",
                "职务": "工会主席",
                "手机号": "13812345678",
                "性别": "男",
                "工号": "1001",
            },
        ),
        SourceRow(
            3,
            {
                "姓名": "赵六",
                "单位": "山阳区总工会",
                "职务": "副主席",
                "手机号": "13912345678",
                "性别": "女",
                "工号": "",
            },
        ),
    ]
    plan = check_rows(rows, UNITS, taken_phones=set())
    assert plan.ok
    assert plan.drafts == [
        CadreDraft(2, "王五", 2, "解放区总工会", "工会主席", "13812345678", "男", "1001"),
        CadreDraft(3, "赵六", 4, "山阳区总工会", "副主席", "13912345678", "女", ""),
    ]


def test_xlsx_row_numbers_follow_excel_with_blank_rows_and_title_row() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "解放区工会干部名册"  # a title row above the header
    for col, name in enumerate(HEADER, start=1):
        sheet.cell(row=3, column=col, value=name)
    for col, value in enumerate(["王五", "解放区总工会", "主席", "13812345678"], start=1):
        sheet.cell(row=7, column=col, value=value)
    sheet["A9"] = "   "  # whitespace only: skipped
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table("x.xlsx", buffer.getvalue())
    assert [r.row for r in rows] == [7]
    assert rows[0].values["姓名"] == "王五"


def test_xlsx_first_sheet_is_read_and_unknown_columns_ignored() -> None:
    workbook = Workbook()
    first = workbook.active
    first.append(["序号", "姓名", "备注", "单位", "职务", "手机号"])
    first.append([1, "王五", "无", "解放区总工会", "主席", "13812345678"])
    first.append([2, None, None, None, None, None])  # only 序号 filled: an empty row
    other = workbook.create_sheet("其他")
    other.append(["无关"])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table("x.xlsx", buffer.getvalue())
    assert len(rows) == 1
    assert rows[0].values == {
        "姓名": "王五",
        "单位": "解放区总工会",
        "职务": "主席",
        "手机号": "13812345678",
        "性别": "",
        "工号": "",
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(encoding: str) -> None:
    content = make_csv(
        [HEADER, ["买买提·艾力", "解放区教育工会", "经审委主任", "138-1234-5678", "男", ""]],
        encoding,
    )
    if encoding == "utf-8-sig":
        assert content.startswith(b"\xef\xbb\xbf")
    rows = read_table("名单.csv", content)
    assert [r.row for r in rows] == [2]
    assert rows[0].values["姓名"] == "买买提·艾力"
    assert rows[0].values["单位"] == "解放区教育工会"
    plan = check_rows(rows, UNITS, ())
    assert plan.ok
    assert plan.drafts[0].phone == "13812345678"
    assert plan.drafts[0].unit_id == 3


def test_csv_gbk_literal_bytes() -> None:
    content = "姓名,单位,职务,手机号\n张伟,山阳区总工会,委员,13700001111\n".encode("gbk")
    rows = read_table("C:\\fakepath\\名单.CSV", content)
    assert rows[0].values["姓名"] == "张伟"
    assert rows[0].values["单位"] == "山阳区总工会"


def test_header_aliases_and_required_marks() -> None:
    content = make_csv(
        [
            ["姓名*", " 工会名称（必填） ", "职位(必填)", "手机号*", "性别", "职工号"],
            ["王五", "解放区总工会", "主席", "+86 138 1234 5678", "M", "A01"],
        ]
    )
    values = read_table("x.csv", content)[0].values
    assert values == {
        "姓名": "王五",
        "单位": "解放区总工会",
        "职务": "主席",
        "手机号": "+86 138 1234 5678",
        "性别": "M",
        "工号": "A01",
    }
    draft = check_rows(read_table("x.csv", content), UNITS, ()).drafts[0]
    assert (draft.phone, draft.gender, draft.staff_no) == ("13812345678", "男", "A01")


@pytest.mark.parametrize(
    ("header", "alias_value"),
    [("手机", "1"), ("手机号码", "1"), ("联系电话", "1"), ("电话", "1")],
)
def test_phone_aliases(header: str, alias_value: str) -> None:
    content = make_csv([["姓名", "所在单位", "职务", header], ["王五", "x", "y", alias_value]])
    assert read_table("x.csv", content)[0].values["手机号"] == "1"


def test_exact_column_name_wins_over_alias() -> None:
    content = make_csv(
        [
            ["姓名", "单位", "职务", "联系电话", "手机号"],
            ["王五", "x", "y", "0391-1234567", "13812345678"],
        ]
    )
    assert read_table("x.csv", content)[0].values["手机号"] == "13812345678"


def test_missing_columns_are_all_named() -> None:
    content = make_csv([["姓名", "单位", "性别"], ["王五", "解放区总工会", "男"]])
    with pytest.raises(ImportFileError) as info:
        read_table("x.csv", content)
    assert "缺少必填列：职务、手机号" in str(info.value)


def test_no_header_at_all_names_every_required_column() -> None:
    with pytest.raises(ImportFileError) as info:
        read_table("x.xlsx", make_xlsx([["a", "b"], ["c", "d"]]))
    assert "缺少必填列：姓名、单位、职务、手机号" in str(info.value)


def test_not_an_excel_file() -> None:
    with pytest.raises(ImportFileError) as info:
        read_table("名单.xlsx", b"this is plain text, not a workbook")
    assert str(info.value) == (
        "无法读取文件“名单.xlsx”：它不是有效的 Excel 文件。请用 Excel 另存为 .xlsx 后重新上传。"
    )


def test_corrupt_zip_is_not_an_excel_file() -> None:
    content = make_xlsx([HEADER])
    with pytest.raises(ImportFileError, match="不是有效的 Excel 文件"):
        read_table("x.xlsx", content[: len(content) // 2])


def padded(content: bytes, size: int) -> bytes:
    """The workbook with one more member of `size` spaces (rounded up to a MB): small
    zipped, as large as asked unzipped."""
    buffer = io.BytesIO(content)
    chunk = b" " * 2**20
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as package,
        package.open("xl/padding.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(-(-size // len(chunk))):
            member.write(chunk)
    return buffer.getvalue()


def test_a_workbook_that_unzips_too_large_is_refused_unread() -> None:
    content = make_xlsx([HEADER, ["王五", "解放区总工会", "主席", 13812345678]])
    assert len(read_table("x.xlsx", padded(content, 2**20))) == 1  # padding alone is no fault
    bomb = padded(content, MAX_UNZIPPED)
    assert len(bomb) < 1024 * 1024
    for filename in ("名单.xlsx", "名单.csv"):  # a workbook renamed to .csv is read as one
        with pytest.raises(ImportFileError) as info:
            read_table(filename, bomb)
        assert str(info.value).startswith(f"无法读取文件“{filename}”：解压后超过 200 MB，")


def test_old_xls_and_other_extensions_are_refused() -> None:
    with pytest.raises(ImportFileError, match=r"\.xls 格式"):
        read_table("名单.xls", b"\xd0\xcf\x11\xe0whatever")
    with pytest.raises(ImportFileError, match=r"只支持 Excel（\.xlsx）或 CSV（\.csv）"):
        read_table("名单.txt", b"a,b")
    with pytest.raises(ImportFileError, match="只支持"):
        read_table("名单", b"a,b")


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("x.csv", b""),
        ("x.xlsx", b""),
        ("x.csv", b"\r\n\r\n , ,\r\n"),
        ("x.csv", b"\xef\xbb\xbf"),
        ("x.xlsx", make_xlsx([])),
    ],
)
def test_empty_file(filename: str, content: bytes) -> None:
    with pytest.raises(ImportFileError, match="空的"):
        read_table(filename, content)


def test_header_only_gives_no_data_rows_problem() -> None:
    rows = read_table("x.csv", make_csv([HEADER, ["", "", "", "", "", ""]]))
    assert rows == []
    plan = check_rows(rows, UNITS, ())
    assert plan.problems == [Problem(None, None, "文件中没有数据行。")]
    assert not plan.ok


def test_too_many_rows() -> None:
    lines = ["姓名,单位,职务,手机号"] + ["王五,解放区总工会,主席,13812345678"] * 20_001
    with pytest.raises(ImportFileError, match="超过 20000 行"):
        read_table("x.csv", "\n".join(lines).encode())
    lines.pop()
    assert len(read_table("x.csv", "\n".join(lines).encode())) == 20_000


def test_workbook_renamed_to_csv_is_still_read() -> None:
    content = make_xlsx([HEADER, ["王五", "解放区总工会", "主席", 13812345678]])
    assert read_table("x.csv", content)[0].values["手机号"] == "13812345678"


# --------------------------------------------------------------------------- match_unit


def test_match_unit_exact_partial_ambiguous_unknown() -> None:
    assert match_unit("解放区总工会", UNITS) == (UNITS[1], None)
    assert match_unit(" 解放区 总工会 ", UNITS) == (UNITS[1], None)
    assert match_unit("卫生健康", UNITS) == (UNITS[4], None)
    assert match_unit("焦作市总工会/解放区总工会", UNITS) == (UNITS[1], None)

    unit, reason = match_unit("解放区", UNITS)
    assert unit is None
    assert reason == (
        "单位“解放区”不唯一，可能是：“解放区总工会”、“解放区教育工会”。请填写完整名称。"
    )

    unit, reason = match_unit("解放区总工会机关", UNITS)
    assert unit is None
    assert reason is not None
    assert reason.startswith("单位“解放区总工会机关”不存在，您是否要找“解放区总工会”")
    assert reason.endswith("？")

    assert match_unit("外星人协会", UNITS) == (
        None,
        "单位“外星人协会”不存在，或不在您管理的范围内。",
    )


def test_match_unit_lists_at_most_five_candidates() -> None:
    units = [UnitChoice(i, f"第{i}基层工会", f"/1/{i}/") for i in range(1, 9)]
    unit, reason = match_unit("基层工会", units)
    assert unit is None
    assert reason is not None
    assert reason.count("“第") == 5
    assert "……请填写完整名称。" in reason


# --------------------------------------------------------------------------- check_rows


def test_missing_fields_one_problem_each() -> None:
    plan = check_rows([row(7, 姓名="", 职务="")], UNITS, ())
    assert messages(plan) == ["第 7 行：姓名为空。", "第 7 行：职务为空。"]
    assert [p.column for p in plan.problems] == ["姓名", "职务"]
    assert plan.drafts == []


def test_invalid_phone() -> None:
    plan = check_rows([row(5, 手机号="1381234")], UNITS, ())
    assert messages(plan) == ["第 5 行：手机号“1381234”不是有效的 11 位手机号码。"]
    assert plan.problems[0].column == "手机号"


def test_scientific_phone_gets_a_hint() -> None:
    plan = check_rows([row(5, 手机号="1.38123E+10")], UNITS, ())
    assert "科学计数法" in messages(plan)[0]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_phone_normalised(typed: str, expected: str) -> None:
    assert check_rows([row(2, 手机号=typed)], UNITS, ()).drafts[0].phone == expected


@pytest.mark.parametrize("typed", ["12812345678", "1381234567", "138123456789", "abc"])
def test_phone_rejected(typed: str) -> None:
    assert not check_rows([row(2, 手机号=typed)], UNITS, ()).ok


def test_unknown_unit_with_suggestion() -> None:
    plan = check_rows([row(12, 单位="解放区总工会机关")], UNITS, ())
    (message,) = messages(plan)
    assert message.startswith("第 12 行：单位“解放区总工会机关”不存在，您是否要找“解放区总工会”")
    assert plan.problems[0].column == "单位"


def test_unknown_unit_without_suggestion() -> None:
    plan = check_rows([row(4, 单位="外星人协会")], UNITS, ())
    assert messages(plan) == ["第 4 行：单位“外星人协会”不存在，或不在您管理的范围内。"]


def test_ambiguous_unit() -> None:
    plan = check_rows([row(3, 单位="解放区")], UNITS, ())
    assert messages(plan) == [
        "第 3 行：单位“解放区”不唯一，可能是：“解放区总工会”、“解放区教育工会”。请填写完整名称。"
    ]


def test_unique_partial_unit_accepted() -> None:
    plan = check_rows([row(3, 单位="教育工会")], UNITS, ())
    assert plan.ok
    assert (plan.drafts[0].unit_id, plan.drafts[0].unit_name) == (3, "解放区教育工会")


def test_duplicate_phone_in_file() -> None:
    rows = [row(4, 手机号="13812345678"), row(10, 姓名="王五", 手机号="138 1234 5678")]
    plan = check_rows(rows, UNITS, ())
    assert messages(plan) == ["第 10 行：手机号 13812345678 与第 4 行重复。"]
    assert [d.row for d in plan.drafts] == [4]


def test_duplicate_row() -> None:
    rows = [row(4, 手机号="13812345678", 工号="7"), row(10, 手机号="13812345678", 工号="7")]
    plan = check_rows(rows, UNITS, ())
    assert messages(plan) == ["第 10 行：与第 4 行完全相同（重复行）。"]


def test_phone_already_taken() -> None:
    plan = check_rows([row(9, 手机号="13812345678")], UNITS, taken_phones={"13812345678"})
    assert messages(plan) == ["第 9 行：手机号 13812345678 已被账号使用。"]
    assert plan.drafts == []


def test_bad_gender_and_accepted_genders() -> None:
    plan = check_rows([row(6, 性别="未知")], UNITS, ())
    assert messages(plan) == ["第 6 行：性别“未知”无法识别，请填写“男”或“女”，或留空。"]
    genders = ["男", "男性", "M", "m", "女", "女性", "F", "f", ""]
    plan = check_rows([row(i + 2, 性别=g) for i, g in enumerate(genders)], UNITS, ())
    assert plan.ok
    assert [d.gender for d in plan.drafts] == ["男"] * 4 + ["女"] * 4 + [""]


def test_duplicate_staff_no() -> None:
    plan = check_rows([row(2, 工号="A01"), row(3, 姓名="王五", 工号="A01")], UNITS, ())
    assert messages(plan) == ["第 3 行：工号“A01”与第 2 行重复。"]
    assert plan.problems[0].column == "工号"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("张三丰", True),
        ("买买提·艾力", True),
        ("阿依古丽•买买提", True),  # a look-alike dot is accepted as "·"
        ("John Smith", True),
        ("张 三", True),
        ("张三1", False),
        ("张三@", False),
        ("·张三", False),
        ("张" * 31, False),
    ],
)
def test_names(name: str, ok: bool) -> None:
    plan = check_rows([row(2, 姓名=name)], UNITS, ())
    assert plan.ok is ok
    if not ok:
        assert messages(plan)[0].startswith("第 2 行：姓名“")


def test_name_is_normalised() -> None:
    plan = check_rows([row(2, 姓名="张  三"), row(3, 姓名="阿依古丽•买买提")], UNITS, ())
    assert [d.name for d in plan.drafts] == ["张三", "阿依古丽·买买提"]


def test_all_problems_listed_and_good_rows_still_drafted() -> None:
    content = make_csv(
        [
            HEADER,
            ["王五", "解放区总工会", "主席", "13812345678", "男", ""],
            ["", "解放区总工会", "主席", "13812345679", "", ""],
            ["赵六", "解放区总工会", "主席", "123", "", ""],
            ["钱七", "山阳区总工会", "委员", "13812345680", "", ""],
            ["孙八", "不存在的工会", "委员", "13812345681", "", ""],
        ]
    )
    plan = check_rows(read_table("x.csv", content), UNITS, ())
    assert [p.row for p in plan.problems] == [3, 4, 6]
    assert [d.row for d in plan.drafts] == [2, 5]
    assert not plan.ok


def test_problems_sorted_by_row_then_column() -> None:
    rows = [
        row(8, 性别="x", 单位=""),
        row(3, 姓名="", 手机号="1"),
    ]
    plan = check_rows(rows, UNITS, ())
    assert [(p.row, p.column) for p in plan.problems] == [
        (3, "姓名"),
        (3, "手机号"),
        (8, "单位"),
        (8, "性别"),
    ]


def test_template_example_row_is_refused() -> None:
    plan = check_rows([row(2, 姓名="张三", 手机号="13800000000")], UNITS, ())
    assert messages(plan) == ["第 2 行：这是模板中的示例行，请删除后再上传。"]


def test_check_rows_tolerates_missing_keys() -> None:
    plan = check_rows(
        [
            SourceRow(
                2, {"姓名": "王五", "单位": "山阳区总工会", "职务": "主席", "手机号": "13812345678"}
            )
        ],
        UNITS,
        (),
    )
    assert plan.ok


def test_2000_rows_against_300_units_are_all_accounted_for() -> None:
    units = [UnitChoice(i, f"焦作市第{i}基层工会委员会", f"/1/{i}/") for i in range(1, 301)]
    rows = [
        row(
            i + 2,
            单位=(f"焦作市第{i % 300 + 1}基层工会委员会" if i % 4 else f"第{i}号机关工会"),
            手机号=f"138{i:08d}",
            工号=str(i),
        )
        for i in range(2000)
    ]
    plan = check_rows(rows, units, {f"138{i:08d}" for i in range(0, 2000, 7)})
    assert len(plan.drafts) + len({p.row for p in plan.problems}) == 2000


# --------------------------------------------------------------------------- template


def test_template_xlsx() -> None:
    content = template_xlsx()
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames[1] == "填写说明"
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == list(COLUMNS_REQUIRED + COLUMNS_OPTIONAL)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["E"].width
    notes = "\n".join(str(c.value) for r in workbook["填写说明"].iter_rows() for c in r if c.value)
    for column in COLUMNS_REQUIRED + COLUMNS_OPTIONAL:
        assert column in notes

    rows = read_table("干部导入模板.xlsx", content)
    assert rows == [
        SourceRow(
            2,
            {
                "姓名": "张三",
                "单位": "解放区总工会",
                "职务": "工会主席",
                "手机号": "13800000000",
                "性别": "男",
                "工号": "",
            },
        )
    ]


# --------------------------------------------------------------------------- robustness

_cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20
) | st.sampled_from(
    ["", "解放区", "解放区总工会", "13812345678", "男", "女", "·", "A01", "+86 139 0000 0000"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_as_csv_only_raises_import_file_error(text: str) -> None:
    for encoding in ("utf-8", "gb18030"):
        try:
            rows = read_table("x.csv", text.encode(encoding))
        except ImportFileError:
            continue
        check_rows(rows, UNITS, {"13812345678"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cells, max_size=8), max_size=8), st.sampled_from([",", "\t"]))
def test_arbitrary_rows_after_header_only_raise_import_file_error(
    rows: list[list[str]], delimiter: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADER)
    writer.writerows(rows)
    try:
        source = read_table("x.csv", buffer.getvalue().encode())
    except ImportFileError:
        return
    plan = check_rows(source, UNITS, {"13812345678"})
    assert {d.row for d in plan.drafts}.isdisjoint({p.row for p in plan.problems})
    for problem in plan.problems:
        assert problem.row is None or problem.message.startswith(f"第 {problem.row} 行：")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["x.csv", "x.xlsx"]))
def test_arbitrary_bytes_only_raise_import_file_error(content: bytes, filename: str) -> None:
    try:
        rows = read_table(filename, content)
    except ImportFileError:
        return
    check_rows(rows, UNITS, ())
