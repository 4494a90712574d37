"""A trainer imports an official document in the browser: upload, outline, plan, publish."""

from __future__ import annotations

import dataclasses
import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document as WordDocument

import app.course.upload
from app.course.documents import parse_document
from app.course.files import LessonText, ModuleText, SourceInfo, render_module
from app.course.importing import (
    build_lessons,
    default_lessons,
    joined_ref,
    source_name,
    upload_name,
)
from app.course.lessons import read_course_dir
from app.course.plan import build_modules, default_plan, parts_of
from app.course.text import read_text, source_for
from app.course.upload import initial_draft, read_form
from app.settings import get_settings
from app.tables import AuditEvent, Lesson, Module, Upload
from tests.conftest import login, make_user, post_form

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "course" / "sources" / "notice-jiaozuo-2023-93.txt"
NOTICE_REFS = [
    "导语", "一", "二", "二（一）", "二（二）", "二（三）", "二（四）",
    "三", "三（一）", "三（二）", "三（三）", "三（四）", "结语",
]  # fmt: skip
# Written for these tests; not the text of any real charter.
TEST_CHARTER = """测试用章程（非正式文本）

总则

本章程是为测试网页导入而编写的示例文本，不是任何组织的正式章程。

第一章 会员

第一条 示例条文一，内容较短。

第二条 示例条文二，内容也较短。

第二章 组织

第三条 示例条文三。
"""


@pytest.fixture
def course_dir(tmp_path, monkeypatch) -> Path:
    """The course folder the pages write to, for this test only."""
    folder = tmp_path / "course"
    settings = dataclasses.replace(get_settings(), course_dir=folder)
    monkeypatch.setattr(app.course.upload, "get_settings", lambda: settings)
    return folder


def notice_document():
    return parse_document(read_text(NOTICE.name, NOTICE.read_bytes()), source_for(NOTICE.name))


def text_of(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


class _FormReader(HTMLParser):
    """The values a browser would send from the plan form (without pressing a button)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.in_form = False
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_form = "/discard" not in (a.get("action") or "")
        elif not self.in_form:
            return
        elif tag == "input" and a.get("name") and a.get("name") != "_csrf_token":
            if a.get("type") != "checkbox" or "checked" in a:
                self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None


def form_values(page: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page)
    return reader.values


def row_of(page: str, ref: str) -> int:
    """The index of a part's row in the plan form."""
    found = re.search(rf'for="part-(\d+)-title">“{re.escape(ref)}”', page)
    assert found, f"no row for {ref}"
    return int(found.group(1))


async def upload(client, content: bytes, filename: str, media_type: str = "text/plain"):
    if not client.cookies.get("csrftoken"):
        await client.get("/course/import")
    return await client.post(
        "/course/import",
        files={"file": (filename, content, media_type)},
        data={"_csrf_token": client.cookies["csrftoken"]},
    )


async def upload_notice(client) -> tuple[str, str]:
    """Upload the notice; returns the plan page's URL and its HTML."""
    response = await upload(client, NOTICE.read_bytes(), NOTICE.name)
    assert response.status_code in (302, 303), text_of(response.text)
    url = response.headers["location"]
    assert re.fullmatch(r"/course/import/\d+", url)
    page = await client.get(url)
    assert page.status_code == 200
    return url, page.text


def written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# ---------------------------------------------------------------- the pure plan


def test_the_initial_plan_is_the_default_plan_with_its_lessons():
    document = notice_document()
    draft = initial_draft(document, "notice", {})
    assert draft.problems == ()
    assert [r.part.source_ref for r in draft.rows] == NOTICE_REFS
    assert [m.slug for m in draft.modules] == ["notice-1", "notice-2", "notice-3"]
    plan = default_plan(document, "notice")
    built = build_lessons(document, *draft.plan(), SourceInfo())
    assert built == build_modules(document, plan, SourceInfo())
    # Slugs already in the course are not offered again.
    taken = initial_draft(document, "notice", {"notice-1": "旧模块"})
    assert [m.slug for m in taken.modules] == ["notice-1-2", "notice-2", "notice-3"]


def test_default_lessons_group_short_articles_like_build_modules():
    document = parse_document(TEST_CHARTER)
    plan = default_plan(document, "ceshi")
    lessons = default_lessons(document, plan)
    assert [[g.parts for g in module] for module in lessons] == [
        [("总则",)],
        [("第一章 第一条", "第一章 第二条")],
        [("第二章 第三条",)],
    ]
    assert build_lessons(document, plan, lessons, SourceInfo()) == build_modules(
        document, plan, SourceInfo()
    )


def test_upload_names_are_plain_file_names():
    assert upload_name("C:\\Users\\李\\通知<1>.txt") == "通知_1_.txt"
    assert upload_name("/tmp/a/b.docx") == "b.docx"
    assert upload_name("长" * 300 + ".md") == "长" * 200 + ".md"


def test_a_different_file_of_the_same_name_is_kept_beside_it(tmp_path):
    assert source_name(tmp_path, "通知.txt", b"a") == "通知.txt"
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "通知.txt").write_bytes(b"a")
    assert source_name(tmp_path, "通知.txt", b"a") == "通知.txt"  # the same file: kept once
    assert source_name(tmp_path, "通知.txt", b"b") == "通知-2.txt"


