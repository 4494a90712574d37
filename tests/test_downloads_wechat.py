"""Every download works inside WeChat: a real URL that, in WeChat's browser, answers with a
page saying how to open it in the phone's own browser (with the link to copy), and the file
with ?wx=direct or in any other browser. No data: or blob: link anywhere."""

from __future__ import annotations

import ast
import io
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

import docx
from litestar.routes import HTTPRoute

from app.asgi import create_app
from app.banks.model import Question
from app.banks.store import save_question
from app.tables import (
    Bank,
    Batch,
    ClassSession,
    Quiz,
    ReportRound,
    ReturnedReport,
    Training,
    UnitReport,
    Upload,
)
from tests.conftest import login, post_form
from tests.test_people_import import GOOD, confirm_url, make_xlsx, upload

ROOT = Path(__file__).resolve().parent.parent
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2218A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
WECHAT_PC_UA = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) "
    "WindowsWechat(0x63090a13) XWEB/8555 Flue"
)
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
# A route that sends a file ends in the file's suffix.
FILE_PATH = re.compile(r"\.(xlsx|xls|csv|md|txt|docx|doc|pdf|zip|json)$")


def file_routes() -> list[str]:
    """The path of every GET route that sends a file, as the app has them."""
    app = create_app()
    paths = []
    for route in app.routes:
        if (
            isinstance(route, HTTPRoute)
            and "GET" in route.methods
            and FILE_PATH.search(route.path)
            and not route.path.startswith(("/api", "/schema"))
        ):
            paths.append(route.path)
    return sorted(set(paths))


def text_of(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page))


