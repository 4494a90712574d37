"""A new version of an imported document in a real Chromium, for a trainer on a 360 px phone
inside WeChat and on a desktop: the list of new versions and the comparison page fit the
phone, the changed words are visibly marked, old and new are stacked on the phone and side by
side on the desktop, the page passes axe-core, 发布为课文“本次修改了什么” and 从修改处出题
work, and 确认无误 settles a question under review."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.course.importing import import_document
from app.course.lessons import read_course_dir, sync_course
from app.course.versions import note_new_versions
from app.tables import QuestionReview
from tests.browser_support import (
    DESKTOP,
    PHONE,
    axe_source,
    browser_page,
    no_sideways_scroll,
    serve,
    sign_in,
)
from tests.charter_fixture import amended_text, charter_text
from tests.test_versions import old_bank

pytestmark = pytest.mark.browser

OLD = charter_text(3, 12)
NEW = amended_text(OLD)
TITLE = "示例协会章程（测试用虚构文本）"
CHANGE_MODULE = f"《{TITLE}》本次修改了什么"
BANK = "jiu-zhangcheng"  # old_bank's slug


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """The course folder as it is after importing the old version, and after importing the
    new one too (made once); `served` is the folder the server reads, refilled per test."""
    root = tmp_path_factory.mktemp("versions")
    old, new = root / "zhangcheng-2018.txt", root / "zhangcheng-2023.txt"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    old_only, both, served = root / "old-only", root / "both", root / "course"
    for folder in (old_only, both, served):
        folder.mkdir()
    import_document(old, old_only, write=True)
    import_document(old, both, write=True)
    import_document(new, both, write=True)
    return {"old_only": old_only, "both": both, "served": served}


@pytest.fixture(scope="module")
def server(folders):
    """The app, reading the test's course folder."""
    with serve({"PEIXUN_COURSE_DIR": str(folders["served"])}) as base:
        yield base


# The database is filled before Playwright starts its own event loop in this thread.
@pytest.fixture
async def amendment(people, folders) -> int:
    """The old version imported and a bank of questions made on it, then the new version
    imported, as `peixun init` records it; returns the amendment's id."""
    served = folders["served"]

    async def course_is(folder: Path) -> list[int]:
        shutil.rmtree(served)
        shutil.copytree(folder, served)
        await sync_course(read_course_dir(served))
        return await note_new_versions(served)

    assert await course_is(folders["old_only"]) == []
    await old_bank(people["trainer"].id)
    [made] = await course_is(folders["both"])
    assert await QuestionReview.count() == 2  # "changed" and "judge"
    return made


# The background a mark is drawn on (its nearest opaque ancestor) and the page's.
_COLOURS = """(mark) => {
  const bg = (e) => getComputedStyle(e).backgroundColor;
  const clear = (c) => c === 'transparent' || c === 'rgba(0, 0, 0, 0)';
  let behind = mark.parentElement;
  while (behind && clear(bg(behind))) behind = behind.parentElement;
  const page = [document.body, document.documentElement].map(bg).find(c => !clear(c));
  return {mark: bg(mark), behind: behind ? bg(behind) : 'rgb(255, 255, 255)',
          page: page || 'rgb(255, 255, 255)'};
}"""


def assert_marked(page: Page, tag: str) -> None:
    """The first changed clause's `tag` (del or ins) is visible on a colour of its own."""
    mark = page.locator(f".clause-changed .clause-text {tag}").first
    expect(mark).to_be_visible()
    colours = mark.evaluate(_COLOURS)
    assert colours["mark"] not in ("transparent", "rgba(0, 0, 0, 0)"), (tag, colours)
    assert colours["mark"] != colours["behind"], (tag, colours)
    assert colours["mark"] != colours["page"], (tag, colours)