def test_joined_refs():
    assert joined_ref(["三（一）"]) == "三（一）"
    assert joined_ref(["三（一）", "三（二）"]) == "三（一）至三（二）"
    assert joined_ref(["第一章 第一条", "第一章 第三条"]) == "第一章 第一条至第三条"
    assert joined_ref(["第一章 第三条", "第二章 第四条"]) == "第一章 第三条至第二章 第四条"


def _notice_form() -> tuple[list, dict[str, str]]:
    """The form of the initial plan of the notice, as a browser would send it back."""
    document = notice_document()
    draft = initial_draft(document, "notice", {})
    form = {}
    for i, row in enumerate(draft.rows):
        form |= {f"part-{i}-module": str(row.module), f"part-{i}-title": row.title}
        if row.merge:
            form[f"part-{i}-merge"] = "1"
    for m in draft.modules:
        form |= {f"module-{m.number}-title": m.title, f"module-{m.number}-slug": m.slug}
    return parts_of(document), form


def test_read_form_merges_splits_and_starts_modules():
    parts, form = _notice_form()
    i = NOTICE_REFS.index
    form[f"part-{i('二（一）')}-title"] = "  学习  总书记重要讲话 "
    form[f"part-{i('三（二）')}-merge"] = "1"
    form[f"part-{i('三（一）')}-title"] = "宣传与培训"
    form[f"part-{i('二（四）')}-module"] = "4"  # a new module, between 2 and 3
    form["module-1-slug"] = " Xuexi-Daodu "
    draft = read_form(parts, form, "notice", {})
    assert draft.problems == ()
    assert [(m.number, m.slug) for m in draft.modules] == [
        (1, "xuexi-daodu"), (2, "notice-2"), (3, "notice-4"), (4, "notice-3"),
    ]  # fmt: skip
    assert draft.modules[2].title == "认真学习《中国工会章程（修正案）》"  # its first part
    plan, lessons = draft.plan()
    assert [m.parts for m in plan][2:] == [
        ("二（四）",),
        ("三", "三（一）", "三（二）", "三（三）", "三（四）", "结语"),
    ]
    assert [(g.parts, g.title) for g in lessons[3]][1] == (("三（一）", "三（二）"), "宣传与培训")
    assert lessons[1][1].title == "学习 总书记重要讲话"
    modules = build_lessons(notice_document(), plan, lessons, SourceInfo())
    merged = modules[3].lessons[1]
    assert (merged.source_ref, merged.title) == ("三（一）至三（二）", "宣传与培训")
    parts_by_ref = {p.source_ref: p for p in parts}
    assert (
        merged.paragraphs
        == parts_by_ref["三（一）"].paragraphs + parts_by_ref["三（二）"].paragraphs
    )

    # Splitting again: the merge undone, the part back in its module.
    del form[f"part-{i('三（二）')}-merge"]
    form[f"part-{i('二（四）')}-module"] = "2"
    again = read_form(parts, form, "notice", {})
    assert [len(g) for g in again.plan()[1]] == [2, 5, 6]


