"""The list of initial passwords of an import: a real download for the person who imported,
kept encrypted for a limited time, then deleted with a page that says what to do instead."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.accounts.people_import import PASSWORD_LIST
from app.asgi import create_app
from app.lib.sealing import unseal
from app.lib.uploads import UPLOAD_KEPT_FOR, remove_stale_uploads
from app.tables import AuditEvent, Upload, User
from tests.conftest import login, make_user, post_form
from tests.test_people_import import GOOD, confirm_url, make_xlsx, text_of, upload

LIST_LINK = re.compile(r'href="(/people/imports/(\d+)/passwords\.xlsx)"')
WECHAT_UA = "Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.47.2560 WeChat/arm64"


# The rows of GOOD in 解放区, which its unit admin may import.
JIEFANG = [row for row in GOOD if "解放区" in row[1]]


async def import_three(client, rows: list[list[str]] | None = None) -> tuple[str, str]:
    """Import `rows` (GOOD, or JIEFANG for a 解放区 admin) as the signed-in person; the page
    and the list's URL."""
    signed_in = await client.get("/people/import")
    assert signed_in.status_code == 200
    preview = await upload(client, make_xlsx(rows or GOOD))
    assert preview.status_code == 200, preview.text
    done = await post_form(client, confirm_url(preview.text))
    assert done.status_code == 200, done.text
    found = LIST_LINK.search(done.text)
    assert found, "no real URL for the list of initial passwords"
    return done.text, found.group(1)


def shown_passwords(page: str) -> dict[str, str]:
    return dict(re.findall(r"<td>(1\d{10})</td><td><code>([^<]+)</code>", page))


async def test_the_importer_downloads_the_list_from_a_real_url(client, people):
    await login(client, "jf-admin")
    page, url = await import_three(client, JIEFANG)
    assert "data:" not in page and "blob:" not in page
    assert "24 小时" in text_of(page)

    response = await client.get(url)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "姓名", "单位", "职务", "用户名（手机号）", "初始密码")
    # Every row as the database has it, and the password the page showed.
    shown = shown_passwords(page)
    assert len(rows) == 1 + len(JIEFANG)
    for n, (number, name, unit, position, phone, password) in enumerate(rows[1:], start=1):
        assert number == n
        user = await User.objects(User.unit).where(User.username == phone).first()
        assert (user.name, user.unit.name, user.position) == (name, unit, position)
        assert shown[phone] == password
    # Downloaded again: the same file (it is kept, not taken).
    assert (await client.get(url)).content == response.content
    events = await AuditEvent.select().where(AuditEvent.action == "cadres.password_list")
    assert len(events) == 2 and events[0]["actor"] == people["jiefang_admin"].id


async def test_the_file_on_disk_is_encrypted(client, people):
    await login(client, "admin")
    _, url = await import_three(client)
    kept = await Upload.select().where(Upload.kind == PASSWORD_LIST).first()
    stored = bytes(kept["content"])
    assert not stored.startswith(b"PK")
    with pytest.raises(zipfile.BadZipFile):
        load_workbook(io.BytesIO(stored))
    for phone in (row[3] for row in GOOD):
        assert phone.encode() not in stored
    assert unseal(stored).startswith(b"PK")
    assert (await client.get(url)).content == unseal(stored)


async def test_nobody_else_gets_the_list(client, people):
    await login(client, "jf-admin")
    _, url = await import_three(client, JIEFANG)
    for other in ("admin", "zz-admin"):
        someone = type(client)(app=create_app())
        someone.follow_redirects = False
        async with someone:
            await login(someone, other)
            response = await someone.get(url)
            assert response.status_code == 404, other
            assert "attachment" not in response.headers.get("content-disposition", "")
            assert "没有找到这份清单" in text_of(response.text)
    for lesser in ("trainer", "13800000001"):
        someone = type(client)(app=create_app())
        someone.follow_redirects = False
        async with someone:
            await login(someone, lesser)
            assert (await someone.get(url)).status_code == 403, lesser
    anonymous = type(client)(app=create_app())
    anonymous.follow_redirects = False
    async with anonymous:
        assert (await anonymous.get(url)).status_code in (302, 401)
    # An id that is no list at all: the same page.
    missing = await client.get("/people/imports/999999/passwords.xlsx")
    assert missing.status_code == 404
    assert "没有找到这份清单" in text_of(missing.text)


async def test_an_expired_list_says_so_and_is_deleted(client, people):
    await login(client, "jf-admin")
    _, url = await import_three(client, JIEFANG)
    assert await Upload.count().where(Upload.kind == PASSWORD_LIST) == 1
    await Upload.update(
        {Upload.created_at: datetime.now(UTC) - UPLOAD_KEPT_FOR - timedelta(minutes=1)}
    ).where(Upload.kind == PASSWORD_LIST)
    response = await client.get(url)
    assert response.status_code == 410
    assert "attachment" not in response.headers.get("content-disposition", "")
    words = text_of(response.text)
    assert "已过期" in words and "重置密码" in words
    assert await Upload.count().where(Upload.kind == PASSWORD_LIST) == 0
    assert (await client.get(url)).status_code == 404


async def test_lists_past_their_time_are_removed_at_start_up(client, people):
    await login(client, "admin")
    await import_three(client)
    await import_three_more(client)
    await Upload.update({Upload.created_at: datetime.now(UTC) - timedelta(days=2)}).where(
        Upload.id == (await Upload.select(Upload.id).order_by(Upload.id).first())["id"]
    )
    assert await remove_stale_uploads() == 1
    assert await Upload.count().where(Upload.kind == PASSWORD_LIST) == 1


async def import_three_more(client) -> None:
    rows = [[name, unit, pos, "137" + phone[3:], g, s] for name, unit, pos, phone, g, s in GOOD]
    preview = await upload(client, make_xlsx(rows))
    assert (await post_form(client, confirm_url(preview.text))).status_code == 200


async def test_in_wechat_the_list_link_gives_the_page_to_open_it_in_a_browser(client, people):
    await login(client, "jf-admin")
    _, url = await import_three(client, JIEFANG)
    response = await client.get(url, headers={"user-agent": WECHAT_UA})
    assert response.status_code == 200
    assert "content-disposition" not in response.headers
    words = text_of(response.text)
    assert "在浏览器打开" in words and "干部账号与初始密码" in words
    # Showing the page is no download: not in the audit log.
    assert await AuditEvent.count().where(AuditEvent.action == "cadres.password_list") == 0
    direct = await client.get(url + "?wx=direct", headers={"user-agent": WECHAT_UA})
    assert direct.status_code == 200
    assert "attachment" in direct.headers["content-disposition"]
    load_workbook(io.BytesIO(direct.content))


async def test_the_importer_signed_in_elsewhere_still_gets_the_list(client, people, tree):
    """Opened in the phone's own browser, the importer signs in again there."""
    await make_user("jf-admin-2", tree["jiefang"], "unit_admin", "赵二")
    await login(client, "jf-admin")
    _, url = await import_three(client, JIEFANG)
    browser = type(client)(app=create_app())
    browser.follow_redirects = False
    async with browser:
        await login(browser, "jf-admin")
        assert (await browser.get(url)).status_code == 200
