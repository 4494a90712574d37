"""Request size limits: every upload and every form refuses a body over its limit with a
Chinese message before reading it, and writes nothing; junk just under the limit gets a
message about the file, never a 500."""

from __future__ import annotations

import inspect
import random
import re
from datetime import date
from html import unescape

import pytest
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler

from app.accounts import people_import
from app.asgi import create_app
from app.banks import import_pages, xlsx
from app.course import upload as course_upload
from app.errors import MAX_FILE_BYTES, MAX_FORM_BYTES, MAX_UPLOAD_BODY_BYTES
from app.settings import PROJECT_ROOT
from app.tables import (
    ActivityPhoto,
    Answer,
    AuditEvent,
    Batch,
    Enrollment,
    Question,
    Quiz,
    QuizOverride,
    ReportRound,
    Training,
    Unit,
    UnitReport,
    Upload,
    User,
    WorkActivity,
)
from tests.conftest import csrf, login, post_form
from tests.test_quizzes import FETCH, start

BOUNDARY = "----peixun-limit-test"
TOO_BIG = "上传的文件太大：每个文件最多 10 MB"
# Handlers whose form is sized by an uploaded file, not by typing.
SIZED_BY_A_FILE = {"course_upload_save"}


def _handlers(app) -> dict[str, HTTPRouteHandler]:
    return {
        handler.name or handler.handler_name: handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler) and "OPTIONS" not in handler.http_methods
    }


def _takes_a_file(handler: HTTPRouteHandler) -> bool:
    """A multipart body in the signature, or an UploadFile looked for in the code."""
    for field in handler.parsed_fn_signature.parameters.values():
        if getattr(field.kwarg_definition, "media_type", None) == RequestEncodingType.MULTI_PART:
            return True
    return "UploadFile" in inspect.getsource(handler.fn)


def _multipart_forms() -> set[str]:
    """Route names of the forms in the templates that send files."""
    names = set()
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        for form in re.findall(r"<form[^>]*>", path.read_text(encoding="utf-8")):
            if "multipart/form-data" in form:
                names.add(re.search(r"url_for\('([a-z_]+)'", form).group(1))
    return names


UPLOADS = {
    # route name: (who uploads, the form's other fields, files it takes)
    "import_upload": ("admin", {}, (".xlsx", ".csv")),
    "course_upload_file": ("trainer", {}, (".docx", ".txt", ".md")),
    "bank_import_upload": (
        "trainer",
        {"format": "auto", "bank": "", "new_bank": "ceshi-tiku", "new_title": "测试题库"},
        (".xlsx", ".docx", ".txt", ".md", ".gift"),
    ),
    "enroll_upload": ("trainer", {"batch": "{batch}"}, (".xlsx", ".csv")),
    "quiz_override_upload": ("trainer", {}, (".xlsx", ".csv")),
    "activity_photo_upload": ("jf-admin", {}, (".jpg", ".png")),
    "unit_report_upload": ("jf-admin", {}, (".docx",)),
}


def test_every_upload_route_is_known_and_allows_one_file_and_its_form():
    handlers = _handlers(create_app())
    takes_files = {name for name, handler in handlers.items() if _takes_a_file(handler)}
    assert takes_files == set(UPLOADS)
    assert _multipart_forms() == set(UPLOADS)
    for name, handler in handlers.items():
        limit = handler.resolve_request_max_body_size()
        wanted = MAX_UPLOAD_BODY_BYTES if name in {*UPLOADS, *SIZED_BY_A_FILE} else MAX_FORM_BYTES
        assert limit == wanted, name
    # Each page checks the file itself against the same limit, as does the bank reader.
    for module in (people_import, course_upload, import_pages):
        assert module.MAX_UPLOAD_BYTES == MAX_FILE_BYTES, module.__name__
    assert xlsx.MAX_BYTES == MAX_FILE_BYTES
    assert MAX_FILE_BYTES < MAX_UPLOAD_BODY_BYTES <= MAX_FILE_BYTES + 2 * 1024 * 1024


# ---------------------------------------------------------------- helpers