def test_read_form_lists_every_problem():
    parts, form = _notice_form()
    form |= {
        "module-1-slug": "学习导读",
        "module-2-slug": "notice-3",  # the same as module 3
        "module-3-title": "  ",
        "part-1-title": "",
        "part-7-merge": "1",  # 三 starts module 3: it can't join 二（四）
        "part-4-module": "x",
    }
    draft = read_form(parts, form, "notice", {"readme": "x"})
    assert list(draft.problems) == [
        "“二（二）”：请选择它所在的模块。",
        "“一”：课文标题不能为空。",
        "“三”：与上一部分不在同一模块，不能合并为一课。",
        "模块 1：slug“学习导读”不可用：只能由小写英文字母、数字和“-”组成，不能以“-”开头或结尾，"
        "最多 60 个字符，例如 xuexi-daodu。",
        "模块 3：模块名称不能为空。",
        "模块 3：slug“notice-3”与模块 2 重复。",
    ]
    # The trainer's input is kept as typed, to be shown again.
    assert draft.modules[0].slug == "学习导读"
    assert read_form(parts, {**form, "module-1-slug": "import"}, "n", {}).problems[3] == (
        "模块 1：slug“import”是系统保留的，请换一个。"
    )
    taken = read_form(parts, _notice_form()[1], "notice", {"notice-2": "旧的模块"})
    assert taken.problems == ("模块 2：课程中已有模块“旧的模块”使用 slug“notice-2”，请换一个。",)


# ---------------------------------------------------------------- the pages


