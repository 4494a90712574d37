"""A new version of an imported document (tests/charter_fixture.py: a placeholder charter and
its amendment, article 2 edited, an article added, article 9 removed): both versions kept,
the comparison page, the lesson “本次修改了什么” and drafts from it, and the questions whose
出处 changed put under review and left out of new papers until a trainer settles them."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from html import unescape
from pathlib import Path

import pytest

import app.course.amendment_pages
import app.course.upload
from app.banks.model import Question
from app.banks.store import save_question
from app.course.importing import import_document
from app.course.lessons import read_course_dir, sync_course
from app.course.versions import note_new_versions
from app.quizzes.core import DrawRule, rules_json
from app.quizzes.definitions import load_quiz, quiz_pool, start_attempt
from app.settings import get_settings
from app.tables import (
    Amendment,
    Attempt,
    AuditEvent,
    Bank,
    Lesson,
    Module,
    QuestionReview,
    Quiz,
)
from tests.charter_fixture import ADDED, amended_text, charter_text
from tests.conftest import login, post_form
from tests.test_cli import peixun
from tests.test_course_upload import form_values, upload

OLD = charter_text(3, 12)
NEW = amended_text(OLD)


def text_of(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture
def course_dir(tmp_path, monkeypatch) -> Path:
    """The course folder the pages write to, for this test only."""
    folder = tmp_path / "course"
    settings = dataclasses.replace(get_settings(), course_dir=folder)
    monkeypatch.setattr(app.course.upload, "get_settings", lambda: settings)
    monkeypatch.setattr(app.course.amendment_pages, "get_settings", lambda: settings)
    return folder


async def publish(client, text: str, filename: str):
    """Upload a document and publish it with the plan the page proposes."""
    response = await upload(client, text.encode(), filename)
    assert response.status_code in (302, 303), text_of(response.text)
    url = response.headers["location"]
    page = (await client.get(url)).text
    return await post_form(client, url, {**form_values(page), "action": "publish"})


async def old_bank(trainer_id: int) -> int:
    """A bank on the old version's first chapter (lesson 第一章 第一条至第四条) and third
    chapter, with questions resting on changed, unchanged, removed and renumbered clauses."""
    modules = {row["title"]: row["id"] for row in await Module.select(Module.id, Module.title)}
    bank = Bank(slug="jiu-zhangcheng", title="旧版章程题库", module=modules["总则"])
    await bank.save()
    chapter_one = "第一章 第一条至第四条"
    questions = [
        Question(
            "changed",
            "single",
            "秘书处对谁负责？",
            ("会员大会", "监事会", "联络组", "会员小组"),
            ("A",),
            source_ref=chapter_one,
            evidence="对会员大会负责",
        ),
        Question(
            "unchanged",
            "single",
            "理事会的职责包括哪一项？",
            ("编写通知", "起草网站", "校对文件", "保管信息"),
            ("A",),
            source_ref=chapter_one,
        ),
        Question(
            "judge",
            "true_false",
            "秘书处是示例协会的办事机构。",
            answer=("对",),
            source_ref=chapter_one,
        ),
        Question(
            "also-unchanged",
            "single",
            "“读书月”活动的时间由谁确定？",
            ("监事会", "理事会", "秘书处", "联络组"),
            ("A",),
            source_ref=chapter_one,
            evidence="具体时间由监事会确定",
        ),
    ]
    for question in questions:
        await save_question(bank.id, question, trainer_id, new=True)
    return bank.id


async def open_reviews() -> dict[str, str]:
    rows = await QuestionReview.select(
        QuestionReview.question.key.as_alias("key"), QuestionReview.reason
    ).where(QuestionReview.resolved_at.is_null())
    return {row["key"]: row["reason"] for row in rows}


async def test_a_new_version_is_kept_beside_the_old_and_compared(client, people, course_dir):
    await login(client, "trainer")
    first = await publish(client, OLD, "zhangcheng-2018.txt")
    assert first.headers["location"] == "/course"
    assert await Amendment.count() == 0
    await old_bank(people["trainer"].id)

    done = await publish(client, NEW, "zhangcheng-2023.txt")
    amendment = await Amendment.select().first()
    assert amendment is not None
    assert done.headers["location"] == f"/amendments/{amendment['id']}"
    assert (amendment["old_source"], amendment["new_source"]) == (
        "sources/zhangcheng-2018.txt",
        "sources/zhangcheng-2023.txt",
    )
    # Both versions stay: their files, their modules, their lessons.
    kept = sorted(p.name for p in (course_dir / "sources").iterdir())
    assert kept == ["zhangcheng-2018.txt", "zhangcheng-2023.txt"]
    sources = await Module.select(Module.source_file).where(Module.active.eq(True))
    assert sorted({row["source_file"] for row in sources}) == [
        "sources/zhangcheng-2018.txt",
        "sources/zhangcheng-2023.txt",
    ]

    page = await client.get(done.headers["location"])
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "新增 1 条 · 删去 1 条 · 修改 1 条 · 未改 10 条（其中 2 条只是序号变了）" in shown
    assert "这份文件是之前导入文件的新版本" in shown
    # The changed words are marked on each side; the clause is shown old and new.
    marked = re.findall(r"<(del|ins)><span class=\"sr-only\">［..：</span>([^<]*)<", page.text)
    assert marked[:3] == [("del", "会员大"), ("ins", "理事"), ("ins", "并报告工作")]
    assert ("ins", "第七条" + ADDED) in marked  # an added clause is new throughout
    assert ADDED in shown and "新版删去了这一条" in shown and "旧版没有这一条" in shown
    assert "第二章 第七条 → 第二章 第八条" not in shown  # unchanged ones only on request
    everything = text_of((await client.get(done.headers["location"] + "?show=all")).text)
    assert "第二章 第七条 → 第二章 第八条" in everything

    listed = text_of((await client.get("/amendments")).text)
    assert "示例协会章程" in listed and "道题待复核" in listed


async def test_questions_on_changed_clauses_wait_for_review(client, people, course_dir):
    await login(client, "trainer")
    await publish(client, OLD, "old.txt")
    bank_id = await old_bank(people["trainer"].id)
    quiz = Quiz(
        slug="jiu-ceshi",
        title="旧版章程测验",
        rules=rules_json((DrawRule("single", 2, 50, banks=("jiu-zhangcheng",)),)),
    )
    await quiz.save()
    cadre = people["cadre"]
    drawn = await start_attempt(await load_quiz("jiu-ceshi"), cadre)
    paper = (await Attempt.select(Attempt.paper).where(Attempt.id == drawn).first())["paper"]

    await publish(client, NEW, "new.txt")
    reviews = await open_reviews()
    assert set(reviews) == {"changed", "judge"}
    assert "第一章 第二条在新版中有修改" in reviews["changed"]

    # New papers leave them out; the paper already drawn is as it was.
    pool = await quiz_pool((DrawRule("single", 1, 1, banks=("jiu-zhangcheng",)),))
    assert sorted(q.question.key for q in pool) == ["also-unchanged", "unchanged"]
    after = (await Attempt.select(Attempt.paper).where(Attempt.id == drawn).first())["paper"]
    assert after == paper

    bank_page = text_of((await client.get("/banks/jiu-zhangcheng")).text)
    assert "2 道题待复核" in bank_page
    held = text_of((await client.get("/banks/jiu-zhangcheng?status=review")).text)
    assert "符合条件的题目共 2 道" in held

    question = await client.get("/banks/jiu-zhangcheng/questions/judge")
    assert "待复核" in text_of(question.text) and "确认无误" in text_of(question.text)
    confirmed = await post_form(client, "/banks/jiu-zhangcheng/questions/judge/confirm")
    assert confirmed.status_code in (302, 303)
    assert set(await open_reviews()) == {"changed"}
    assert await AuditEvent.exists().where(AuditEvent.action == "question.review_confirm")
    assert "待复核" not in text_of((await client.get("/banks/jiu-zhangcheng/questions/judge")).text)

    # Saving a new version of the question settles it too.
    edited = Question(
        "changed",
        "single",
        "秘书处对谁负责并报告工作？",
        ("理事会", "监事会", "联络组", "会员小组"),
        ("A",),
        source_ref="第一章 第一条至第四条",
    )
    await save_question(bank_id, edited, people["trainer"].id, new=False)
    assert await open_reviews() == {}
    pool = await quiz_pool((DrawRule("single", 1, 1, banks=("jiu-zhangcheng",)),))
    assert len(pool) == 4  # every question of the bank again


async def test_publishing_what_changed_and_drafting_from_it(client, people, course_dir):
    await login(client, "trainer")
    await publish(client, OLD, "old.txt")
    done = await publish(client, NEW, "new.txt")
    url = done.headers["location"]
    published = await post_form(client, url + "/publish")
    assert published.status_code in (302, 303)
    page = text_of((await client.get(url)).text)
    assert "已发布“《示例协会章程（测试用虚构文本）》本次修改了什么”（2 篇课文）" in page, page[
        :3000
    ]

    amendment = await Amendment.select().first()
    slug = amendment["change_module"]
    assert slug == "new-xiugai"
    module = {m.slug: m for m in read_course_dir(course_dir)}[slug]
    assert [lesson.title for lesson in module.lessons] == [
        "第一章 第二条（修改）",
        "第二章 第七条（新增）",
    ]
    new_text = "".join(NEW.split())
    assert all("".join(p.split()) in new_text for p in module.lessons[0].paragraphs)
    assert "第三章 第九条" in module.note
    lessons = await Lesson.select(Lesson.title).where(Lesson.module.slug == slug)
    assert len(lessons) == 2
    assert await AuditEvent.exists().where(AuditEvent.action == "course.amendment_publish")

    again = await post_form(client, url + "/publish")
    assert again.status_code in (302, 303)
    assert len([m for m in read_course_dir(course_dir) if m.slug.endswith("xiugai")]) == 1

    drafts = await post_form(client, url + "/draft")
    assert drafts.status_code in (302, 303)
    assert re.fullmatch(r"/banks/[a-z0-9-]+/drafts", drafts.headers["location"])
    bank = await Bank.select(Bank.module.slug.as_alias("module")).first()
    assert bank["module"] == slug
    drafts_page = await client.get(drafts.headers["location"])
    assert drafts_page.status_code == 200
    assert "第一章 第二条" in text_of(drafts_page.text)
    assert "出处：第" in text_of(drafts_page.text)
    # A second time: the same bank.
    await post_form(client, url + "/draft")
    assert await Bank.count() == 1


async def sync(course: Path) -> None:
    """What `peixun init` does with the course folder."""
    await sync_course(read_course_dir(course))
    await note_new_versions(course)


async def test_the_command_line_import_is_recorded_at_the_next_sync(db, tmp_path):
    """`peixun documents import --write` then `peixun init`: the same record."""
    course = tmp_path / "course"
    course.mkdir()
    old, new = tmp_path / "charter-2018.txt", tmp_path / "charter-2023.txt"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    import_document(old, course, write=True)
    await sync(course)
    assert await Amendment.count() == 0
    import_document(new, course, write=True)
    await sync(course)
    await sync(course)  # once only
    rows = await Amendment.select(Amendment.old_source, Amendment.new_source)
    assert rows == [
        {"old_source": "sources/charter-2018.txt", "new_source": "sources/charter-2023.txt"}
    ]


async def test_another_document_is_not_a_new_version(db, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    first, other = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(OLD, encoding="utf-8")
    other.write_text(OLD.replace("示例协会章程", "另一协会工作细则", 1), encoding="utf-8")
    for path in (first, other):
        import_document(path, course, write=True)
    await sync(course)
    assert await Amendment.count() == 0


async def test_a_missing_old_file_says_so(client, people, course_dir):
    await login(client, "trainer")
    await publish(client, OLD, "old.txt")
    done = await publish(client, NEW, "new.txt")
    (course_dir / "sources" / "old.txt").unlink()
    page = await client.get(done.headers["location"])
    assert page.status_code == 200
    assert "课程文件夹中找不到文件“sources/old.txt”" in text_of(page.text)
    refused = await post_form(client, done.headers["location"] + "/publish")
    assert refused.status_code in (302, 303)
    assert "没有发布，课程和数据库都没有改动" in text_of(
        (await client.get(done.headers["location"])).text
    )


async def test_only_trainers_see_amendments(client, people, course_dir):
    for who in ("13800000001", "jf-admin"):
        await login(client, who)
        assert (await client.get("/amendments")).status_code == 403
    await login(client, "trainer")
    assert (await client.get("/amendments/999")).status_code == 404


def test_the_command_line_path(tmp_path):
    """`peixun documents import --write` names the earlier version; `peixun init` records
    the new one and says where to see it."""
    course, banks = tmp_path / "course", tmp_path / "banks"
    course.mkdir()
    banks.mkdir()
    old, new = tmp_path / "charter-2018.txt", tmp_path / "charter-2023.txt"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    db = tmp_path / "cli.sqlite3"
    env = {"PEIXUN_COURSE_DIR": str(course), "PEIXUN_QUESTION_BANK_DIR": str(banks)}

    def run(*args: str) -> str:
        result = peixun(*args, db=db, extra_env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "新版本" not in run("documents", "import", str(old), "--write")
    run("init")
    said = run("documents", "import", str(new), "--write")
    assert "这是“示例协会章程（测试用虚构文本）”的新版本" in said
    assert "/amendments/1" in run("init")
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT old_source, new_source FROM amendment").fetchall()
    assert rows == [("sources/charter-2018.txt", "sources/charter-2023.txt")]
    assert "/amendments/" not in run("init")  # recorded once