async def _ids(client, tree) -> dict[str, object]:
    """A value for each path parameter a download route may take."""
    training = Training(title="微信下载测试培训", kind="rotation", unit=tree["city"].id)
    await training.save()
    batch = Batch(training=training.id, name="第一期", sort_order=1)
    await batch.save()
    session = ClassSession(batch=batch.id, starts_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    await session.save()
    bank = Bank(slug="weixin-xiazai", title="微信下载测试题库")
    await bank.save()
    question = Question(key="t-001", type="true_false", stem="这是一道判断题。", answer=("对",))
    await save_question(bank.id, question, None, new=True)
    quiz = Quiz(slug="weixin-ceshi", title="微信下载测试测验")
    await quiz.save()
    preview = await upload(client, make_xlsx(GOOD))
    done = await post_form(client, confirm_url(preview.text))
    assert done.status_code == 200
    kept = await Upload.select(Upload.id).where(Upload.kind == "password_list").first()
    report_round = ReportRound(
        title="微信下载测试报送",
        unit_kinds='["county_federation"]',
        credit_year=2026,
        deadline=date(2026, 12, 31),
    )
    await report_round.save()
    document = io.BytesIO()
    docx.Document().save(document)
    report = UnitReport(
        round=report_round.id,
        unit=tree["jiefang"].id,
        document=document.getvalue(),
        document_name="解放区总工会报告.docx",
        uploaded_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    await report.save()
    returned = ReturnedReport(
        report=report.id, document=document.getvalue(), document_name="退回前的报告.docx"
    )
    await returned.save()
    return {
        "returned_id": returned.id,
        "round_id": report_round.id,
        "training_id": training.id,
        "batch_id": batch.id,
        "session_id": session.id,
        "bank_slug": bank.slug,
        "quiz_slug": quiz.slug,
        "import_id": kept["id"],
    }


def fill(path: str, ids: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"{path}: give the test a value for {{{name}}} (see _ids)"
        return str(ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def test_every_download_route_gives_wechat_the_page_and_others_the_file(client, people, tree):
    await login(client, "admin")
    ids = await _ids(client, tree)
    ids.update(person_id=people["cadre"].id, unit_id=tree["jiefang"].id)
    routes = file_routes()
    # The downloads there are today, so that a lost route is noticed too.
    for known in (
        "/people/import/template.xlsx",
        "/people/imports/{import_id:int}/passwords.xlsx",
        "/people.xlsx",
        "/admin/quizzes/{quiz_slug:str}/scores.xlsx",
        "/banks/template.xlsx",
        "/reports/trainings/{training_id:int}/roster.xlsx",
    ):
        assert known in routes
    problems = []
    for path in routes:
        url = fill(path, ids) + "?status=all"
        plain = await client.get(url, headers={"user-agent": CHROME_UA})
        if plain.status_code != 200 or "attachment" not in plain.headers.get(
            "content-disposition", ""
        ):
            problems.append(f"{url}: no file outside WeChat ({plain.status_code})")
            continue
        for agent in (WECHAT_UA, WECHAT_PC_UA):
            page = await client.get(url, headers={"user-agent": agent})
            words = text_of(page.text)
            if (
                page.status_code != 200
                or not page.headers["content-type"].startswith("text/html")
                or "content-disposition" in page.headers
                or "右上角 ··· ，选择“在浏览器打开”" not in words
                or "复制链接" not in page.text
                or f'value="http://testserver.local{url}"' not in page.text.replace("&amp;", "&")
            ):
                problems.append(f"{url}: WeChat does not get the page to open it in a browser")
                continue
            direct = re.search(r'href="([^"]*wx=direct[^"]*)"', page.text)
            if not direct or "仍然下载" not in words:
                problems.append(f"{url}: no 仍然下载 link")
                continue
            got = await client.get(unescape(direct.group(1)), headers={"user-agent": agent})
            # Workbooks, archives and drafts are made anew: their zip entries carry the time.
            made = url.split("?")[0].endswith((".xlsx", ".zip", ".docx"))
            if got.status_code != 200 or (got.content != plain.content and not made):
                problems.append(f"{url}: ?wx=direct does not give the file in WeChat")
            elif "attachment" not in got.headers.get("content-disposition", ""):
                problems.append(f"{url}: ?wx=direct gives no attachment")
    assert not problems, "\n".join(problems)


async def test_the_page_keeps_the_query_and_checks_access_first(client, people, tree):
    await login(client, "admin")
    ids = await _ids(client, tree)
    url = f"/reports/trainings/{ids['training_id']}/roster.xlsx?unit={tree['jiefang'].id}"
    page = await client.get(url, headers={"user-agent": WECHAT_UA})
    assert f'value="http://testserver.local{url}"' in page.text
    assert f"unit={tree['jiefang'].id}&amp;wx=direct" in page.text
    # Someone who may not have the file gets the refusal, not the page with its name.
    client.cookies.clear()
    await login(client, "zz-admin")
    refused = await client.get(url, headers={"user-agent": WECHAT_UA})
    assert refused.status_code == 403
    assert "微信下载测试培训" not in refused.text


def test_no_data_or_blob_link_in_any_template_or_script():
    link = re.compile(r"""(?:["'(=]\s*|url\(\s*)(?:data|blob):""", re.IGNORECASE)
    found = []
    for folder, suffixes in (
        (ROOT / "templates", (".html",)),
        (ROOT / "app/static", (".js", ".css", ".html", ".svg")),
    ):
        for path in folder.rglob("*"):
            if path.suffix in suffixes:
                text = path.read_text(encoding="utf-8")
                for line_no, line in enumerate(text.splitlines(), start=1):
                    if link.search(line) or "createObjectURL" in line:
                        found.append(f"{path.relative_to(ROOT)}:{line_no}: {line.strip()}")
    assert found == []


def test_only_lib_downloads_makes_a_file_response():
    """A file goes out through app/lib/downloads.py (which knows about WeChat): no other
    module sets Content-Disposition, makes a Stream, or sends a File as an attachment."""
    found = []
    for path in (ROOT / "app").rglob("*.py"):
        if path == ROOT / "app/lib/downloads.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "content-disposition" in source.lower():
            found.append(f"{path}: Content-Disposition")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "Stream":
                    found.append(f"{path}:{node.lineno}: Stream(...)")
                if node.func.id == "File":
                    inline = any(
                        k.arg == "content_disposition_type"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value == "inline"
                        for k in node.keywords
                    )
                    if not inline:
                        found.append(f"{path}:{node.lineno}: File(...) as an attachment")
    assert found == []


def test_every_route_that_returns_a_file_ends_in_its_suffix():
    """So that the first test above asks every download route in WeChat."""
    sends_file = re.compile(r"\b(Stream|File|FileResponse|FileStream)\b|Response\[bytes\]")
    found = []
    for route in create_app().routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            returns = str(handler.fn.__annotations__.get("return", ""))
            if (
                sends_file.search(returns)
                and not FILE_PATH.search(route.path)
                # Shown on its page, not downloaded: the site's icon and a ledger photo.
                and route.path not in ("/favicon.ico", "/reporting/photos/{photo_id:int}/photo.jpg")
                and not route.path.startswith("/api")
            ):
                found.append(f"{route.path} returns {returns}")
    assert found == []