def columns(page: Page) -> tuple[dict, dict]:
    """The boxes of the first changed clause's old and new texts."""
    clause = page.locator(".clause-changed").first
    old = clause.locator(".version-old").bounding_box()
    new = clause.locator(".version-new").bounding_box()
    assert old and new
    return old, new


def open_comparison(page: Page, server: str) -> None:
    """From the list of new versions to the comparison page."""
    page.goto(server + "/amendments")
    page.get_by_role("link", name=re.compile(re.escape(TITLE))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE}（修正案）：本次修改了什么")


def test_a_trainer_compares_publishes_and_drafts_on_a_phone_in_wechat(amendment, server):
    with browser_page(PHONE, wechat=True) as page:
        sign_in(page, server, "trainer")
        page.goto(server + "/amendments")
        card = page.get_by_role("link", name=re.compile(re.escape(TITLE)))
        expect(card).to_contain_text("2 道题待复核")
        assert no_sideways_scroll(page)

        card.click()
        page.wait_for_url(f"{server}/amendments/{amendment}")
        expect(page.get_by_text("新增 1 条 · 删去 1 条 · 修改 1 条")).to_be_visible()
        assert no_sideways_scroll(page)
        assert_marked(page, "del")
        assert_marked(page, "ins")
        old, new = columns(page)
        assert new["y"] >= old["y"] + old["height"], (old, new)  # stacked

        page.get_by_role("button", name="发布为课文“本次修改了什么”").click()
        expect(page.get_by_text("已发布“")).to_be_visible()
        expect(page.get_by_role("link", name=CHANGE_MODULE)).to_be_visible()
        assert no_sideways_scroll(page)

        page.get_by_role("button", name="从修改处出题").click()
        page.wait_for_url(re.compile(r"/banks/[a-z0-9-]+/drafts$"))
        expect(page.get_by_role("heading", level=1, name="出题助手")).to_be_visible()
        lesson = page.get_by_role("heading", level=2, name=re.compile("^第一章 第二条"))
        expect(lesson).to_be_visible()
        drafts = page.locator("li.draft")
        expect(drafts.first).to_be_visible()
        assert drafts.count() >= 1
        assert no_sideways_scroll(page)


def test_the_comparison_passes_axe_on_a_phone_in_wechat(amendment, server):
    with browser_page(PHONE, wechat=True) as page:
        sign_in(page, server, "trainer")
        open_comparison(page, server)
        page.evaluate(axe_source())
        violations = page.evaluate(
            """async () => {
              const results = await axe.run(document, {resultTypes: ['violations']});
              return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ')),
              }));
            }"""
        )
        assert violations == [], violations


def test_old_and_new_side_by_side_on_a_desktop(amendment, server):
    with browser_page(DESKTOP) as page:
        sign_in(page, server, "trainer")
        open_comparison(page, server)
        old, new = columns(page)
        assert old["y"] == new["y"], (old, new)
        assert new["x"] >= old["x"] + old["width"], (old, new)
        assert_marked(page, "del")
        assert_marked(page, "ins")


def test_confirming_a_question_under_review_on_a_phone_in_wechat(amendment, server):
    with browser_page(PHONE, wechat=True) as page:
        sign_in(page, server, "trainer")
        page.goto(f"{server}/banks/{BANK}")
        banner = page.locator(".review-banner")
        expect(banner).to_contain_text("2 道题待复核")

        open_comparison(page, server)
        page.get_by_role("link", name=re.compile("题号 judge")).click()
        section = page.get_by_role("region", name="待复核")
        expect(section).to_be_visible()
        assert no_sideways_scroll(page)
        section.get_by_role("button", name="确认无误").click()
        expect(page.get_by_role("heading", name="待复核")).to_have_count(0)
        expect(page.get_by_role("region", name="待复核")).to_have_count(0)
        assert no_sideways_scroll(page)

        page.get_by_role("link", name="旧版章程题库").click()
        expect(banner).to_contain_text("1 道题待复核")
        assert no_sideways_scroll(page)
