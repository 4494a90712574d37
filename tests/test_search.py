"""Search across the lesson text, on SQLite (FTS5 trigram) and on PostgreSQL (ILIKE)."""

from __future__ import annotations

import pytest

from app.course.files import LessonText, ModuleText, SourceInfo, render_module
from app.course.lessons import read_course_dir, sync_course
from app.course.search import fts_phrase, like_pattern, snippet
from tests.conftest import login

SOURCE = SourceInfo(title="测试用通知（非正式文本）", doc_number="测试〔2023〕1号", file="")
FILLER = "全面贯彻落实会议精神，推动各项工作取得新成效。" * 4
ZHENGZHI = LessonText(
    "一", "提高站位", (FILLER, "一、提高政治站位，深刻认识学习宣传贯彻的重大意义。" + FILLER)
)
JIANDU = LessonText(
    "二（一）",
    "加强监督",
    ("（二）要加强经费审查监督，做到100%公开，a_b 与 a*b 不同。",),
)
SYMBOLS = LessonText("三", "符号", ('写作 "引号" *星号 OR (括号) <b>粗体</b> 原样保留。',))
MODULE = ModuleText(
    slug="ceshi-mokuai",
    title="测试模块",
    order=1,
    source=SOURCE,
    lessons=(ZHENGZHI, JIANDU, SYMBOLS),
)


async def _sync(folder, module: ModuleText = MODULE) -> None:
    (folder / "01-ceshi.md").write_text(render_module(module), encoding="utf-8")
    await sync_course(read_course_dir(folder))


@pytest.fixture
async def course(db, tmp_path):
    await _sync(tmp_path)
    return tmp_path


async def _search(client, q: str):
    response = await client.get("/course/search", params={"q": q})
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("query", ["政治站位", "站位"])
async def test_a_chinese_query_finds_the_lesson_and_links_to_the_passage(
    client, course, people, query
):
    await login(client, "13800000001")
    page = await _search(client, query)
    assert "找到 1 篇课文" in page
    assert 'href="/course/ceshi-mokuai/一#一"' in page
    assert "测试模块" in page and "提高站位" in page and 'class="badge source-ref">一<' in page
    # The snippet is the passage around the hit, not the start of the lesson.
    assert f"<mark>{query}</mark>" in page
    assert "一、提高" + "政治站位".replace(query, f"<mark>{query}</mark>") in page
    assert page.count("推动各项工作") <= 2


async def test_results_are_ranked_by_hits_and_limited_to_active_modules(client, course, people):
    await login(client, "13800000001")
    page = await _search(client, "。")  # in every lesson, most often in 一
    assert "找到 3 篇课文" in page
    assert page.index("提高站位") < page.index("加强监督")


@pytest.mark.parametrize(
    "query",
    ['"引号"', "*星号", "星号 OR (括号)", "OR", "(", '"', "100%", "a_b", "a*b", "\\"],
)
async def test_query_syntax_is_taken_literally(client, course, people, query):
    await login(client, "13800000001")
    page = await _search(client, query)
    if query in ("a_b", "a*b", "100%"):
        assert "找到 1 篇课文" in page and "加强监督" in page
    elif query == "\\":
        assert "没有找到包含" in page
    else:
        assert "找到 1 篇课文" in page and "符号" in page


async def test_percent_and_underscore_are_not_wildcards(client, course, people):
    await login(client, "13800000001")
    assert "没有找到包含“a%b”的课文" in await _search(client, "a%b")
    assert "没有找到包含“提_政”的课文" in await _search(client, "提_政")
    assert "没有找到包含“" in await _search(client, '"站位" OR "监督"')


async def test_html_in_the_query_and_the_text_is_escaped(client, course, people):
    await login(client, "13800000001")
    page = await _search(client, "<b>粗体")
    assert "找到 1 篇课文" in page
    assert "<b>粗体" not in page
    assert "<mark>&lt;b&gt;粗体</mark>&lt;/b&gt;" in page
    page = await _search(client, "<script>alert(1)</script>")
    assert "<script>alert(1)" not in page
    assert "没有找到包含“&lt;script&gt;alert(1)&lt;/script&gt;”的课文" in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page


async def test_empty_query_shows_the_form_only(client, course, people):
    await login(client, "13800000001")
    for q in ("", "   "):
        page = await _search(client, q)
        assert 'name="q"' in page
        assert "找到" not in page and "没有找到" not in page
    assert 'action="/course/search"' in (await client.get("/course")).text
    # The search route does not hide the module pages.
    assert (await client.get("/course/ceshi-mokuai")).status_code == 200


async def test_resync_updates_the_index(client, course, people):
    await login(client, "13800000001")
    assert "加强监督" in await _search(client, "审查监督")
    changed = LessonText(JIANDU.source_ref, JIANDU.title, ("（二）要严格财务管理制度。",))
    await _sync(course, ModuleText(**{**MODULE.__dict__, "lessons": (changed,)}))
    for old in ("政治站位", "站位", "审查监督", "符号"):
        assert "没有找到包含" in await _search(client, old)
    page = await _search(client, "财务管理")
    assert "找到 1 篇课文" in page and "<mark>财务管理</mark>" in page
    assert "找到 1 篇课文" in await _search(client, "财务")


async def test_search_needs_sign_in(client, course):
    response = await client.get("/course/search", params={"q": "站位"})
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


def test_snippet_helpers():
    assert like_pattern("100%_\\") == "%100\\%\\_\\\\%"
    assert fts_phrase('a"b OR c') == '"a""b OR c"'
    text = "甲" * 100 + "<关键>" + "乙" * 100
    marked = snippet(text, "<关键>")
    assert "<mark>&lt;关键&gt;</mark>" in marked
    assert marked.startswith("…") and marked.endswith("…")
    assert 55 <= len(marked.replace("<mark>", "").replace("</mark>", "")) <= 80
    assert snippet("短文。", "无") == "短文。"
    assert snippet("Party CONGRESS", "congress") == "Party <mark>CONGRESS</mark>"
