"""Every page carries the security headers, and what people typed is shown as text.

Markup is typed, uploaded or written by the command line into every free-text field, then
every page showing it is read with an HTML parser: no element, attribute or link the
payload could have made may appear, and the payload must be there as visible text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from openpyxl import Workbook

from app.accounts.commands import create_user
from app.banks.exporting import export_bytes
from app.banks.model import Question
from app.banks.own_format import BankHeader
from app.banks.store import current_questions, save_question
from app.course import upload as course_upload
from app.course.files import LessonText, ModuleText, SourceInfo, render_module
from app.course.lessons import read_course_dir, render_markdown, sync_course
from app.settings import get_settings
from app.tables import (
    Bank,
    Batch,
    ClassSession,
    Completion,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    Training,
    Unit,
    User,
)
from app.trainings.certificates import mask_name
from app.trainings.progress import recompute
from tests.conftest import PASSWORD, csrf, login, post_form
from tests.test_api import bearer, make_token
from tests.test_course_upload import form_values
from tests.test_quizzes import FETCH, paper, start

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PAGES = ("/", "/course", "/course/xuexi-daodu", "/quizzes/xuexi-daodu-quiz", "/mistakes")

# Closes an attribute and a tag, then opens three ways to run script.
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'><svg onload=alert(1)>"
# For fields of at most 50 characters, and where "/" can't go (URLs, file names).
SHORT = "\"'><img src=x onerror=alert(1)>"
# Markdown that would link to script, or carry raw HTML, if the renderer let it.
MARKDOWN = (
    "[点我](javascript:alert(1)) <script>alert(1)</script>\n\n"
    '<iframe src="javascript:alert(1)"></iframe>\n\n'
    '![图](javascript:alert(1)) <a href="javascript:alert(1)">链接</a>'
)
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class _Page(HTMLParser):
    """What a browser would build from the page: elements, attributes and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.values: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}> element")
        if tag == "script":
            self._in_script = True
            if not values.get("src", "").startswith("/static/"):
                self.problems.append(f"<script> not from /static/: {values}")
        if tag == "img" and values.get("src") == "x":
            self.problems.append("<img src=x> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in _URL_ATTRIBUTES and value:
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(("javascript:", "data:text", "vbscript:")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            if value and name not in ("class", "id") and not name.startswith("aria-"):
                self.values.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data[:80]!r}")
        self.text.append(data)


def problems_of(html: str, *shown: str) -> list[str]:
    """What is wrong with a page: markup the payload made, or a payload not shown as text."""
    page = _Page()
    page.feed(html)
    page.close()
    text = "".join(page.text)
    missing = [
        f"not shown as text: {s!r}"
        for s in shown
        if s not in text and not any(s in value for value in page.values)
    ]
    return page.problems + missing


class Pages:
    """Pages fetched along the way; checked all at once, every failure listed."""

    def __init__(self, client) -> None:
        self.client = client
        self.failures: list[str] = []
        self.count = 0

    def check(self, label: str, response, *shown: str, status: int | tuple = 200) -> str:
        self.count += 1
        statuses = status if isinstance(status, tuple) else (status,)
        if response.status_code not in statuses:
            self.failures.append(f"{label}: status {response.status_code}")
        for problem in problems_of(response.text, *shown):
            self.failures.append(f"{label}: {problem}")
        return response.text

    async def get(self, label: str, url: str, *shown: str, status: int | tuple = 200) -> str:
        return self.check(f"{label} ({url})", await self.client.get(url), *shown, status=status)

    def assert_clean(self) -> None:
        assert not self.failures, "\n".join(self.failures)


NEW_PASSWORD = "Xin-mima-2024-hao"


async def sign_in(client, username: str) -> None:
    """Sign in, choosing a new password first when the account still has its initial one."""
    await post_form(client, "/logout")
    for password in (PASSWORD, NEW_PASSWORD):
        response = await login(client, username, password)
        if response.status_code in (302, 303):
            break
    else:
        raise AssertionError(f"{username} could not sign in")
    if response.headers["location"].startswith("/password"):
        changed = await post_form(
            client,
            "/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
        assert changed.status_code in (302, 303), changed.text


def csv_file(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_file(*rows: list[str]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("html", "found"),
    [
        (f"<p>{PAYLOAD}</p>", "<script> not from /static/"),
        ('<input value="x" onfocus="alert(1)">', "event handler"),
        ('<a href=" JaVa\tScRiPt:alert(1)">x</a>', "<a href="),
        ("<iframe src=x></iframe>", "<iframe> element"),
        ('<p title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">x</p>', "not shown"),
    ],
)
def test_the_checker_finds_live_markup(html, found):
    assert any(found in problem for problem in problems_of(html, "never shown"))


def test_the_checker_accepts_escaped_markup_in_text_and_attributes():
    escaped = PAYLOAD.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&#34;").replace("'", "&#39;")
    html = f'<p>{escaped}</p><input value="{escaped}"><script src="/static/quiz.js"></script>'
    assert problems_of(html, PAYLOAD) == []


# ---------------------------------------------------------------- headers


async def test_every_page_has_the_security_headers(client, people, content):
    await login(client, "admin")
    for path in (*PAGES, "/login", "/banks", "/reports", "/trainings", "/admin/quizzes"):
        response = await client.get(path)
        assert response.status_code in (200, 302), path
        csp = response.headers["content-security-policy"]
        assert "script-src" not in csp or "'unsafe-inline'" not in csp
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


def assert_security_headers(response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "same-origin", what


async def test_static_files_and_the_api_carry_the_security_headers(client, people, tree):
    token = await make_token(tree["jiefang"], people["admin"])
    responses = {
        "static file": await client.get("/static/app.css"),
        "missing static file": await client.get("/static/no-such-file.css"),
        "API answer": await client.get("/api/v1/trainings", headers=bearer(token)),
        "API without a token": await client.get("/api/v1/trainings"),
        "API 404 of a route": await client.get("/api/v1/no-such-route", headers=bearer(token)),
        "API 404 before routing": await client.get("/api/no-such-version"),
        "API 405": await client.post("/api/v1/trainings", headers=bearer(token)),
        "page 404 before routing": await client.get("/no-such-page"),
        "redirect to sign in": await client.get("/people"),
    }
    expected = {
        "static file": 200,
        "missing static file": 404,
        "API answer": 200,
        "API without a token": 401,
        "API 404 of a route": 404,
        "API 404 before routing": 404,
        "API 405": 405,
        "page 404 before routing": 404,
        "redirect to sign in": 302,
    }
    for what, response in responses.items():
        assert response.status_code == expected[what], what
        assert_security_headers(response, what)
        assert "strict-transport-security" not in response.headers, what


async def test_strict_transport_security_on_every_response_when_served_over_https(
    people, tree, monkeypatch
):
    from litestar.testing import AsyncTestClient

    from app import asgi

    https = dataclasses.replace(get_settings(), https=True)
    monkeypatch.setattr(asgi, "get_settings", lambda: https)
    token = await make_token(tree["jiefang"], people["admin"])
    async with AsyncTestClient(app=asgi.create_app(), base_url="https://testserver.local") as c:
        c.follow_redirects = False
        for url, headers in (
            ("/login", {}),
            ("/", {}),
            ("/static/app.css", {}),
            ("/static/no-such-file.css", {}),
            ("/api/v1/trainings", bearer(token)),
            ("/api/v1/trainings", {}),
            ("/no-such-page", {}),
        ):
            response = await c.get(url, headers=headers)
            hsts = response.headers.get("strict-transport-security", "")
            assert re.fullmatch(r"max-age=\d{8,}(; includeSubDomains)?", hsts), url
            assert int(hsts.split("=")[1].split(";")[0]) >= 31_536_000, url


@pytest.fixture
async def reported(tree, people, content):
    """A training with the cadre enrolled and finished (with a certificate)."""
    training = Training(
        title="缓存测试轮训", kind="rotation", unit=tree["city"].id, credit_hours=8.0
    )
    await training.save()
    batch = Batch(training=training.id, name="第一期")
    await batch.save()
    cadre = people["cadre"]
    enrollment = Enrollment(
        training=training.id,
        batch=batch.id,
        account=cadre.id,
        unit=cadre.unit,
        quiz_score=91.0,
        completed_at=datetime.now(UTC),
    )
    await enrollment.save()
    completion = Completion(
        training=training.id, account=cadre.id, enrollment=enrollment.id, code="HUANCUN01"
    )
    await completion.save()
    return {"training": training.id, "completion": completion.id}


async def test_pages_and_downloads_with_names_or_scores_are_never_stored(client, people, reported):
    t, c = reported["training"], reported["completion"]
    reports = f"/reports/trainings/{t}"
    per_role = {
        None: ["/login", "/verify/HUANCUN01", "/verify/NOSUCHCODE"],
        "13800000001": ["/", "/my/trainings", f"/my/certificates/{c}", "/mistakes", "/checkin"],
        "jf-admin": [
            "/",
            "/people",
            f"/people/{people['cadre'].id}",
            "/units",
            f"{reports}/roster",
        ],
        "trainer": [
            "/",
            "/trainings",
            f"/trainings/{t}",
            f"/trainings/{t}/enrollments",
            f"/trainings/{t}/certificates/{c}",
            "/banks/xuexi-daodu",
            "/admin/quizzes",
        ],
        "admin": ["/", "/audit", "/reports", f"{reports}/summary", "/admin/api-tokens"],
    }
    downloads = {
        "jf-admin": [
            "/people/import/template.xlsx",
            *(
                f"{reports}/{kind}.{ext}"
                for kind in ("summary", "roster", "reminders")
                for ext in ("xlsx", "csv")
            ),
        ],
        "trainer": [
            "/banks/template.xlsx",
            "/banks/xuexi-daodu/export.md",
            "/banks/xuexi-daodu/export.gift.txt",
            "/banks/xuexi-daodu/export.xlsx",
        ],
    }
    for account in per_role:
        if account:
            await login(client, account)
        for url in (*per_role[account], *downloads.get(account, [])):
            response = await client.get(url)
            assert response.status_code in (200, 404), f"{account} {url}"
            assert "no-store" in response.headers.get("cache-control", ""), f"{account} {url}"
            if url in downloads.get(account, []):
                assert response.headers["content-disposition"].startswith("attachment"), url
        if account:
            await post_form(client, "/logout")
    # Static files may be kept by the browser: they hold nobody's data.
    assert "no-store" not in (await client.get("/static/app.css")).headers.get("cache-control", "")


# ---------------------------------------------------------------- the Markup the app makes


@pytest.mark.parametrize(
    "text",
    [
        MARKDOWN,
        PAYLOAD,
        "[x](JAVASCRIPT:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "<javascript:alert(1)>",
        "[x]: javascript:alert(1)\n\n[y][x]",
        '<a href="javascript:alert(1)">x</a>',
        "```\n</code><script>alert(1)</script>\n```",
        "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_trainer_markdown_renders_no_raw_html_and_no_script_links(text):
    assert problems_of(str(render_markdown(text))) == []


async def test_a_question_typed_with_markup_is_shown_as_text_on_the_paper(client, people, content):
    bank = await Bank.select(Bank.id).where(Bank.slug == "xuexi-daodu").first()
    for question in (await current_questions(bank["id"])).values():
        options = tuple(f"{option}{ATTACK}" for option in question.options)
        changed = dataclasses.replace(
            question, stem=question.stem + ATTACK, options=options, explanation=ATTACK
        )
        await save_question(bank["id"], changed, None, new=False)
    await login(client, "13800000001")
    attempt_id = await start(client)
    page = (await client.get(f"/attempts/{attempt_id}")).text
    assert "<script>alert" not in page and "<img src=x" not in page
    await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    result = (await client.get(f"/attempts/{attempt_id}/result")).text
    assert "&lt;script&gt;alert" in result and "<script>alert" not in result
    assert len(await paper(attempt_id)) == 10
    await post_form(client, "/logout")
    await login(client, "trainer")
    listing = (await client.get("/banks/xuexi-daodu")).text
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing


# ---------------------------------------------------------------- units, people, rosters


async def upload_file(client, url: str, filename: str, content: bytes, **fields: str):
    return await client.post(
        url,
        files={"file": (filename, content, "application/octet-stream")},
        data={**fields, "_csrf_token": csrf(client)},
    )


def text_of(page: str) -> str:
    """The page's words, for a failing assertion's message."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))[-1500:]


def action_of(page: str, pattern: str) -> str:
    found = re.search(f'action="({pattern})"', page)
    assert found, f"no form posting to {pattern}: {text_of(page)}"
    return found.group(1)


async def test_units_people_and_imported_cadres_show_markup_as_text(client, people, tree):
    pages = Pages(client)
    await sign_in(client, "admin")
    made = await post_form(
        client,
        "/units",
        {"name": PAYLOAD, "kind": "grassroots_union", "parent": str(tree["jiefang"].id)},
    )
    assert made.status_code in (302, 303), made.text
    unit = await Unit.objects().where(Unit.name == PAYLOAD).first()
    renamed = await post_form(
        client,
        f"/units/{tree['zhongzhan_g'].id}",
        {"name": SHORT, "kind": "grassroots_union", "parent": str(tree["zhongzhan"].id)},
    )
    assert renamed.status_code in (302, 303), renamed.text
    refused = await post_form(client, "/units", {"name": PAYLOAD, "kind": "x", "parent": "x"})
    pages.check("单位表单（被拒）", refused, PAYLOAD, status=400)

    # People: names may hold only letters, so the form refuses markup and shows it back.
    form = {
        "name": PAYLOAD,
        "username": "xss-cadre",
        "phone": "",
        "unit": str(unit.id),
        "position": SHORT,
        "gender": "",
        "staff_no": SHORT,
        "role": "cadre",
    }
    pages.check(
        "新增人员（被拒）", await post_form(client, "/people/new", form), PAYLOAD, status=400
    )
    created = await post_form(client, "/people/new", {**form, "name": "刘新人"})
    pages.check("新增人员", created, PAYLOAD)
    cadre = await User.objects().where(User.username == "xss-cadre").first()
    assert (cadre.position, cadre.staff_no) == (SHORT, SHORT)

    # The command line takes any name: one account of each role carries the payload.
    # Names have at most 50 characters: the short payload.
    await create_user("trainer", "焦作市总工会", "xss-trainer", SHORT, PASSWORD)
    await create_user("unit_admin", PAYLOAD, "xss-admin", SHORT, PASSWORD)
    await create_user("cadre", PAYLOAD, "13900000009", SHORT, PASSWORD)
    cli_cadre = await User.objects().where(User.username == "13900000009").first()

    # A roster whose cells carry markup: every cell named in the preview's problems.
    header = ["姓名", "单位", "职务", "手机号", "性别", "工号"]
    bad = csv_file(header, [PAYLOAD, PAYLOAD + "市", PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD])
    preview = await upload_file(client, "/people/import", f"{SHORT}.csv", bad)
    pages.check("导入干部（有问题）", preview, SHORT + ".csv", "<script>alert(1)", status=400)
    good = xlsx_file(header, ["王五", PAYLOAD, SHORT, "13900000010", "男", SHORT])
    preview = await upload_file(client, "/people/import", f"{SHORT}.xlsx", good)
    pages.check("导入干部（预览）", preview, SHORT + ".xlsx", PAYLOAD, SHORT)
    imported = await post_form(client, action_of(preview.text, r"/people/import/\d+"))
    pages.check("导入干部（完成）", imported, PAYLOAD, SHORT)
    assert await User.exists().where(User.name == "王五", User.position == SHORT)

    token = await post_form(client, "/admin/api-tokens", {"name": PAYLOAD, "unit": str(unit.id)})
    pages.check("新建接口令牌", token, PAYLOAD, status=201)

    for label, url, shown in [
        ("首页", "/", ()),
        ("单位", "/units", (PAYLOAD, SHORT)),
        ("单位编辑", f"/units/{unit.id}", (PAYLOAD,)),
        ("人员", "/people", (PAYLOAD, SHORT)),
        ("人员（本单位）", f"/people?unit={unit.id}", (PAYLOAD,)),
        ("人员（搜索）", f"/people?q={PAYLOAD}", (PAYLOAD,)),
        ("人员编辑", f"/people/{cadre.id}", (PAYLOAD, SHORT)),
        ("人员编辑（命令行）", f"/people/{cli_cadre.id}", (PAYLOAD,)),
        ("新增人员", "/people/new", (PAYLOAD,)),
        ("导入干部", "/people/import", ()),
        ("接口令牌", "/admin/api-tokens", (PAYLOAD,)),
        ("操作记录", "/audit", (PAYLOAD, SHORT)),
        ("报表", f"/reports?unit={tree['jiefang'].id}", (PAYLOAD,)),
    ]:
        await pages.get(label, url, *shown)
    for username in ("xss-admin", "xss-trainer", "13900000009"):
        await sign_in(client, username)
        await pages.get(f"首页（{username}）", "/", SHORT)
        await pages.get(f"修改密码（{username}）", "/password", SHORT)
    await pages.get("人员（学员无权查看）", "/people", status=403)
    await sign_in(client, "xss-admin")
    await pages.get("人员（单位管理员）", "/people", PAYLOAD, SHORT)
    await pages.get("单位（单位管理员）", "/units", PAYLOAD)
    pages.assert_clean()
    assert pages.count >= 25


# ---------------------------------------------------------------- banks, quizzes, attempts


def attack_questions(prefix: str, source_ref: str = SHORT) -> list[Question]:
    """One question of each type, markup in every field a trainer writes."""
    return [
        Question(
            key=f"{prefix}-1",
            type="single",
            stem=f"单选{PAYLOAD}",
            options=(PAYLOAD, SHORT, "正确选项"),
            answer=("C",),
            explanation=f"解析{PAYLOAD}",
            source_ref=source_ref,
            tags=(SHORT,),
            evidence=f"依据{PAYLOAD}",
        ),
        Question(
            key=f"{prefix}-2",
            type="multiple",
            stem=f"多选{PAYLOAD}",
            options=(PAYLOAD, SHORT, "丙"),
            answer=("A", "B"),
            explanation=f"解析{PAYLOAD}",
        ),
        Question(
            key=f"{prefix}-3",
            type="true_false",
            stem=f"判断{PAYLOAD}",
            answer=("对",),
            explanation=f"解析{PAYLOAD}",
        ),
        Question(
            key=f"{prefix}-4",
            type="fill_blank",
            stem=f"填空 ___ {PAYLOAD}",
            blanks=((SHORT, "正确"),),
            explanation=f"解析{PAYLOAD}",
        ),
    ]


PASTED = f"""一、单项选择题
1. 粘贴{PAYLOAD}（ B ）
A. {SHORT}
B. 正确
"""
QUESTION_FORM = {
    "type": "single",
    "stem": f"表单{PAYLOAD}",
    "option_A": PAYLOAD,
    "option_B": SHORT,
    "option_C": "正确选项",
    "correct_C": "1",
    "explanation": f"解析{PAYLOAD}",
    "source_ref_other": SHORT,
    "tags": SHORT,
    "evidence": f"依据{PAYLOAD}",
    "action": "save",
}


async def test_banks_questions_quizzes_and_answers_show_markup_as_text(client, people, content):
    pages = Pages(client)
    await sign_in(client, "trainer")
    refused = await post_form(client, "/banks", {"title": PAYLOAD, "module": PAYLOAD})
    pages.check("新建题库（被拒）", refused, PAYLOAD, status=400)
    made = await post_form(client, "/banks", {"title": PAYLOAD})
    assert made.status_code in (302, 303), made.text
    form_bank = made.headers["location"]  # its identifier made from the title
    form_slug = form_bank.rsplit("/", 1)[1]

    url = f"{form_bank}/questions/new"
    await pages.get("新建题目", url, PAYLOAD)
    preview = await post_form(client, f"{form_bank}/preview", QUESTION_FORM)
    pages.check("题目预览", preview, f"表单{PAYLOAD}", f"解析{PAYLOAD}", status=(200, 422))
    refused = await post_form(client, url, {**QUESTION_FORM, "correct_C": ""})
    pages.check("新建题目（被拒）", refused, f"表单{PAYLOAD}", SHORT, status=400)
    saved = await post_form(client, url, QUESTION_FORM)
    assert saved.status_code in (302, 303), text_of(saved.text)
    blank = {"type": "fill_blank", "stem": f"填空___{PAYLOAD}"}
    saved = await post_form(client, url, {**blank, "blanks": SHORT, "action": "save"})
    assert saved.status_code in (302, 303), text_of(saved.text)

    # Imported files in every format, and pasted text; the file names carry markup too.
    # A bank file names its module; its 出处 are then lessons of that module.
    imported = {}
    for fmt, suffix, module, ref in (
        ("own", ".md", "xuexi-daodu", "导语"),
        ("gift", ".gift", "", SHORT),
        ("xlsx", ".xlsx", "", SHORT),
    ):
        header = BankHeader(f"xss-{fmt}", PAYLOAD, module)
        content_ = export_bytes(header, attack_questions(f"xss-{fmt}", ref), fmt)
        # The own format names its bank; the others go to a new bank named in the form.
        title = "" if fmt == "own" else f"xss {fmt} {PAYLOAD}"
        fields = {"format": "auto", "bank": "", "new_title": title}
        sent = await upload_file(client, "/banks/import", f"{SHORT}{suffix}", content_, **fields)
        assert sent.status_code in (302, 303), text_of(sent.text)
        preview = await pages.get(f"导入预览（{fmt}）", sent.headers["location"], PAYLOAD, SHORT)
        done = await post_form(client, unescape(action_of(preview, r"/banks/import/\d+\?[^\"]*")))
        assert done.status_code in (302, 303), text_of(done.text)
        imported[fmt] = done.headers["location"]
    pasted = await client.post(
        "/banks/import",
        data={"format": "auto", "bank": form_slug, "text": PASTED, "_csrf_token": csrf(client)},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert pasted.status_code in (302, 303), text_of(pasted.text)
    # The preview's table cuts long stems short.
    await pages.get("导入预览（粘贴）", pasted.headers["location"], "粘贴<script>alert(1)</script>")
    aiken = f"爱肯{PAYLOAD}\nA. {SHORT}\nB. 正确\nANSWER: B\n".encode()
    sent = await upload_file(
        client, "/banks/import", f"{SHORT}.txt", aiken, format="aiken", bank=form_slug
    )
    assert sent.status_code in (302, 303), text_of(sent.text)
    await pages.get("导入预览（Aiken）", sent.headers["location"], "爱肯<script>alert(1)</script>")
    broken = f"---\nslug: xss-broken\ntitle: {PAYLOAD}\n---\n\n## {PAYLOAD}\n\n{PAYLOAD}\n"
    refused = await upload_file(
        client, "/banks/import", f"{SHORT}.md", broken.encode(), format="own", bank=""
    )
    pages.check("导入（有问题）", refused, status=(200, 302, 303, 400))

    # A quiz drawing one question of each type from the imported bank.
    quiz = {
        "title": PAYLOAD,
        "module": "xuexi-daodu",
        "time_limit_minutes": "30",
        "full_marks": "100",
        "pass_mark": "60",
        "max_attempts": "0",
        "counted_attempt": "highest",
        "review": "answers",
        "published": "1",
    }
    for n, kind in enumerate(("single", "multiple", "true_false", "fill_blank"), start=1):
        quiz.update({f"rule_{n}_type": kind, f"rule_{n}_count": "1", f"rule_{n}_points": "25"})
        quiz[f"rule_{n}_banks"] = "xss-own"
    refused = await post_form(client, "/admin/quizzes/new", {**quiz, "pass_mark": PAYLOAD})
    pages.check("新建测验（被拒）", refused, PAYLOAD, status=400)
    made = await post_form(client, "/admin/quizzes/new", quiz)
    assert made.status_code in (302, 303), text_of(made.text)
    ceyan = (await Quiz.select(Quiz.slug).where(Quiz.title == PAYLOAD).first())["slug"]

    # A cadre takes it, typing markup into the blank, and gets the rest wrong.
    await sign_in(client, "13800000001")
    await pages.get("测验", f"/quizzes/{ceyan}", PAYLOAD)
    attempt_id = await start(client, ceyan)
    await pages.get("答题", f"/attempts/{attempt_id}", PAYLOAD, SHORT)
    for item in await paper(attempt_id):
        value = {"single": "A", "multiple": "C", "true_false": "错"}.get(item.type, PAYLOAD)
        saved = await client.post(
            f"/attempts/{attempt_id}/answers",
            data={f"q{item.position}": value, "_csrf_token": csrf(client)},
            headers=FETCH,
        )
        assert saved.status_code == 200, saved.text
    await pages.get("答题（已保存）", f"/attempts/{attempt_id}", PAYLOAD)
    confirm = await post_form(client, f"/attempts/{attempt_id}/submit")
    pages.check("交卷确认", confirm, status=(200, 302, 303))
    await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    await pages.get("成绩与解析", f"/attempts/{attempt_id}/result", f"解析{PAYLOAD}", SHORT)
    await pages.get("错题本", "/mistakes", f"单选{PAYLOAD}", f"解析{PAYLOAD}")
    practice = await post_form(client, "/practice", {"source": "mistakes"})
    assert practice.status_code in (302, 303), practice.text
    await pages.get("错题练习", practice.headers["location"], PAYLOAD)
    await pages.get("课程模块（测验名称）", "/course/xuexi-daodu", PAYLOAD)
    await pages.get("学员首页", "/")

    await sign_in(client, "trainer")
    own = "xss-own"
    for label, url, shown in [
        ("题库", "/banks", (PAYLOAD,)),
        ("题库题目", f"/banks/{own}", ("单选<script>alert(1)</script>", PAYLOAD)),
        ("题库筛选", f"/banks/{own}?q={SHORT}&tag={SHORT}&ref={SHORT}", (SHORT,)),
        ("题目", f"/banks/{own}/questions/{own}-1", (f"单选{PAYLOAD}", f"依据{PAYLOAD}")),
        ("修改题目", f"/banks/{own}/questions/{own}-1/edit", (f"单选{PAYLOAD}", SHORT)),
        ("填空题", f"/banks/{own}/questions/{own}-4", (PAYLOAD, SHORT)),
        ("表单题目", f"{form_bank}/questions/{form_slug}-001", (f"表单{PAYLOAD}",)),
        ("覆盖情况", f"/banks/{own}/coverage", ()),
        ("GIFT 题库", imported["gift"], (PAYLOAD,)),
        ("Excel 题库", imported["xlsx"], (PAYLOAD,)),
        ("导入题库", "/banks/import", ()),
        ("测验管理", "/admin/quizzes", (PAYLOAD,)),
        ("修改测验", f"/admin/quizzes/{ceyan}/edit", (PAYLOAD,)),
        ("作答记录", f"/admin/quizzes/{ceyan}/attempts", (PAYLOAD, "孙学员")),
        ("答卷", f"/admin/attempts/{attempt_id}", (PAYLOAD, "孙学员")),
        ("培训管理员首页", "/", ()),
    ]:
        await pages.get(label, url, *shown)
    for suffix in (".md", ".gift.txt", ".xlsx"):
        exported = await client.get(f"/banks/{own}/export{suffix}")
        assert "html" not in exported.headers["content-type"]
        assert exported.headers["content-disposition"].startswith("attachment")
    pages.assert_clean()


# ---------------------------------------------------------------- course, lessons, search


NOTICE = f"""关于学习{PAYLOAD}的通知

各单位：{PAYLOAD}

一、{SHORT}提高认识

正文{PAYLOAD}

二、第二部分

{MARKDOWN}
"""


def links_under(page: str, prefix: str) -> list[str]:
    return sorted(
        {unescape(h) for h in re.findall(r'href="([^"]+)"', page) if unescape(h).startswith(prefix)}
    )


async def test_course_files_markdown_uploads_and_search_show_markup_as_text(
    client, people, tmp_path, monkeypatch
):
    pages = Pages(client)
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    settings = dataclasses.replace(get_settings(), course_dir=course_dir)
    monkeypatch.setattr(course_upload, "get_settings", lambda: settings)
    module = ModuleText(
        slug="xss-mokuai",
        title=PAYLOAD,
        order=1,
        source=SourceInfo(title=PAYLOAD, doc_number=SHORT, file=""),
        note=MARKDOWN,
        lessons=(
            LessonText(SHORT, PAYLOAD, (f"第一段{PAYLOAD}", MARKDOWN), key_points=MARKDOWN),
            LessonText("二", f"第二课{PAYLOAD}", (f"检索用{PAYLOAD}",), key_points=PAYLOAD),
        ),
    )
    (course_dir / "xss-mokuai.md").write_text(render_module(module), encoding="utf-8")
    await sync_course(read_course_dir(course_dir))  # as `peixun init` loads the course

    # A trainer uploads a notice with markup in its title, headings and text.
    await sign_in(client, "trainer")
    sent = await upload_file(client, "/course/import", f"{SHORT}.md", NOTICE.encode())
    assert sent.status_code in (302, 303), text_of(sent.text)
    plan = await pages.get("导入文件（方案）", sent.headers["location"], PAYLOAD, SHORT)
    await pages.get("导入文件", "/course/import", "img src=x onerror=alert(1)")  # name tidied
    form = form_values(plan)
    form.update({"module-1-slug": "xss-daoru", "module-1-title": PAYLOAD})
    for key in [k for k in form if k.endswith("-title") and k.startswith("part-")]:
        form[key] = f"{form[key]}{SHORT}"
    preview = await post_form(client, sent.headers["location"], {**form, "action": "preview"})
    pages.check("导入文件（预览）", preview, PAYLOAD, SHORT)
    bad = {**form, "module-1-slug": PAYLOAD, "action": "preview"}
    pages.check(
        "导入文件（被拒）", await post_form(client, sent.headers["location"], bad), status=400
    )
    done = await post_form(client, sent.headers["location"], {**form, "action": "publish"})
    assert done.status_code in (302, 303), text_of(done.text)

    await sign_in(client, "13800000001")
    course = await pages.get("课程", "/course", PAYLOAD)
    modules = [u for u in links_under(course, "/course/") if u.count("/") == 2]
    assert {"/course/xss-mokuai", "/course/xss-daoru"} <= set(modules), modules
    for url in modules:
        listing = await pages.get("模块", url, PAYLOAD if url.endswith("xss-") else SHORT)
        for lesson_url in links_under(listing, url + "/"):
            await pages.get("课文", lesson_url, SHORT)
    note = await client.get("/course/xss-mokuai")
    assert "点我" in note.text and 'href="javascript' not in note.text.lower()
    lesson = await client.get(links_under(note.text, "/course/xss-mokuai/")[0])
    assert "<aside" in lesson.text and "&lt;iframe" in lesson.text  # 学习要点, its HTML as text
    assert pages.count >= 10, pages.count
    for query in ("alert", "<script>", SHORT, "检索用"):
        await pages.get(f"搜索 {query}", f"/course/search?q={quote(query)}", query)
    pages.assert_clean()


# ---------------------------------------------------------------- trainings to certificates


def svg_tags(page: str) -> set[str]:
    """The elements of the inline QR codes (the only `| safe` output besides the CSRF field)."""
    return {
        t for svg in re.findall(r"<svg.*?</svg>", page, re.S) for t in re.findall(r"<(\w+)", svg)
    }


async def test_trainings_attendance_certificates_and_reports_show_markup_as_text(
    client, people, tree, content
):
    pages = Pages(client)
    await sign_in(client, "admin")
    made = await post_form(
        client,
        "/units",
        {"name": PAYLOAD, "kind": "grassroots_union", "parent": str(tree["jiefang"].id)},
    )
    assert made.status_code in (302, 303), text_of(made.text)
    await create_user("cadre", PAYLOAD, "13900000009", SHORT, PASSWORD)
    await create_user("unit_admin", PAYLOAD, "xss-admin", SHORT, PASSWORD)
    roster = csv_file(["姓名", "单位", "职务", "手机号"], ["王五", PAYLOAD, SHORT, "13900000010"])
    preview = await upload_file(client, "/people/import", "名单.csv", roster)
    await post_form(client, action_of(preview.text, r"/people/import/\d+"))
    cadre = await User.objects().where(User.username == "13900000009").first()
    wangwu = await User.objects().where(User.name == "王五").first()
    module = await Module.select(Module.id).where(Module.slug == "xuexi-daodu").first()

    await sign_in(client, "trainer")
    form = {
        "title": PAYLOAD,
        "kind": "rotation",
        "unit": str(tree["city"].id),
        "description": f"{PAYLOAD}\n{MARKDOWN}",
        "modules": [str(module["id"])],
        "credit_hours": "4",
        "attendance_share": "50",
        "active": "1",
    }
    refused = await post_form(client, "/trainings/new", {**form, "kind": "x"})
    pages.check("新建培训（被拒）", refused, PAYLOAD, status=400)
    made = await post_form(client, "/trainings/new", form)
    assert made.status_code in (302, 303), text_of(made.text)
    training = await Training.objects().first()
    base = f"/trainings/{training.id}"
    batch_form = {"name": SHORT, "place": PAYLOAD, "starts_on": "2024-03-01", "capacity": "0"}
    refused = await post_form(client, f"{base}/batches/new", {**batch_form, "capacity": "-1"})
    pages.check("新建期次（被拒）", refused, PAYLOAD, SHORT, status=400)
    made = await post_form(client, f"{base}/batches/new", batch_form)
    assert made.status_code in (302, 303), text_of(made.text)
    batch = await Batch.objects().first()
    sessions = f"{base}/batches/{batch.id}/sessions"
    now = datetime.now(UTC).astimezone(get_settings().timezone)
    session_form = {
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": "23:59",
        "place": PAYLOAD,
        "topic": PAYLOAD,
        "hours": "3",
    }
    refused = await post_form(client, sessions, {**session_form, "hours": "x"})
    pages.check("新建课次（被拒）", refused, PAYLOAD, status=400)
    made = await post_form(client, sessions, session_form)
    assert made.status_code in (302, 303), text_of(made.text)
    session = await ClassSession.objects().first()

    accounts = [str(p.id) for p in (cadre, wangwu, people["cadre"])]
    picked = await post_form(
        client, f"{base}/enroll/pick", {"batch": str(batch.id), "account": accounts}
    )
    assert picked.status_code in (302, 303), text_of(picked.text)
    bad = csv_file(
        ["姓名", "手机号", "单位"],
        [PAYLOAD, PAYLOAD, PAYLOAD],
        [SHORT, "139", SHORT],
        [PAYLOAD, "13900000009", PAYLOAD],  # found, and already enrolled
    )
    preview = await upload_file(
        client, f"{base}/enroll/upload", f"{SHORT}.csv", bad, batch=str(batch.id)
    )
    pages.check("上传报名名单（有问题）", preview, SHORT + ".csv", "<script>alert(1)", status=400)
    code_page = await post_form(client, f"/sessions/{session.id}/code", {"minutes": "20"})
    assert code_page.status_code in (200, 302, 303), text_of(code_page.text)
    code = (await ClassSession.objects().first()).checkin_code

    # The cadre named with markup checks in with the code, and has read the lessons.
    await sign_in(client, "13900000009")
    await pages.get("签到", f"/checkin?code={code}")
    pages.check("签到完成", await post_form(client, "/checkin", {"code": code}), PAYLOAD)
    wrong = await post_form(client, "/checkin", {"code": SHORT})
    pages.check("签到码错误", wrong, status=(400, 429))
    for lesson in await Lesson.select(Lesson.id).where(Lesson.module == module["id"]):
        await LessonProgress(
            account=cadre.id, lesson=lesson["id"], read_at=datetime.now(UTC), active_seconds=600
        ).save()
    await recompute(training.id)
    completion = await Completion.objects().where(Completion.account == cadre.id).first()
    assert completion is not None, "the cadre did not complete the training"
    await pages.get("我的培训", "/my/trainings", PAYLOAD)
    await pages.get("学员首页", "/", PAYLOAD)
    mine = await pages.get("我的证书", f"/my/certificates/{completion.id}", PAYLOAD)
    assert svg_tags(mine) <= {"svg", "title", "path"}, svg_tags(mine)

    await post_form(client, "/logout")
    # The name is masked; the unit and the training are shown whole.
    await pages.get("证书验证（未登录）", f"/verify/{completion.code}", PAYLOAD, mask_name(SHORT))
    await pages.get("证书验证（编号错误）", f"/verify/{quote(SHORT)}", status=(200, 404))

    await sign_in(client, "trainer")
    code_page = await pages.get("签到码", f"/sessions/{session.id}/code", PAYLOAD)
    assert svg_tags(code_page) <= {"svg", "title", "path"}, svg_tags(code_page)
    unit = await Unit.objects().where(Unit.name == PAYLOAD).first()
    for label, url, shown in [
        ("培训", "/trainings", (PAYLOAD,)),
        ("培训概况", base, (PAYLOAD, f"{PAYLOAD}\n{MARKDOWN}", SHORT)),
        ("修改培训", f"{base}/edit", (PAYLOAD,)),
        ("修改期次", f"{base}/batches/{batch.id}/edit", (PAYLOAD, SHORT)),
        ("课次", sessions, (PAYLOAD, SHORT)),
        ("考勤", f"/sessions/{session.id}/attendance", (PAYLOAD,)),
        ("报名", f"{base}/enroll", (PAYLOAD,)),
        ("挑选学员", f"{base}/enroll/pick?batch={batch.id}&q=王", (PAYLOAD, SHORT)),
        ("按单位报名", f"{base}/enroll/unit?unit={unit.id}&batch={batch.id}", (PAYLOAD,)),
        ("报名名单", f"{base}/enrollments", (PAYLOAD, SHORT)),
        ("证书（按单位）", f"{base}/certificates", (PAYLOAD,)),
        ("证书（打印）", f"{base}/certificates?unit={unit.id}", (PAYLOAD,)),
        ("证书", f"{base}/certificates/{completion.id}", (PAYLOAD,)),
        ("培训管理员首页", "/", ()),
    ]:
        await pages.get(label, url, *shown)
    await sign_in(client, "xss-admin")
    await pages.get("培训（单位管理员）", "/trainings", PAYLOAD)
    await pages.get("报表（单位管理员）", f"/reports?training={training.id}", PAYLOAD)
    await pages.get("单位管理员首页", "/", PAYLOAD)
    await sign_in(client, "admin")
    reports = f"/reports/trainings/{training.id}"
    for label, url, shown in [
        ("报表", f"/reports?training={training.id}", (PAYLOAD,)),
        ("报表（下级）", f"/reports?training={training.id}&unit={tree['jiefang'].id}", (PAYLOAD,)),
        ("花名册", f"{reports}/roster", (PAYLOAD, SHORT)),
        ("花名册（本单位）", f"{reports}/roster?unit={unit.id}&batch={batch.id}", (PAYLOAD,)),
        ("汇总表", f"{reports}/summary", (PAYLOAD,)),
        ("催学名单", f"{reports}/reminders", (PAYLOAD, SHORT)),
        ("操作记录", "/audit", (PAYLOAD, SHORT)),
    ]:
        await pages.get(label, url, *shown)
    pages.assert_clean()
    assert pages.count >= 35


# ---------------------------------------------------------------- what the URL carries


def _query(*names: str) -> str:
    return "?" + "&".join(f"{name}={quote(PAYLOAD)}" for name in names)


REFLECTED = [
    # (who, url, the payload is shown back as typed)
    (None, "/login" + _query("next"), False),
    (None, f"/verify/{quote(SHORT)}", False),
    (None, f"/no-such-page/{quote(SHORT)}", False),
    ("admin", "/people" + _query("q", "role", "status", "unit"), True),
    ("admin", "/audit" + _query("action"), False),
    ("admin", "/reports" + _query("training", "batch", "kind", "unit"), False),
    ("admin", "/reports/trainings/{training}/roster" + _query("unit", "batch", "order"), False),
    ("admin", "/reports/trainings/{training}/reminders" + _query("unit", "batch"), False),
    ("trainer", "/banks/xuexi-daodu" + _query("ref", "tag", "difficulty", "q", "status"), True),
    ("trainer", "/banks/import" + _query("bank"), False),
    ("trainer", "/banks/import/1" + _query("format", "bank", "title", "module"), False),
    ("trainer", "/admin/quizzes/xuexi-daodu-quiz/attempts" + _query("status", "passed"), False),
    ("trainer", "/course/search" + _query("q"), True),
    ("trainer", "/trainings/{training}/enroll/pick" + _query("q", "unit", "batch"), True),
    ("trainer", "/trainings/{training}/enroll/unit" + _query("unit", "batch"), False),
    ("trainer", "/trainings/{training}/enrollments" + _query("batch", "q"), False),
    ("trainer", "/trainings/{training}/certificates" + _query("unit"), False),
    ("13800000001", "/checkin" + _query("code"), False),
    ("13800000001", "/mistakes" + _query("show"), False),
    ("13800000001", "/quizzes/" + quote(SHORT), False),
]


async def _reflected(client, tree, who: str | None, url: str, echoed: bool) -> None:
    training = Training(title="专题培训", kind="special", unit=tree["city"].id)
    await training.save()
    if who:
        await sign_in(client, who)
    response = await client.get(url.format(training=training.id))
    assert response.status_code < 500, text_of(response.text)
    assert problems_of(response.text, *([PAYLOAD] if echoed else [])) == []


def _needs_course(url: str) -> bool:
    return bool(re.search(r"/(banks|quizzes|course)\b", url))


@pytest.mark.parametrize(
    ("who", "url", "echoed"), [r for r in REFLECTED if not _needs_course(r[1])]
)
async def test_markup_in_the_address_is_never_run(client, people, tree, who, url, echoed):
    await _reflected(client, tree, who, url, echoed)


@pytest.mark.parametrize(("who", "url", "echoed"), [r for r in REFLECTED if _needs_course(r[1])])
async def test_markup_in_the_address_of_course_pages_is_never_run(
    client, people, tree, content, who, url, echoed
):
    await _reflected(client, tree, who, url, echoed)


async def test_what_the_sign_in_form_and_error_pages_echo_stays_text(client, people):
    await client.get("/login")
    refused = await post_form(client, "/login", {"username": PAYLOAD, "password": PAYLOAD})
    assert problems_of(refused.text, PAYLOAD) == []
    back = "http://testserver.local/x?a=" + quote(SHORT, safe="") + '"><script>alert(1)</script>'
    missing = await client.get("/no-such-page", headers={"referer": back})
    assert missing.status_code == 404 and problems_of(missing.text) == []
    await login(client, "13800000001")
    forbidden = await client.get("/units", headers={"referer": back})
    assert forbidden.status_code == 403 and problems_of(forbidden.text) == []