def multipart(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    """A browser's multipart body: the text fields, then the file."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    )
    return b"".join(parts) + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def junk(size: int) -> bytes:
    return random.Random(size).randbytes(size)


async def written() -> dict[str, int]:
    """Counts of everything an upload could write."""
    tables = (
        Upload,
        AuditEvent,
        User,
        Unit,
        Question,
        Enrollment,
        QuizOverride,
        ActivityPhoto,
        UnitReport,
    )
    return {table._meta.tablename: await table.count() for table in tables}


@pytest.fixture
async def uploader(client, people, tree):
    """Signs in who uploads to the named route; gives its url, form fields and suffixes."""
    training = Training(title="专题培训", kind="special", unit=tree["city"].id)
    await training.save()
    batch = Batch(training=training.id, name="第一期")
    await batch.save()
    await Quiz(slug="ceshi-ceyan", title="测试测验", max_attempts=1).save()
    report_round = ReportRound(
        title="测试报送",
        unit_kinds='["county_federation"]',
        credit_year=2026,
        deadline=date(2026, 12, 31),
    )
    await report_round.save()
    activity = WorkActivity(
        round=report_round.id,
        unit=tree["jiefang"].id,
        kind="study",
        held_on=date(2026, 11, 1),
        title="专题学习会",
    )
    await activity.save()
    urls = {
        "import_upload": "/people/import",
        "course_upload_file": "/course/import",
        "bank_import_upload": "/banks/import",
        "enroll_upload": f"/trainings/{training.id}/enroll/upload",
        "quiz_override_upload": "/admin/quizzes/ceshi-ceyan/overrides/upload",
        "activity_photo_upload": f"/reporting/activities/{activity.id}/photos",
        "unit_report_upload": f"/reporting/{report_round.id}/units/{tree['jiefang'].id}/upload",
    }

    async def prepare(name: str):
        who, fields, suffixes = UPLOADS[name]
        await login(client, who)
        fields = {k: v.format(batch=batch.id) for k, v in fields.items()}
        return urls[name], {**fields, "_csrf_token": csrf(client)}, suffixes

    return prepare


async def send(client, url: str, body: bytes, **headers: str):
    return await client.post(
        url,
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}", **headers},
    )


class RawCall:
    """The app called as a server calls it, to see how much of the body it asks for."""

    def __init__(self, app, client, url: str, chunks: int, chunk: bytes, length: int | None):
        self.app, self.read, self.messages = app, 0, []
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        headers = [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        ]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": url,
            "raw_path": url.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
            "extensions": {},
        }
        self.left, self.chunk = chunks, chunk

    async def receive(self):
        if self.left <= 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.left -= 1
        self.read += len(self.chunk)
        return {"type": "http.request", "body": self.chunk, "more_body": True}

    async def send(self, message):
        self.messages.append(message)

    async def run(self) -> tuple[int, str]:
        await self.app(self.scope, self.receive, self.send)
        status = next(m["status"] for m in self.messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in self.messages if "body" in m)
        return status, body.decode()


# ---------------------------------------------------------------- uploads


@pytest.mark.parametrize("name", sorted(UPLOADS))
async def test_an_upload_over_the_limit_is_refused_in_chinese_and_nothing_is_written(
    client, uploader, name
):
    url, fields, suffixes = await uploader(name)
    before = await written()
    framing = len(multipart(fields, f"名单{suffixes[0]}", b""))
    body = multipart(fields, f"名单{suffixes[0]}", b"x" * (MAX_UPLOAD_BODY_BYTES + 1 - framing))
    response = await send(client, url, body)
    assert response.status_code == 413
    assert TOO_BIG in response.text and "提交的内容太大" in response.text
    assert "返回首页" in response.text  # the error page, with a way back
    assert await written() == before

    # Between the file limit and the body limit: the page itself refuses the file.
    body = multipart(fields, f"名单{suffixes[0]}", b"x" * (MAX_FILE_BYTES + 1))
    response = await send(client, url, body)
    assert response.status_code == 400
    assert "文件超过 10 MB" in response.text
    assert await written() == before


@pytest.mark.parametrize("name", sorted(UPLOADS))
async def test_an_announced_body_over_the_limit_is_refused_before_any_of_it_is_read(
    client, uploader, name
):
    url, _, _ = await uploader(name)
    before = await written()
    call = RawCall(client.app, client, url, 1000, b"x" * 65536, MAX_UPLOAD_BODY_BYTES + 1)
    status, page = await call.run()
    assert (status, call.read) == (413, 0)
    assert TOO_BIG in page
    # Without a Content-Length (sent in chunks): reading stops at the limit.
    call = RawCall(client.app, client, url, 1000, b"x" * 65536, None)
    status, page = await call.run()
    assert status == 413 and TOO_BIG in page
    assert call.read <= MAX_UPLOAD_BODY_BYTES + 65536
    assert await written() == before


@pytest.mark.parametrize("name", sorted(UPLOADS))
async def test_junk_just_under_the_limit_gets_a_message_about_the_file_not_a_500(
    client, uploader, name
):
    url, fields, suffixes = await uploader(name)
    before = await written()
    content = junk(MAX_FILE_BYTES - 1024)
    for suffix in suffixes:
        response = await send(client, url, multipart(fields, f"乱码{suffix}", content))
        assert response.status_code == 400, suffix
        shown = text_of(response.text)
        assert f"“乱码{suffix}”" in shown and ("无法读取" in shown or "无法识别" in shown), suffix
        assert await written() == before, suffix


# ---------------------------------------------------------------- forms


async def test_a_form_over_its_limit_is_refused_and_nothing_is_saved(client, people, tree):
    await login(client, "admin")
    before = await written()
    name = "单" * (MAX_FORM_BYTES // 9 + 10)  # each 单 is %E5%8D%95 in the form
    response = await post_form(client, "/units", {"name": name, "kind": "grassroots_union"})
    assert response.status_code == 413
    assert "提交的内容太大（最多 1 MB），没有保存。请删减后重新提交。" in response.text
    assert await written() == before
    # Just under it, the form is read and its own checks answer.
    response = await post_form(
        client,
        "/units",
        {"name": name[: MAX_FORM_BYTES // 9 - 100], "parent": str(tree["city"].id)},
    )
    assert response.status_code == 400 and "单位名称不能超过 100 个字符" in response.text
    # A file sent to a page that takes none is held to the form's limit, and says so.
    body = multipart({"_csrf_token": csrf(client)}, "大.txt", b"x" * MAX_FORM_BYTES)
    response = await send(client, "/units", body)
    assert response.status_code == 413 and "（最多 1 MB）" in response.text
    assert "上传的文件太大" not in response.text
    assert await written() == before


async def test_the_course_plan_form_may_be_as_large_as_its_document(client, people):
    await login(client, "trainer")
    body = f"part-0-title={'x' * MAX_UPLOAD_BODY_BYTES}&_csrf_token={csrf(client)}"
    response = await client.post(
        "/course/import/1",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "提交的内容太大（最多 11 MB），没有保存。" in response.text
    under = await post_form(client, "/course/import/1", {"part-0-title": "x" * MAX_FORM_BYTES})
    assert under.status_code == 404  # read, then: no such upload


async def test_answers_sent_by_the_quiz_page_over_the_limit_get_json(client, people, content):
    await login(client, "13800000001")
    attempt_id = await start(client)
    body = f"q1={'x' * (MAX_FORM_BYTES + 1)}&_csrf_token={csrf(client)}"
    response = await client.post(
        f"/attempts/{attempt_id}/answers",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", **FETCH},
    )
    assert response.status_code == 413
    assert response.json() == {
        "ok": False,
        "message": "提交的内容太大（最多 1 MB），没有保存。请删减后重新提交。",
    }
    assert await Answer.count().where(Answer.attempt == attempt_id) == 0


def test_the_upload_pages_state_the_limit_they_enforce():
    for template in ("course_upload/upload.html", "banks/import.html"):
        page = (PROJECT_ROOT / "templates" / template).read_text(encoding="utf-8")
        assert f"最大 {MAX_FILE_BYTES // 1024 // 1024} MB" in page, template