async def test_course_import_reaches_the_upload_page_not_a_module(client, people, course_dir):
    await login(client, "trainer")
    page = await client.get("/course/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert "导入时会发生什么" in page.text
    assert re.search(r'href="/course/import"[^>]*>导入文件</a>', page.text)  # in the menu
    client.cookies.clear()
    await login(client, "13800000001")
    home = await client.get("/course")
    assert 'href="/course/import"' not in home.text


async def test_trainer_uploads_the_notice_and_sees_its_outline(client, people, course_dir):
    await login(client, "trainer")
    _, page = await upload_notice(client)
    text = text_of(page)
    for fact in (
        "焦工文〔2023〕93号",
        "焦作市总工会关于认真学习宣传贯彻习近平总书记重要讲话精神努力完成中国工会十八大确定的目标任务的通知",
        "焦作市总工会",
        "2023年11月8日",
        "13 个部分",
    ):
        assert fact in text
    refs = re.findall(r'<td class="nowrap"><span class="badge">([^<]+)</span>', page)
    assert refs == NOTICE_REFS
    assert "（一）认真学习习近平总书记在同中华全国总工会新一届领导班子成员" in text
    assert "预览：将发布 3 个模块、13 篇课文" in text
    assert written(course_dir) == []
    assert await Module.count() == 0
    assert await Upload.count().where(Upload.kind == "document") == 1


async def test_trainer_arranges_previews_and_publishes(client, people, course_dir):
    await login(client, "trainer")
    url, page = await upload_notice(client)
    form = form_values(page)
    form[f"part-{row_of(page, '二（一）')}-title"] = "学习总书记重要讲话"
    form[f"part-{row_of(page, '三（二）')}-merge"] = "1"
    form[f"part-{row_of(page, '三（一）')}-title"] = "宣传与培训"
    form[f"part-{row_of(page, '二（四）')}-module"] = "4"
    form["module-1-title"] = "学习导读"
    form["module-1-slug"] = "xuexi-daodu"

    preview = await post_form(client, url, {**form, "action": "preview"})
    assert preview.status_code == 200, text_of(preview.text)
    shown = text_of(preview.text)
    assert "预览：将发布 4 个模块、12 篇课文" in shown
    assert "三（一）至三（二）宣传与培训" in shown
    assert "模块 3：认真学习《中国工会章程（修正案）》" in shown
    assert written(course_dir) == [] and await Module.count() == 0

    form = form_values(preview.text)  # what the page now shows: modules renumbered
    assert form["module-3-title"] == "认真学习《中国工会章程（修正案）》"
    assert form[f"part-{row_of(preview.text, '三（二）')}-merge"] == "1"
    form["module-3-slug"] = "gonghui-zhangcheng-yaodian"
    done = await post_form(client, url, {**form, "action": "publish"})
    assert done.status_code in (302, 303), text_of(done.text)
    assert done.headers["location"] == "/course"
    assert "已发布 4 个模块" in text_of((await client.get("/course")).text)

    assert written(course_dir) == [
        "gonghui-zhangcheng-yaodian.md",
        "notice-jiaozuo-2023-93-2.md",
        "notice-jiaozuo-2023-93-3.md",
        "sources",
        "sources/notice-jiaozuo-2023-93.txt",
        "xuexi-daodu.md",
    ]
    assert (course_dir / "sources" / NOTICE.name).read_bytes() == NOTICE.read_bytes()
    modules = read_course_dir(course_dir)
    assert [m.slug for m in modules] == [
        "xuexi-daodu",
        "notice-jiaozuo-2023-93-2",
        "gonghui-zhangcheng-yaodian",
        "notice-jiaozuo-2023-93-3",
    ]
    assert modules[0].source.doc_number == "焦工文〔2023〕93号"
    assert modules[0].source.file == "sources/notice-jiaozuo-2023-93.txt"
    lessons = [lesson for m in modules for lesson in m.lessons]
    assert [(lesson.source_ref, lesson.title) for lesson in lessons][3] == (
        "二（一）",
        "学习总书记重要讲话",
    )
    assert [lesson.source_ref for lesson in modules[3].lessons] == [
        "三", "三（一）至三（二）", "三（三）", "三（四）", "结语",
    ]  # fmt: skip
    # The notice word for word, in order, nothing left out.
    body = squash("".join(p for lesson in lessons for p in lesson.paragraphs))
    source = squash(NOTICE.read_text(encoding="utf-8"))
    start = source.index("2023年10月9日至12日，中国工会第十八次")
    end = source.index("情况要及时报告市总工会。") + len("情况要及时报告市总工会。")
    assert body == source[start:end]

    assert await Upload.count() == 0
    events = await AuditEvent.select().where(AuditEvent.action == "course.import")
    assert len(events) == 1 and "学习导读" in events[0]["summary"]
    assert (await post_form(client, url, {**form, "action": "publish"})).status_code == 404

    # At once on the course pages, for a cadre too.
    client.cookies.clear()
    await login(client, "13800000001")
    course = text_of((await client.get("/course")).text)
    for title in ("学习导读", "认真学习《中国工会章程（修正案）》"):
        assert title in course
    merged = await client.get("/course/notice-jiaozuo-2023-93-3/三（一）至三（二）")
    assert merged.status_code == 200
    assert "宣传与培训" in merged.text
    assert "（二)认真抓好学习培训。" in text_of(merged.text)
    assert await Lesson.count().where(Lesson.active.eq(True)) == 12


async def test_a_word_document_imports(client, people, course_dir):
    word = WordDocument()
    for line in TEST_CHARTER.splitlines():
        word.add_paragraph(line)
    content = io.BytesIO()
    word.save(content)
    await login(client, "admin")  # federation staff may do it too
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = await upload(client, content.getvalue(), "测试章程.docx", docx_type)
    assert response.status_code in (302, 303), text_of(response.text)
    url = response.headers["location"]
    page = (await client.get(url)).text
    assert "测试用章程（非正式文本）" in text_of(page)
    refs = re.findall(r'<td class="nowrap"><span class="badge">([^<]+)</span>', page)
    assert refs == ["总则", "第一章 第一条", "第一章 第二条", "第二章 第三条"]
    form = form_values(page)
    assert all(form[f"module-{n}-slug"].startswith("doc-") for n in (1, 2, 3))
    done = await post_form(client, url, {**form, "action": "publish"})
    assert done.status_code in (302, 303), text_of(done.text)
    modules = read_course_dir(course_dir)
    assert [m.title for m in modules] == ["总则", "会员", "组织"]
    assert modules[1].lessons[0].source_ref == "第一章 第一条至第二条"
    assert (course_dir / "sources" / "测试章程.docx").read_bytes() == content.getvalue()
    assert await Module.count().where(Module.active.eq(True)) == 3


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (None, "", "请选择要上传的文件"),
        (b"%PDF-1.4", "通知.pdf", "不支持的文件类型“.pdf”"),
        (b"", "通知.txt", "文件“通知.txt”是空的"),
        (b"  \n\n ", "通知.md", "文件“通知.md”是空的"),
        (b"\xff" * 20, "通知.txt", "文字编码无法识别"),
        ("一、标题\n正文。".encode("gbk"), "通知.md", "文字编码无法识别（已尝试 UTF-8）"),
        (b"not a zip", "通知.docx", "不是有效的 Word 文档"),
        (b"old word", "通知.doc", "另存为 .docx"),
        ("没有编号的一段文字。\n又一段。".encode(), "通知.txt", "没有在文件中找到可识别的结构"),
    ],
)
async def test_bad_files_get_a_chinese_message_and_nothing_is_kept(
    client, people, course_dir, content, filename, message
):
    await login(client, "trainer")
    if content is None:
        await client.get("/course/import")
        response = await post_form(client, "/course/import", files={"other": ("x.txt", b"x")})
    else:
        response = await upload(client, content, filename)
    assert response.status_code == 400
    assert message in text_of(response.text)
    assert await Upload.count() == 0
    assert written(course_dir) == []


