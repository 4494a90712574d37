"""The roster import pages: template, upload and preview, confirm, scope, and every refusal."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
from openpyxl import Workbook, load_workbook

from app.asgi import create_app
from app.tables import AuditEvent, Upload, User
from tests.conftest import PASSWORD, login, make_user, post_form

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["姓名", "单位", "职务", "手机号", "性别", "工号"]
GOOD = [
    ["李明", "解放区人民医院工会", "工会主席", "13900000001", "男", "A001"],
    ["王芳", "解放区总工会", "组织委员", "13900000002", "女", ""],
    ["赵强", "中站区第一中学工会", "工会干事", "13900000003", "", "B7"],
]


def make_xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_csv(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


async def upload(client, content: bytes, filename: str = "名单.xlsx", media_type: str = XLSX):
    if not client.cookies.get("csrftoken"):
        await client.get("/people/import")
    return await client.post(
        "/people/import",
        files={"file": (filename, content, media_type)},
        data={"_csrf_token": client.cookies["csrftoken"]},
    )


def confirm_url(page: str) -> str:
    found = re.search(r'action="(/people/import/\d+)"', page)
    assert found, "no confirm form on the page"
    return found.group(1)


def text_of(page: str) -> str:
    """The page without tags, so a test can look for a sentence that spans markup."""
    return unescape(re.sub(r"<[^>]+>", "", page))


async def cadre_count() -> int:
    return await User.count().where(User.role == "cadre")


async def test_template_download_is_an_xlsx_with_the_columns(client, people):
    await login(client, "admin")
    response = await client.get("/people/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(XLSX)
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert header == HEADER


async def test_form_page_links_the_template(client, people):
    await login(client, "jf-admin")
    page = await client.get("/people/import")
    assert page.status_code == 200
    assert "/people/import/template.xlsx" in page.text
    assert 'enctype="multipart/form-data"' in page.text


async def test_good_upload_shows_a_preview_and_writes_nothing(client, people):
    await login(client, "admin")
    before = await User.count()
    response = await upload(client, make_xlsx(GOOD))
    assert response.status_code == 200
    page = text_of(response.text)
    assert "检查通过" in page
    assert "有 3 名干部可以导入" in page
    assert "确认导入 3 名干部" in page
    confirm_url(response.text)
    for name, *_ in GOOD:
        assert name in page
    assert await User.count() == before
    assert await AuditEvent.count() == 0


async def test_confirm_creates_the_accounts_and_hands_out_passwords(client, people, tree):
    await login(client, "admin")
    preview = await upload(client, make_xlsx(GOOD))
    response = await post_form(client, confirm_url(preview.text))
    assert response.status_code == 200
    assert "已导入 3 名干部" in response.text
    assert response.headers["cache-control"] == "no-store"

    for name, unit_name, position, phone, gender, staff_no in GOOD:
        user = await User.objects(User.unit).where(User.username == phone).first()
        assert user is not None
        assert (user.name, user.role, user.phone) == (name, "cadre", phone)
        assert user.unit.name == unit_name
        assert (user.position, user.gender, user.staff_no) == (position, gender, staff_no)
        assert user.must_change_password is True
        assert user.active is True

    events = await AuditEvent.select().where(AuditEvent.action == "cadres.import")
    assert len(events) == 1
    assert events[0]["actor"] == people["admin"].id
    assert "3" in events[0]["summary"]
    # The upload is gone; what is kept is the encrypted list of initial passwords.
    assert [u["kind"] for u in await Upload.select(Upload.kind)] == ["password_list"]

    # Every account with its initial password, on the page and in the download.
    shown = dict(re.findall(r"<td>(1\d{10})</td><td><code>([^<]+)</code>", response.text))
    assert set(shown) == {row[3] for row in GOOD}
    found = re.search(r'href="(/people/imports/\d+/passwords\.xlsx)"', response.text)
    assert found, "no xlsx download link"
    listed = await client.get(found.group(1))
    assert listed.status_code == 200
    sheet = load_workbook(io.BytesIO(listed.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    name_col, phone_col, password_col = (
        header.index("姓名"),
        header.index("用户名（手机号）"),
        header.index("初始密码"),
    )
    assert sorted(r[name_col] for r in data) == sorted(row[0] for row in GOOD)
    assert {str(r[phone_col]): r[password_col] for r in data} == shown

    # A handed-out password signs in, and the person must choose their own first.
    client.cookies.clear()
    phone = GOOD[0][3]
    signed_in = await login(client, phone, shown[phone])
    assert signed_in.status_code == 302
    assert signed_in.headers["location"] == "/password"
    assert (await client.get("/")).headers["location"] == "/password"


async def test_confirming_twice_gives_404_and_no_duplicates(client, people):
    await login(client, "admin")
    preview = await upload(client, make_xlsx(GOOD))
    url = confirm_url(preview.text)
    assert (await post_form(client, url)).status_code == 200
    again = await post_form(client, url)
    assert again.status_code == 404
    assert "已经导入过了" in again.text
    assert await cadre_count() == 2 + len(GOOD)
    assert await AuditEvent.count().where(AuditEvent.action == "cadres.import") == 1


async def test_every_problem_is_listed_by_row_and_nothing_is_written(client, people):
    await login(client, "admin")
    rows = [
        GOOD[0],  # row 2
        ["", "解放区总工会", "工会干事", "13900000010", "", ""],  # 3: missing name
        ["钱一", "解放区人民医院公会", "工会干事", "13900000011", "", ""],  # 4: typo in unit
        ["孙二", "解放区", "工会干事", "13900000012", "", ""],  # 5: ambiguous unit
        ["周三", "解放区总工会", "工会干事", "1390000", "", ""],  # 6: invalid phone
        ["吴四", "解放区总工会", "工会干事", "13900000001", "", ""],  # 7: phone of row 2
        GOOD[0],  # 8: repeat of row 2
        ["郑五", "解放区总工会", "工会干事", "13800000001", "", ""],  # 9: phone has an account
        GOOD[1],  # 10: good
        ["冯六", "解放区总工会", "", "13900000013", "", ""],  # 11: missing position
    ]
    before = await User.count()
    response = await upload(client, make_xlsx(rows))
    assert response.status_code == 400
    page = text_of(response.text)
    assert "尚未导入任何数据" in page
    problems = re.findall(r"<li>(第 \d+ 行：[^<]*)</li>", unescape(response.text))
    expected = [
        "第 3 行：姓名为空。",
        "第 4 行：单位“解放区人民医院公会”不存在，您是否要找“解放区人民医院工会”",
        "第 5 行：单位“解放区”不唯一",
        "第 6 行：手机号“1390000”不是有效的 11 位手机号码",
        "第 7 行：手机号 13900000001 与第 2 行重复。",
        "第 8 行：与第 2 行完全相同（重复行）。",
        "第 9 行：手机号 13800000001 已被账号使用。",
        "第 11 行：职务为空。",
    ]
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem
    assert "有 8 处问题" in page
    assert 'action="/people/import/' not in response.text
    assert not re.search(r"确认导入 \d+ 名干部", page)
    assert await User.count() == before
    assert await Upload.count() == 0


async def test_csv_in_utf8_bom_and_gbk(client, people):
    await login(client, "admin")
    for n, encoding in enumerate(("utf-8", "utf-8-sig", "gbk")):
        rows = [["李明", "解放区总工会", "工会主席", f"1390000010{n}", "男", ""]]
        content = make_csv(rows, encoding)
        response = await upload(client, content, f"名单-{encoding}.csv", "text/csv")
        assert response.status_code == 200, (encoding, text_of(response.text))
        assert "有 1 名干部可以导入" in text_of(response.text)
        done = await post_form(client, confirm_url(response.text))
        assert done.status_code == 200
        user = await User.objects().where(User.username == f"1390000010{n}").first()
        assert user.name == "李明"
        assert user.position == "工会主席"


async def test_a_file_that_is_not_excel_gets_a_chinese_message(client, people):
    await login(client, "admin")
    response = await upload(client, b"%PDF-1.4 not a roster", "名单.pdf", "application/pdf")
    assert response.status_code == 400
    assert "只支持 Excel（.xlsx）或 CSV（.csv）文件" in text_of(response.text)
    broken = await upload(client, b"this is not a zip file at all", "名单.xlsx")
    assert broken.status_code == 400
    assert "不是有效的 Excel 文件" in text_of(broken.text)
    assert await Upload.count() == 0


async def test_a_workbook_that_unzips_too_large_is_refused_and_nothing_kept(client, people):
    await login(client, "admin")
    before = await User.count()
    content = make_xlsx(GOOD)
    buffer = io.BytesIO(content)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as package,
        package.open("xl/padding.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(201):  # 201 MB of spaces, about 200 KB zipped
            member.write(b" " * 2**20)
    response = await upload(client, buffer.getvalue())
    assert response.status_code == 400
    assert "解压后超过 200 MB" in text_of(response.text)
    assert await User.count() == before
    assert await Upload.count() == 0


async def test_an_empty_upload_asks_for_a_file(client, people):
    await login(client, "admin")
    response = await upload(client, b"", "", "application/octet-stream")
    assert response.status_code == 400
    assert "请选择要上传的文件" in text_of(response.text)
    no_field = await post_form(client, "/people/import", files={"other": ("x.txt", b"x")})
    assert no_field.status_code == 400
    assert "请选择要上传的文件" in text_of(no_field.text)
    empty_file = await upload(client, b"", "名单.xlsx")
    assert empty_file.status_code == 400
    assert "是空的" in text_of(empty_file.text)


async def test_unit_admin_may_import_only_into_their_own_units(client, people):
    await login(client, "jf-admin")
    rows = [GOOD[0], ["赵强", "中站区第一中学工会", "工会干事", "13900000003", "", ""]]
    response = await upload(client, make_xlsx(rows))
    assert response.status_code == 400
    page = text_of(response.text)
    assert "第 3 行：单位“中站区第一中学工会”" in page
    assert "不在您管理的范围内" in page
    assert "第 2 行" not in page
    assert await Upload.count() == 0

    ok = await upload(client, make_xlsx([GOOD[0]]))
    assert ok.status_code == 200
    url = confirm_url(ok.text)
    done = await post_form(client, url)
    assert done.status_code == 200
    user = await User.objects(User.unit).where(User.username == GOOD[0][3]).first()
    assert user.unit.name == "解放区人民医院工会"


async def test_nobody_confirms_another_persons_upload(client, people):
    await login(client, "zz-admin")
    preview = await upload(client, make_xlsx([GOOD[2]]))
    url = confirm_url(preview.text)
    client.cookies.clear()
    await login(client, "jf-admin")
    stolen = await post_form(client, url)
    assert stolen.status_code == 404
    assert await User.exists().where(User.username == GOOD[2][3]) is False
    assert await Upload.count() == 1
    client.cookies.clear()
    await login(client, "admin")
    assert (await post_form(client, url)).status_code == 404
    assert (await post_form(client, "/people/import/999999")).status_code == 404


async def test_cadres_and_trainers_may_not_import(client, people, tree):
    await make_user("trainer2", tree["city"], "trainer", "陈培训")
    for username in ("13800000001", "trainer"):
        client.cookies.clear()
        await login(client, username)
        assert (await client.get("/people/import")).status_code == 403
        assert (await client.get("/people/import/template.xlsx")).status_code == 403
        assert (await upload(client, make_xlsx(GOOD))).status_code == 403
        assert (await post_form(client, "/people/import/1")).status_code == 403
    assert await Upload.count() == 0
    assert await cadre_count() == 2


async def test_anonymous_visitor_is_sent_to_sign_in(client, people):
    response = await client.get("/people/import")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


async def test_upload_without_csrf_token_is_refused(client, people):
    await login(client, "admin")
    response = await client.post(
        "/people/import", files={"file": ("名单.xlsx", make_xlsx(GOOD), XLSX)}
    )
    assert response.status_code == 403
    assert await Upload.count() == 0


async def test_confirm_rechecks_and_writes_nothing_when_data_changed(client, people, tree):
    await login(client, "admin")
    preview = await upload(client, make_xlsx(GOOD))
    url = confirm_url(preview.text)
    # Meanwhile someone else gets an account with the phone of row 3.
    await make_user(GOOD[1][3], tree["jiefang"], "cadre", "抢先者", phone=GOOD[1][3])
    before = await User.count()
    response = await post_form(client, url)
    assert response.status_code == 409
    page = text_of(response.text)
    assert "数据已发生变化" in page
    assert f"第 3 行：手机号 {GOOD[1][3]} 已被账号使用。" in page
    assert 'action="/people/import/' not in response.text
    assert await User.count() == before
    assert await AuditEvent.count() == 0
    # The stale upload cannot be confirmed later.
    assert (await post_form(client, url)).status_code == 404


async def test_a_unit_deactivated_meanwhile_stops_the_import(client, people, tree):
    from app.tables import Unit

    await login(client, "admin")
    preview = await upload(client, make_xlsx(GOOD))
    await Unit.update({Unit.active: False}).where(Unit.id == tree["zhongzhan_g"].id)
    response = await post_form(client, confirm_url(preview.text))
    assert response.status_code == 409
    assert "第 4 行：单位“中站区第一中学工会”" in text_of(response.text)
    assert await cadre_count() == 2


async def test_full_width_phone_already_taken_is_reported(client, people):
    await login(client, "admin")
    row = ["郑五", "解放区总工会", "工会干事", "１３８００００００01", "", ""]
    response = await upload(client, make_xlsx([GOOD[0], row]))
    assert response.status_code == 400
    assert "第 3 行：手机号 13800000001 已被账号使用。" in text_of(response.text)


async def test_a_phone_on_file_for_a_staff_account_is_taken_too(client, people, tree):
    await make_user("staff-007", tree["city"], "trainer", "吴培训", phone="13911112222")
    await login(client, "admin")
    row = ["郑五", "解放区总工会", "工会干事", "13911112222", "", ""]
    response = await upload(client, make_xlsx([GOOD[0], row]))
    assert response.status_code == 400
    assert "第 3 行：手机号 13911112222 已被账号使用。" in text_of(response.text)


async def test_the_password_shown_works_only_for_the_new_account(client, people):
    await login(client, "admin")
    preview = await upload(client, make_xlsx([GOOD[0]]))
    done = await post_form(client, confirm_url(preview.text))
    password = re.search(r"<code>([^<]+)</code>", done.text).group(1)
    assert password != PASSWORD
    client.cookies.clear()
    assert (await login(client, GOOD[1][3], password)).status_code == 400


async def test_two_simultaneous_confirmations_import_once(client, people):
    # The test client runs one request at a time; httpx's ASGI transport runs the app in this
    # event loop, so both confirmations really are in flight together.
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await browser.get("/login")
        token = browser.cookies["csrftoken"]
        await browser.post(
            "/login", data={"username": "admin", "password": PASSWORD, "_csrf_token": token}
        )
        token = browser.cookies["csrftoken"]  # signing in hands out the session's own token
        preview = await browser.post(
            "/people/import",
            files={"file": ("名单.xlsx", make_xlsx(GOOD), XLSX)},
            data={"_csrf_token": token},
        )
        url = confirm_url(preview.text)
        first, second = await asyncio.gather(
            browser.post(url, data={"_csrf_token": token}),
            browser.post(url, data={"_csrf_token": token}),
        )
    assert sorted([first.status_code, second.status_code]) == [200, 404]
    assert await cadre_count() == 2 + len(GOOD)
    assert await AuditEvent.count().where(AuditEvent.action == "cadres.import") == 1


async def test_a_very_long_file_name_is_kept_short(client, people):
    await login(client, "admin")
    filename = "焦作市" * 100 + "干部名单.xlsx"
    preview = await upload(client, make_xlsx(GOOD), filename)
    assert preview.status_code == 200
    done = await post_form(client, confirm_url(preview.text))
    assert done.status_code == 200
    assert await cadre_count() == 2 + len(GOOD)


async def test_unconfirmed_uploads_are_removed_after_a_day(client, people):
    old = Upload(
        kind="cadres",
        filename="旧名单.xlsx",
        content=b"x",
        uploaded_by=people["jiefang_admin"].id,
        created_at=datetime.now(UTC) - timedelta(days=2),
    )
    await old.save()
    await login(client, "admin")
    assert (await upload(client, make_xlsx(GOOD))).status_code == 200
    assert [u["filename"] for u in await Upload.select(Upload.filename)] == ["名单.xlsx"]


def test_the_password_list_writes_every_cell_as_text_never_a_formula():
    from app.accounts.cadre_import import CadreDraft
    from app.accounts.people_import import CreatedAccount, accounts_xlsx

    draft = CadreDraft(2, "吴一", 3, '=HYPERLINK("x")', "=1+1", "13700000001", "男", "0012")
    sheet = load_workbook(io.BytesIO(accounts_xlsx([CreatedAccount(draft, "2345678923")])))
    row = next(sheet.worksheets[0].iter_rows(min_row=2))
    assert [c.value for c in row] == [
        1,
        "吴一",
        '=HYPERLINK("x")',
        "=1+1",
        "13700000001",
        "2345678923",
    ]
    assert [c.data_type for c in row] == ["n", "s", "s", "s", "s", "s"]
    assert all(c.number_format == "@" for c in row[1:])  # text, also when typed over
