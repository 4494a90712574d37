"""`peixun init` loads the course, banks and quizzes from their files: files seed what is
new, and a quiz, bank question or module changed (or made) in the browser is never
overwritten by a changed file. Init keeps the browser's, names it, and `--take-files`
(or `--take-files quizzes|banks|course`) takes the file's.

Each test works on copies of the shipped content folders, so it can change the files.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

import app.cli
import app.course.upload
from app.banks.editor_form import form_of
from app.banks.store import current_questions
from app.cli import _init
from app.quizzes.admin import QUIZ_FIELDS
from app.quizzes.admin import form_of as quiz_form_of
from app.settings import get_settings
from app.tables import Bank, Lesson, Module, QuestionVersion, Quiz
from app.tables import Question as QuestionRow
from tests.conftest import login, post_form
from tests.test_cli import peixun, query
from tests.test_course_upload import TEST_CHARTER, form_values, upload
from tests.test_quiz_admin import post_data

QUIZ, QUIZ_FILE = "xuexi-daodu-quiz", "quizzes/xuexi-daodu-quiz.yaml"
QUIZ_KEPT = (
    "测验“学习导读 单元测验”在网页上修改过，保留网页上的设置；"
    "要改用文件中的内容，请运行 peixun init --take-files"
)
BANK, BANK_FILE = "xuexi-daodu", "xuexi-daodu.md"
OLD_EXPLANATION = (
    "解析：通知开头写明：“2023年10月9日至12日，中国工会第十八次全国代表大会胜利召开。”"
)
OLD_EXPLANATION_4 = (
    "解析：原文是“根据省总和市委部署要求，现就做好全市工会系统学习宣传贯彻工作通知如下”。"
)


@dataclasses.dataclass
class Folders:
    course: Path
    banks: Path

    def edit(self, relative: str, old: str, new: str, *, in_banks: bool = True) -> None:
        """Replace `old` (which must be there, once) by `new` in a copied content file."""
        path = (self.banks if in_banks else self.course) / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def folders(tmp_path, monkeypatch) -> Folders:
    """Copies of the shipped course and banks, used by `peixun init` and the course import."""
    settings = get_settings()
    copies = Folders(
        Path(shutil.copytree(settings.course_dir, tmp_path / "course")),
        Path(shutil.copytree(settings.question_bank_dir, tmp_path / "question_banks")),
    )
    patched = dataclasses.replace(
        settings, course_dir=copies.course, question_bank_dir=copies.banks
    )
    monkeypatch.setattr(app.cli, "get_settings", lambda: patched)
    monkeypatch.setattr(app.course.upload, "get_settings", lambda: patched)
    return copies


@pytest.fixture
async def trainer(client, people, folders):
    """A trainer signed in, with the copied content loaded as `peixun init` loads it."""
    await _init()
    await login(client, "trainer")
    return client


async def quiz_row() -> dict:
    return await Quiz.select(*QUIZ_FIELDS).where(Quiz.slug == QUIZ).first()


async def current(key: str) -> dict:
    return await (
        QuestionVersion.select()
        .where(QuestionVersion.question.key == key, QuestionVersion.is_current.eq(True))
        .first()
    )


async def version_count() -> int:
    return await QuestionVersion.count()


# ---------------------------------------------------------------- quizzes


async def test_a_quiz_edited_in_the_browser_keeps_its_settings_when_its_file_changes(
    trainer, folders
):
    form = quiz_form_of(await quiz_row())
    saved = await post_form(
        trainer, f"/admin/quizzes/{QUIZ}/edit", post_data({**form, "pass_mark": "60"})
    )
    assert saved.status_code in (302, 303), saved.text
    folders.edit(QUIZ_FILE, "time_limit_minutes: 20", "time_limit_minutes: 30")

    message = await _init()
    assert QUIZ_KEPT in message
    quiz = await quiz_row()
    assert (quiz["pass_mark"], quiz["time_limit_minutes"]) == (60, 20)  # the browser's, all of it

    assert QUIZ_KEPT in await _init()  # said again while they disagree; nothing written
    assert await quiz_row() == quiz

    taken = await _init(take=frozenset({"quizzes"}))
    assert "在网页上修改过" not in taken
    quiz = await quiz_row()
    assert (quiz["pass_mark"], quiz["time_limit_minutes"]) == (80, 30)  # the file's
    assert "在网页上修改过" not in await _init()
    assert await quiz_row() == quiz


async def test_a_changed_quiz_file_is_taken_when_the_browser_changed_nothing(trainer, folders):
    before = await quiz_row()
    assert "在网页上修改过" not in await _init()
    assert await quiz_row() == before  # a second init changes nothing

    folders.edit(QUIZ_FILE, "time_limit_minutes: 20", "time_limit_minutes: 30")
    message = await _init()
    assert "在网页上修改过" not in message
    assert (await quiz_row())["time_limit_minutes"] == 30

    # Read back from the database, the opening times still say what the file said.
    window = "opens_at: 2024-03-01 08:00\ncloses_at: 2024-03-31 18:30\n"
    folders.edit(QUIZ_FILE, "pass_mark: 80\n", "pass_mark: 80\n" + window)
    assert "在网页上修改过" not in await _init()
    folders.edit(QUIZ_FILE, "time_limit_minutes: 30", "time_limit_minutes: 25")
    assert "在网页上修改过" not in await _init()
    quiz = await quiz_row()
    assert quiz["time_limit_minutes"] == 25 and quiz["opens_at"] is not None


async def test_rows_loaded_before_files_were_remembered_keep_what_the_browser_changed(
    trainer, folders
):
    """A database loaded by an earlier version has no fingerprints: a question written in
    the browser, or a quiz the audit log shows edited there, is kept; the rest is taken."""
    bank = await Bank.select(Bank.id).where(Bank.slug == BANK).first()
    question = (await current_questions(bank["id"]))["xuexi-daodu-001"]
    url = f"/banks/{BANK}/questions/xuexi-daodu-001/edit"
    await trainer.get(url)
    form = {**form_of(question), "explanation": "网页上写的解析。", "action": "save"}
    assert (await post_form(trainer, url, form)).status_code in (302, 303)
    quiz = quiz_form_of(await quiz_row())
    saved = await post_form(
        trainer, f"/admin/quizzes/{QUIZ}/edit", post_data({**quiz, "pass_mark": "60"})
    )
    assert saved.status_code in (302, 303)
    for table in (Module, Bank, QuestionRow, Quiz):
        await table.update({table.file_hash: ""}, force=True)
    folders.edit(BANK_FILE, OLD_EXPLANATION, "解析：文件中改过的解析一。")
    folders.edit(BANK_FILE, OLD_EXPLANATION_4, "解析：文件中改过的解析四。")
    folders.edit(QUIZ_FILE, "time_limit_minutes: 20", "time_limit_minutes: 30")
    other = "quizzes/dangzhongyang-zhici-quiz.yaml"
    folders.edit(other, "time_limit_minutes: 20", "time_limit_minutes: 30")

    message = await _init()
    assert QUIZ_KEPT in message and "题目“xuexi-daodu-001”在网页上修改过" in message
    assert message.count("在网页上") == 2
    assert (await current("xuexi-daodu-001"))["explanation"] == "网页上写的解析。"
    assert (await current("xuexi-daodu-004"))["explanation"] == "文件中改过的解析四。"
    assert ((await quiz_row())["pass_mark"], (await quiz_row())["time_limit_minutes"]) == (60, 20)
    taken = await Quiz.select(Quiz.time_limit_minutes).where(
        Quiz.slug == "dangzhongyang-zhici-quiz"
    )
    assert taken == [{"time_limit_minutes": 30}]


async def test_a_quiz_made_in_the_browser_is_not_replaced_by_a_file_of_its_slug(trainer, folders):
    form = quiz_form_of(await quiz_row())
    new = {**form, "slug": "daodu-lianxi", "title": "导读练习", "pass_mark": "60"}
    saved = await post_form(trainer, "/admin/quizzes/new", post_data(new))
    assert saved.status_code in (302, 303), saved.text
    text = (folders.banks / QUIZ_FILE).read_text(encoding="utf-8")
    text = text.replace(f"slug: {QUIZ}", "slug: daodu-lianxi").replace("学习导读 单元测验", "导读")
    (folders.banks / "quizzes" / "daodu-lianxi.yaml").write_text(text, encoding="utf-8")

    message = await _init()
    assert "测验“导读练习”在网页上修改过，保留网页上的设置" in message
    made = await Quiz.select().where(Quiz.slug == "daodu-lianxi").first()
    assert (made["title"], made["pass_mark"]) == ("导读练习", 60)

    await _init(take=frozenset({"quizzes"}))
    made = await Quiz.select().where(Quiz.slug == "daodu-lianxi").first()
    assert (made["title"], made["pass_mark"]) == ("导读", 80)


# ---------------------------------------------------------------- bank questions


async def test_a_question_edited_in_the_browser_keeps_its_version_when_its_file_changes(
    trainer, folders, people
):
    bank = await Bank.select(Bank.id).where(Bank.slug == BANK).first()
    question = (await current_questions(bank["id"]))["xuexi-daodu-001"]
    url = f"/banks/{BANK}/questions/xuexi-daodu-001/edit"
    await trainer.get(url)
    form = {**form_of(question), "explanation": "网页上写的解析。", "action": "save"}
    saved = await post_form(trainer, url, form)
    assert saved.status_code in (302, 303), saved.text
    folders.edit(BANK_FILE, OLD_EXPLANATION, "解析：文件中改过的解析一。")
    folders.edit(BANK_FILE, OLD_EXPLANATION_4, "解析：文件中改过的解析四。")

    message = await _init()
    assert (
        "题库“学习导读题库”中的题目“xuexi-daodu-001”在网页上修改过，保留网页上的版本；"
        "要改用文件中的内容，请运行 peixun init --take-files" in message
    )
    assert "xuexi-daodu-004" not in message
    kept = await current("xuexi-daodu-001")
    assert (kept["explanation"], kept["created_by"]) == ("网页上写的解析。", people["trainer"].id)
    assert (await current("xuexi-daodu-004"))["explanation"] == "文件中改过的解析四。"

    count = await version_count()
    assert "xuexi-daodu-001" in await _init()
    assert await version_count() == count  # said again, nothing written

    taken = await _init(take=frozenset({"banks"}))
    assert "在网页上修改过" not in taken
    assert (await current("xuexi-daodu-001"))["explanation"] == "文件中改过的解析一。"
    count = await version_count()
    assert "在网页上修改过" not in await _init()
    assert await version_count() == count


async def test_an_unchanged_bank_file_leaves_browser_edits_alone_and_writes_nothing(
    trainer, folders
):
    count = await version_count()
    assert "在网页上修改过" not in await _init()
    assert await version_count() == count

    bank = await Bank.select(Bank.id).where(Bank.slug == BANK).first()
    question = (await current_questions(bank["id"]))["xuexi-daodu-001"]
    url = f"/banks/{BANK}/questions/xuexi-daodu-001/edit"
    await trainer.get(url)
    form = {**form_of(question), "explanation": "网页上写的解析。", "action": "save"}
    assert (await post_form(trainer, url, form)).status_code in (302, 303)
    message = await _init()
    assert "在网页上修改过" not in message  # the file did not change: nothing to choose
    assert (await current("xuexi-daodu-001"))["explanation"] == "网页上写的解析。"


# ---------------------------------------------------------------- course modules


async def publish_charter(client) -> list[str]:
    """Publish the test charter through the course import pages; returns the new slugs."""
    before = {row["slug"] for row in await Module.select(Module.slug)}
    response = await upload(client, TEST_CHARTER.encode(), "ceshi-zhangcheng.txt")
    assert response.status_code in (302, 303), response.text
    url = response.headers["location"]
    form = form_values((await client.get(url)).text)
    done = await post_form(client, url, {**form, "action": "publish"})
    assert done.status_code in (302, 303), done.text
    return sorted({row["slug"] for row in await Module.select(Module.slug)} - before)


async def test_a_module_published_in_the_browser_is_kept_when_a_file_replaces_it(trainer, folders):
    slug, *_ = await publish_charter(trainer)
    module = await Module.select().where(Module.slug == slug).first()
    lessons = await Lesson.count().where(Lesson.module == module["id"], Lesson.active.eq(True))
    assert "在网页上" not in await _init()  # its own file, as published: nothing to say

    # An upgrade brings a different file of the same name.
    folders.edit(f"{slug}.md", f"title: {module['title']}", "title: 文件中的模块", in_banks=False)
    message = await _init()
    assert (
        f"模块“{module['title']}”（{slug}）是在网页上发布的，与课程文件中的不同，"
        "保留网页上发布的内容；要改用文件中的内容，请运行 peixun init --take-files" in message
    )
    assert (await Module.select().where(Module.slug == slug).first()) == module

    # An upgrade that loses its file does not take it off the course either.
    (folders.course / f"{slug}.md").unlink()
    message = await _init()
    assert f"模块“{module['title']}”（{slug}）是在网页上发布的，课程文件夹中没有它的文件" in message
    assert (await Module.select().where(Module.slug == slug).first()) == module
    assert (
        await Lesson.count().where(Lesson.module == module["id"], Lesson.active.eq(True)) == lessons
    )


async def test_take_files_takes_the_course_file_over_a_module_published_in_the_browser(
    trainer, folders
):
    slug, *_ = await publish_charter(trainer)
    module = await Module.select().where(Module.slug == slug).first()
    folders.edit(f"{slug}.md", f"title: {module['title']}", "title: 文件中的模块", in_banks=False)
    taken = await _init(take=frozenset({"course"}))
    assert "在网页上" not in taken
    assert (await Module.select(Module.title).where(Module.slug == slug).first()) == {
        "title": "文件中的模块"
    }
    # From now on the file is the module's: a changed file is simply taken.
    folders.edit(f"{slug}.md", "title: 文件中的模块", "title: 文件中再改的模块", in_banks=False)
    assert "在网页上" not in await _init()
    assert (await Module.select(Module.title).where(Module.slug == slug).first()) == {
        "title": "文件中再改的模块"
    }


async def test_a_changed_course_file_is_taken_when_the_browser_changed_nothing(trainer, folders):
    folders.edit("xuexi-daodu.md", "title: 学习导读\n", "title: 学习导读（修订）\n", in_banks=False)
    assert "在网页上" not in await _init()
    assert (await Module.select(Module.title).where(Module.slug == "xuexi-daodu").first()) == {
        "title": "学习导读（修订）"
    }


# ---------------------------------------------------------------- the command


def test_the_command_says_what_it_kept_and_takes_the_files_when_asked(tmp_path, monkeypatch):
    settings = get_settings()
    banks = Path(shutil.copytree(settings.question_bank_dir, tmp_path / "question_banks"))
    monkeypatch.setenv("PEIXUN_COURSE_DIR", str(settings.course_dir))
    monkeypatch.setenv("PEIXUN_QUESTION_BANK_DIR", str(banks))
    db = tmp_path / "var" / "peixun.sqlite3"
    assert peixun("init", db=db).returncode == 0

    # What the quiz editor writes, done here on the database file.
    query(db, "UPDATE quiz SET pass_mark = 60 WHERE slug = ?", QUIZ)
    quiz_file = banks / QUIZ_FILE
    text = quiz_file.read_text(encoding="utf-8")
    quiz_file.write_text(text.replace("time_limit_minutes: 20", "time_limit_minutes: 30"), "utf-8")
    settings_of = "SELECT pass_mark, time_limit_minutes FROM quiz WHERE slug = ?"

    kept = peixun("init", db=db)
    assert kept.returncode == 0, kept.stderr
    assert QUIZ_KEPT in kept.stdout
    assert query(db, settings_of, QUIZ) == [(60, 20)]

    wrong = peixun("init", "--take-files", "tests", db=db)
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert query(db, settings_of, QUIZ) == [(60, 20)]

    taken = peixun("init", "--take-files", db=db)
    assert taken.returncode == 0, taken.stderr
    assert "在网页上修改过" not in taken.stdout
    assert query(db, settings_of, QUIZ) == [(80, 30)]
    again = peixun("init", db=db)
    assert again.returncode == 0 and "在网页上修改过" not in again.stdout