async def test_bad_plans_are_refused_keeping_what_was_typed(client, people, course_dir):
    await login(client, "trainer")
    url, page = await upload_notice(client)
    form = form_values(page)
    form |= {
        "module-1-slug": "Xue Xi!",
        "module-2-slug": "notice-jiaozuo-2023-93-3",
        "module-3-title": "",
        f"part-{row_of(page, '二（一）')}-title": " ",
    }
    for action in ("preview", "publish"):
        response = await post_form(client, url, {**form, "action": action})
        assert response.status_code == 400
        shown = text_of(response.text)
        assert "有 4 处需要修改，尚未发布" in shown
        assert "模块 1：slug“xue xi!”不可用" in shown
        assert "模块 3：slug“notice-jiaozuo-2023-93-3”与模块 2 重复" in shown
        assert "模块 3：模块名称不能为空" in shown
        assert "“二（一）”：课文标题不能为空" in shown
        assert 'value="xue xi!"' in response.text
        assert "预览：" not in shown
    assert written(course_dir) == [] and await Module.count() == 0
    assert await Upload.count() == 1


async def test_a_slug_already_in_the_course_is_refused(client, people, course_dir):
    course_dir.mkdir()
    old = ModuleText(
        "jiu-mokuai", "旧模块", 1, SourceInfo(), (LessonText("一", "甲", ("一、甲。",)),)
    )
    (course_dir / "jiu-mokuai.md").write_text(render_module(old), encoding="utf-8")
    await login(client, "trainer")
    url, page = await upload_notice(client)
    form = form_values(page) | {"module-2-slug": "jiu-mokuai", "action": "publish"}
    response = await post_form(client, url, form)
    assert response.status_code == 400
    assert "模块 2：课程中已有模块“旧模块”使用 slug“jiu-mokuai”" in text_of(response.text)
    assert written(course_dir) == ["jiu-mokuai.md"]
    # Published next to it, after it.
    done = await post_form(client, url, form_values(page) | {"action": "publish"})
    assert done.status_code in (302, 303)
    modules = read_course_dir(course_dir)
    assert [(m.slug, m.order) for m in modules][:2] == [
        ("jiu-mokuai", 1),
        ("notice-jiaozuo-2023-93-1", 2),
    ]
    assert await Module.count().where(Module.active.eq(True)) == 4


