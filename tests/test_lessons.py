"""Course files loaded into the database, lesson pages, and reading progress."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.course.files import LessonText, ModuleText, SourceInfo, render_module
from app.course.lessons import opened_token, read_course_dir, required_seconds, sync_course
from app.tables import Lesson, LessonProgress, Module
from tests.conftest import login, post_form

SOURCE = SourceInfo(title="测试用通知（非正式文本）", doc_number="测试〔2023〕1号", file="")
MODULE = ModuleText(
    slug="ceshi-mokuai",
    title="测试模块",
    order=1,
    source=SOURCE,
    note="本模块为测试而写。<script>alert(1)</script>",
    lessons=(
        LessonText("一", "第一部分", ("一、第一部分。", "第一段正文<b>不是标签</b>。" * 10)),
        LessonText(
            "二（一）",
            "第二部分第一节",
            ("（一）第二部分第一节。正文。",),
            key_points="- 要点一\n- <img src=x onerror=alert(1)>",
        ),
    ),
)


@pytest.fixture
async def course(db, tmp_path):
    (tmp_path / "01-ceshi.md").write_text(render_module(MODULE), encoding="utf-8")
    (tmp_path / "README.md").write_text("# 说明", encoding="utf-8")
    await sync_course(read_course_dir(tmp_path))
    return tmp_path


async def _progress(username_id: int, source_ref: str) -> LessonProgress | None:
    lesson = await Lesson.objects().where(Lesson.source_ref == source_ref).first()
    return (
        await LessonProgress.objects()
        .where(LessonProgress.account == username_id, LessonProgress.lesson == lesson.id)
        .first()
    )


async def test_module_files_are_loaded_and_reloading_keeps_records(course, people):
    assert await Module.count() == 1
    lessons = await Lesson.select(Lesson.slug, Lesson.source_ref).order_by(Lesson.sort_order)
    assert [(r["slug"], r["source_ref"]) for r in lessons] == [
        ("一", "一"),
        ("二（一）", "二（一）"),
    ]
    lesson = await Lesson.objects().where(Lesson.slug == "一").first()
    await LessonProgress(account=people["cadre"].id, lesson=lesson.id).save()
    shorter = ModuleText(**{**MODULE.__dict__, "lessons": MODULE.lessons[1:]})
    (course / "01-ceshi.md").write_text(render_module(shorter), encoding="utf-8")
    await sync_course(read_course_dir(course))
    gone = await Lesson.objects().where(Lesson.slug == "一").first()
    assert gone is not None and not gone.active
    assert await LessonProgress.count() == 1


async def test_course_page_shows_modules_with_progress(client, course, people):
    await login(client, "13800000001")
    page = await client.get("/course")
    assert page.status_code == 200
    assert "测试模块" in page.text
    assert "已学 0 / 2 篇" in page.text


async def test_lesson_page_shows_the_official_text_escaped_with_its_source_ref(
    client, course, people
):
    await login(client, "13800000001")
    module = await client.get("/course/ceshi-mokuai")
    assert "第二部分第一节" in module.text
    assert "<script>alert(1)</script>" not in module.text
    assert "&lt;script&gt;" in module.text
    page = await client.get("/course/ceshi-mokuai/二（一）")
    assert page.status_code == 200
    assert 'id="二（一）"' in page.text
    assert 'href="#二（一）"' in page.text
    assert "（一）第二部分第一节。正文。" in page.text
    assert "学习要点" in page.text and "<li>要点一</li>" in page.text
    assert "<img src=x" not in page.text
    first = await client.get("/course/ceshi-mokuai/一")
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in first.text
    assert "下一篇 →" in first.text and "← 上一篇" not in first.text


async def test_unknown_module_or_lesson_gives_404(client, course, people):
    await login(client, "13800000001")
    assert (await client.get("/course/no-such")).status_code == 404
    assert (await client.get("/course/ceshi-mokuai/九")).status_code == 404


async def test_course_pages_need_sign_in(client, course):
    response = await client.get("/course")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


async def test_done_is_refused_until_the_server_has_seen_enough_reading(client, course, people):
    cadre = people["cadre"]
    await login(client, "13800000001")
    await client.get("/course/ceshi-mokuai/一")
    response = await post_form(client, "/course/ceshi-mokuai/一/done", {"js": "1"})
    assert response.status_code == 302
    page = await client.get(response.headers["location"])
    assert "还需要再阅读" in page.text
    assert (await _progress(cadre.id, "一")).read_at is None


async def test_a_heartbeat_credits_at_most_30_seconds(client, course, people):
    cadre = people["cadre"]
    await login(client, "13800000001")
    await client.get("/course/ceshi-mokuai/一")
    progress = await _progress(cadre.id, "一")
    # The page was left open, hidden, for ten minutes.
    await LessonProgress.update(
        {LessonProgress.last_seen_at: datetime.now(UTC) - timedelta(minutes=10)}
    ).where(LessonProgress.id == progress.id)
    response = await post_form(client, "/course/ceshi-mokuai/一/heartbeat")
    assert response.status_code == 201
    assert 29 <= response.json()["active_seconds"] <= 30
    # Heartbeats sent faster than real time earn only the time that really passed.
    again = await post_form(client, "/course/ceshi-mokuai/一/heartbeat")
    assert again.json()["active_seconds"] <= 31


async def test_progress_moves_after_real_reading_time(client, course, people):
    cadre = people["cadre"]
    lesson = await Lesson.objects().where(Lesson.slug == "一").first()
    needed = required_seconds(lesson.characters)
    await login(client, "13800000001")
    await client.get("/course/ceshi-mokuai/一")
    progress = await _progress(cadre.id, "一")
    await LessonProgress.update(
        {
            LessonProgress.active_seconds: needed - 10,
            LessonProgress.last_seen_at: datetime.now(UTC) - timedelta(seconds=15),
        }
    ).where(LessonProgress.id == progress.id)
    response = await post_form(client, "/course/ceshi-mokuai/一/done", {"js": "1"})
    assert (
        response.headers["location"] == "/course/ceshi-mokuai/%E4%BA%8C%EF%BC%88%E4%B8%80%EF%BC%89"
    )
    assert (await _progress(cadre.id, "一")).read_at is not None
    assert "已学 1 / 2 篇" in (await client.get("/course")).text


async def test_without_javascript_the_time_since_opening_counts(client, course, people):
    cadre = people["cadre"]
    lesson = await Lesson.objects().where(Lesson.slug == "一").first()
    await login(client, "13800000001")
    await client.get("/course/ceshi-mokuai/一")
    progress = await _progress(cadre.id, "一")
    opened = datetime.now(UTC) - timedelta(seconds=required_seconds(lesson.characters) + 5)
    await LessonProgress.update({LessonProgress.last_seen_at: opened}).where(
        LessonProgress.id == progress.id
    )
    # A forged opening time counts for no more than one heartbeat.
    forged = opened_token(cadre.id, lesson.id, opened)[:-1] + "x"
    await post_form(client, "/course/ceshi-mokuai/一/done", {"js": "0", "opened": forged})
    assert (await _progress(cadre.id, "一")).read_at is None
    await LessonProgress.update(
        {LessonProgress.last_seen_at: opened, LessonProgress.active_seconds: 0}
    ).where(LessonProgress.id == progress.id)
    # The page's own signed opening time: the whole time since counts.
    await post_form(
        client,
        "/course/ceshi-mokuai/一/done",
        {"js": "0", "opened": opened_token(cadre.id, lesson.id, opened)},
    )
    assert (await _progress(cadre.id, "一")).read_at is not None


async def test_time_away_before_opening_the_page_is_not_reading_time(client, course, people):
    cadre = people["cadre"]
    await login(client, "13800000001")
    await client.get("/course/ceshi-mokuai/一")
    progress = await _progress(cadre.id, "一")
    # Last seen ten minutes ago; now the page is opened again, and read for a moment.
    await LessonProgress.update(
        {LessonProgress.last_seen_at: datetime.now(UTC) - timedelta(minutes=10)}
    ).where(LessonProgress.id == progress.id)
    page = await client.get("/course/ceshi-mokuai/一")
    opened = re.search(r'name="opened" value="([^"]+)"', page.text).group(1)
    assert f'data-opened="{opened}"' in page.text
    response = await post_form(client, "/course/ceshi-mokuai/一/heartbeat", {"opened": opened})
    assert response.json()["active_seconds"] <= 2


async def test_progress_follows_the_person_to_another_device(client, course, people):
    cadre = people["cadre"]
    lesson = await Lesson.objects().where(Lesson.slug == "二（一）").first()
    await LessonProgress(
        account=cadre.id, lesson=lesson.id, active_seconds=200, read_at=datetime.now(UTC)
    ).save()
    await login(client, "13800000001")
    page = await client.get("/course/ceshi-mokuai/二（一）")
    assert "学完本篇" in page.text
    assert "已学 1 / 2 篇" in (await client.get("/course")).text
    # Another person's progress is their own.
    await post_form(client, "/logout")
    await login(client, "13800000002")
    assert "已学 0 / 2 篇" in (await client.get("/course")).text


async def test_the_cadre_home_shows_reading_progress(client, course, people):
    await login(client, "13800000001")
    page = await client.get("/")
    assert "已学 0 / 2 篇" in page.text
    assert "开始学习" in page.text