async def test_a_failed_write_writes_nothing_and_keeps_the_form(client, people, course_dir):
    await login(client, "trainer")
    url, page = await upload_notice(client)
    course_dir.mkdir()
    (course_dir / "sources").write_text("not a folder", encoding="utf-8")
    form = form_values(page) | {"module-1-title": "学习导读（改）", "action": "publish"}
    response = await post_form(client, url, form)
    assert response.status_code == 409
    shown = text_of(response.text)
    assert "没有发布，课程和数据库都没有改动：无法写入课程文件夹" in shown
    assert 'value="学习导读（改）"' in response.text
    assert written(course_dir) == ["sources"]
    assert await Module.count() == 0 and await AuditEvent.count() == 0
    assert await Upload.count() == 1  # the trainer can try again


async def test_a_failure_after_writing_removes_the_files(client, people, course_dir, monkeypatch):
    async def broken_sync(modules, **options):
        await Module.insert(Module(slug="halfway", title="写了一半"))
        raise RuntimeError("database went away")

    monkeypatch.setattr(app.course.upload, "sync_course", broken_sync)
    await login(client, "trainer")
    url, page = await upload_notice(client)
    response = await post_form(client, url, form_values(page) | {"action": "publish"})
    assert response.status_code == 409
    assert "没有发布，课程和数据库都没有改动：系统出错了" in text_of(response.text)
    assert written(course_dir) == ["sources"]
    assert await Module.count() == 0 and await AuditEvent.count() == 0
    assert await Upload.count() == 1


async def test_cadres_and_unit_admins_may_not_import(client, people, course_dir):
    await login(client, "trainer")
    url, _ = await upload_notice(client)
    for username in ("13800000001", "jf-admin"):
        client.cookies.clear()
        await login(client, username)
        assert (await client.get("/course/import")).status_code == 403
        assert (await upload(client, NOTICE.read_bytes(), NOTICE.name)).status_code == 403
        assert (await client.get(url)).status_code == 403
        assert (await post_form(client, url, {"action": "publish"})).status_code == 403
        assert (await post_form(client, url + "/discard")).status_code == 403
    assert await Upload.count() == 1
    assert written(course_dir) == []


async def test_csrf_token_is_required(client, people, course_dir):
    await login(client, "trainer")
    no_token = await client.post(
        "/course/import", files={"file": (NOTICE.name, NOTICE.read_bytes(), "text/plain")}
    )
    assert no_token.status_code == 403
    assert await Upload.count() == 0
    url, page = await upload_notice(client)
    refused = await client.post(url, data=form_values(page) | {"action": "publish"})
    assert refused.status_code == 403
    assert written(course_dir) == [] and await Module.count() == 0


async def test_nobody_opens_another_trainers_upload(client, people, tree, course_dir):
    await make_user("trainer2", tree["city"], "trainer", "陈培训")
    await login(client, "trainer")
    url, page = await upload_notice(client)
    form = form_values(page) | {"action": "publish"}
    client.cookies.clear()
    await login(client, "trainer2")
    assert (await client.get(url)).status_code == 404
    assert (await post_form(client, url, form)).status_code == 404
    assert (await post_form(client, url + "/discard")).status_code == 404
    assert (await client.get("/course/import/999999")).status_code == 404
    assert (await client.get(f"/course/import/{2**40}")).status_code == 404
    assert "notice-jiaozuo-2023-93.txt" not in (await client.get("/course/import")).text
    assert await Upload.count() == 1 and written(course_dir) == []


async def test_an_upload_can_be_continued_or_discarded(client, people, course_dir):
    await login(client, "trainer")
    url, _ = await upload_notice(client)
    form_page = await client.get("/course/import")
    assert f'href="{url}"' in form_page.text
    gone = await post_form(client, url + "/discard")
    assert gone.status_code in (302, 303)
    assert await Upload.count() == 0
    assert (await client.get(url)).status_code == 404
