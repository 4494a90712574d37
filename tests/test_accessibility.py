"""Every main page, as each role sees it, passes axe-core and fits a 360 px phone.

One real server, one Chromium inside WeChat (its user agent), the demo data set (small): each
page is opened at 360 px and again at 1280 px, axe-core (from npm, in tests/axe/) runs on it,
and any violation of impact "serious" or "critical" fails the test with its rule, impact,
selectors and page. At 360 px no page may scroll sideways, with the standard font nor in the
cadre's 长辈模式 (senior mode).
All problems of all pages are listed in one failure.

With PEIXUN_SCREENSHOTS set to a folder, the main pages of each role are also saved there as
they look on a 360 px phone (docs/screenshots/ in the repository is made this way).
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.db import DB, is_sqlite
from app.demo.attempts import take_quiz
from app.demo.loading import DEMO_PASSWORD, load_demo
from app.tables import (
    Attempt,
    Bank,
    ClassSession,
    Completion,
    Lesson,
    Question,
    Quiz,
    ReportRound,
    Training,
    Unit,
    UnitReport,
    User,
    WorkActivity,
)
from tests.browser_support import AXE_JS, CHROMIUM, PHONE, WECHAT_UA, server  # noqa: F401  (server)

DESKTOP = {"width": 1280, "height": 800}
BLOCKING = ("serious", "critical")

if not AXE_JS.exists():
    message = "无障碍测试需要 npm 上的 axe-core：npm ci --prefix tests/axe（需要 nodejs 和 npm）"
    if os.environ.get("PEIXUN_REQUIRE_BROWSER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

DEMO_CADRES = 30


@pytest.fixture
async def site(content):
    """The demo data set (small), plus the demo cadre halfway through a module quiz; returns
    the ids and slugs the page addresses need."""
    if is_sqlite():
        await load_demo(cadre_count=DEMO_CADRES)
    else:  # thousands of small queries: a pool saves a connection for each
        await DB.start_connection_pool(min_size=1, max_size=4)
        try:
            await load_demo(cadre_count=DEMO_CADRES)
        finally:
            await DB.close_connection_pool()
    cadre = await User.select(User.id).where(User.username == "cadre").first()
    quiz = await Quiz.select().where(Quiz.slug == "gonghui-zhangcheng-quiz").first()
    await take_quiz(quiz, cadre["id"], 0.8, datetime.now(UTC), random.Random(1), finish=False)
    in_progress = await (
        Attempt.select(Attempt.id)
        .where(Attempt.account == cadre["id"], Attempt.finished_at.is_null())
        .first()
    )
    finished = await (
        Attempt.select(Attempt.id)
        .where(Attempt.account == cadre["id"], Attempt.finished_at.is_not_null())
        .order_by(Attempt.id)
        .first()
    )
    lesson = await (
        Lesson.select(Lesson.slug, Lesson.module.slug.as_alias("module_slug"))
        .order_by(Lesson.id)
        .first()
    )
    bank = await Bank.select(Bank.id, Bank.slug).order_by(Bank.id).first()
    question = await Question.select(Question.key).where(Question.bank == bank["id"]).first()
    training = await Training.select(Training.id).order_by(Training.id).first()
    completion = await (
        Completion.select(Completion.id, Completion.code, Completion.training)
        .order_by(Completion.id)
        .first()
    )
    session = await (
        ClassSession.select(ClassSession.id, ClassSession.batch, ClassSession.batch.training)
        .order_by(ClassSession.id)
        .first()
    )
    person = await User.select(User.id).where(User.role == "cadre").order_by(User.id).first()
    unit = await Unit.select(Unit.id).order_by(Unit.depth, Unit.id).limit(2)
    report_round = await ReportRound.select(ReportRound.id).first()
    county = await Unit.select(Unit.id, Unit.path).where(Unit.name == "解放区总工会").first()
    activity = await (
        WorkActivity.select(WorkActivity.id)
        .where(WorkActivity.unit.path.like(county["path"] + "%"))
        .first()
    )
    submitted = (
        await UnitReport.select(UnitReport.unit).where(UnitReport.status == "submitted").first()
    )
    return {
        "round": report_round["id"],
        "county": county["id"],
        "activity": activity["id"],
        "submitted_unit": submitted["unit"],
        "attempt": in_progress["id"],
        "result": finished["id"],
        "quiz": quiz["slug"],
        "module": lesson["module_slug"],
        "lesson": lesson["slug"],
        "bank": bank["slug"],
        "question": question["key"],
        "training": training["id"],
        "code": completion["code"],
        "completion": completion["id"],
        "completion_training": completion["training"],
        "session": session["id"],
        "batch": session["batch"],
        "rotation": session["batch.training"],
        "person": person["id"],
        "unit": unit[-1]["id"],
    }


def _pages(s: dict) -> dict[str | None, list[str]]:
    """The pages to check, by the demo account that opens them (None: not signed in)."""
    training = s["training"]
    return {
        None: ["/login", f"/verify/{s['code']}"],
        "cadre": [
            "/",
            "/course",
            f"/course/{s['module']}",
            f"/course/{s['module']}/{s['lesson']}",
            f"/quizzes/{s['quiz']}",
            f"/attempts/{s['attempt']}",
            f"/attempts/{s['result']}/result",
            "/mistakes",
            "/my/scores",
            "/my/certificates",
            "/my/trainings",
            "/my/record",
            "/checkin",
            "/password",
            "/course/search?q=工会",
            "/no-such-page",
        ],
        "trainer": [
            "/",
            "/banks",
            f"/banks/{s['bank']}",
            f"/banks/{s['bank']}/questions/{s['question']}/edit",
            f"/banks/{s['bank']}/coverage",
            "/banks/import",
            "/admin/quizzes",
            f"/admin/quizzes/{s['quiz']}/edit",
            f"/admin/quizzes/{s['quiz']}/attempts",
            f"/admin/attempts/{s['result']}",
            "/course/import",
            "/trainings",
            f"/trainings/{training}",
            f"/trainings/{s['rotation']}/batches/{s['batch']}/sessions",
            f"/sessions/{s['session']}/attendance",
            f"/sessions/{s['session']}/code",
            f"/sessions/{s['session']}/edit",
            f"/sessions/{s['session']}/projector",
            f"/sessions/{s['session']}/sheet",
            f"/banks/{s['bank']}/questions/new",
            f"/banks/{s['bank']}/drafts",
            "/admin/quizzes/new",
            f"/admin/quizzes/{s['quiz']}/overrides",
        ],
        "county-admin": [
            "/",
            "/reports",
            f"/reports/trainings/{training}/summary",
            f"/reports/trainings/{training}/roster",
            f"/reports/trainings/{training}/reminders",
            "/people",
            f"/people/{s['person']}",
            "/people/new",
            "/people/import",
            "/units",
            f"/units/{s['unit']}",
            "/people/import/template.xlsx",
            "/people/imports/999999/passwords.xlsx",
            "/reports/credits",
            "/reports/credits/reminders",
            "/reporting/",
            f"/reporting/{s['round']}/ledger",
            f"/reporting/{s['round']}/ledger/new",
            f"/reporting/activities/{s['activity']}",
            f"/reporting/{s['round']}/units/{s['county']}",
        ],
        "admin": [
            "/",
            "/trainings",
            "/trainings/new",
            f"/trainings/{training}",
            f"/trainings/{training}/edit",
            f"/trainings/{training}/enroll",
            f"/trainings/{training}/enrollments",
            f"/trainings/{s['completion_training']}/certificates",
            f"/trainings/{s['completion_training']}/certificates/{s['completion']}",
            "/reports",
            "/people",
            "/units",
            "/audit",
            "/audit?action=session.cancel",
            "/admin/api-tokens",
            "/credits/requirements",
            f"/reporting/{s['round']}",
            "/reporting/rounds/new",
            f"/reporting/{s['round']}/edit",
            f"/reporting/{s['round']}/units/{s['submitted_unit']}",
        ],
    }


def _shots(s: dict) -> dict[tuple[str | None, str], str]:
    """The pages kept as screenshots: (account, path) → file name."""
    return {
        (None, "/login"): "login",
        ("cadre", "/"): "cadre-home",
        ("cadre", f"/course/{s['module']}/{s['lesson']}"): "cadre-lesson",
        ("cadre", f"/attempts/{s['attempt']}"): "cadre-quiz",
        ("cadre", "/my/scores"): "cadre-scores",
        ("cadre", "/my/trainings"): "cadre-trainings",
        ("trainer", "/"): "trainer-home",
        ("trainer", f"/banks/{s['bank']}"): "trainer-bank",
        ("trainer", f"/admin/quizzes/{s['quiz']}/edit"): "trainer-quiz",
        ("trainer", f"/sessions/{s['session']}/projector"): "trainer-projector",
        ("county-admin", "/"): "county-home",
        ("county-admin", "/reports"): "county-dashboard",
        ("county-admin", f"/reports/trainings/{s['training']}/roster"): "county-roster",
        ("county-admin", "/people/import/template.xlsx"): "wechat-download",
        ("admin", "/"): "federation-home",
        ("admin", "/audit"): "federation-audit",
    }


def _shoot(page, name: str) -> None:
    """Keep the page as a phone shows it, when PEIXUN_SCREENSHOTS names a folder."""
    folder = os.environ.get("PEIXUN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    )


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名（手机号或工号）").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/")


# The outermost elements that stick out past the right edge, for the failure message.
_TOO_WIDE = """() => {
  const edge = window.innerWidth + 1;
  const right = (e) => e.getBoundingClientRect().right;
  const scrolls = (e) => getComputedStyle(e).overflowX !== 'visible';
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) return true;
    }
    return false;
  };
  // Absolutely placed boxes escape a scroller that is not their containing block.
  const escapes = (e) => getComputedStyle(e).position === 'absolute'
    && !(e.offsetParent && e.offsetParent !== document.body
         && (scrolls(e.offsetParent) || clipped(e.offsetParent)));
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('');
  return [...document.body.querySelectorAll('*')]
    .filter(e => right(e) > edge
      && ((right(e.parentElement) <= edge && !clipped(e)) || escapes(e)))
    .slice(0, 5)
    .map(e => `${name(e)}（右缘 ${Math.round(right(e))}px）`);
}"""


def _axe(page, axe_source: str) -> list[dict]:
    """axe-core's violations on the page as it is now.

    page.evaluate runs through the DevTools protocol, which the page's Content-Security-Policy
    (no inline scripts) does not govern, so axe is injected without bypass_csp and the page is
    checked exactly as the policy lets it render (no inline styles either).
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
          const results = await axe.run(document, {resultTypes: ['violations']});
          return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(' ')),
          }));
        }"""
    )


def _scrolls_sideways(page) -> str:
    """Why the page is wider than the window, or "" when it is not."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= page.evaluate("window.innerWidth"):
        return ""
    return f"横向滚动，页面宽 {width}px：" + "、".join(page.evaluate(_TOO_WIDE))


class Findings:
    """Every problem on every page, so one run lists them all."""

    def __init__(self, axe_source: str) -> None:
        self.axe_source = axe_source
        self.lines: list[str] = []

    def check(self, page, where: str, sizes=(PHONE, DESKTOP)) -> None:
        for size in sizes:
            page.set_viewport_size(size)
            if size == PHONE and (why := _scrolls_sideways(page)):
                self.lines.append(f"{where} {PHONE['width']}px：{why}")
            for v in _axe(page, self.axe_source):
                if v["impact"] in BLOCKING:
                    self.lines.append(
                        f"{where} {size['width']}px：{v['id']}（{v['impact']}）{v['help']}"
                        f" → {'; '.join(v['targets'][:8])}"
                    )


def _open(page, url: str) -> None:
    page.set_viewport_size(PHONE)  # laid out at phone width first, as a phone loads it
    response = page.goto(url)
    missing = url.endswith("/no-such-page") or "/imports/999999/" in url
    expected = 404 if missing else 200
    assert response and response.status == expected, (url, response and response.status)


def test_main_pages_pass_axe_and_fit_a_phone(site, server):
    findings = Findings(AXE_JS.read_text(encoding="utf-8"))
    pages = _pages(site)
    shots = _shots(site)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        for account, paths in pages.items():
            context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=WECHAT_UA)
            page = context.new_page()
            page.set_default_timeout(15_000)
            if account:
                _sign_in(page, server, account)
            for path in paths:
                _open(page, server + path)
                if name := shots.get((account, path)):
                    _shoot(page, name)
                    if path == "/" and account == "county-admin":
                        page.get_by_role("button", name="菜单").click()
                        _shoot(page, "county-menu")
                        page.keyboard.press("Escape")
                findings.check(page, f"{path}（{account or '未登录'}）")
                if path.startswith("/attempts/") and not path.endswith("/result"):
                    # The 交卷 confirmation, open.
                    page.get_by_role("button", name="交卷").first.click()
                    expect(page.locator("[data-submit-dialog]")).to_be_visible()
                    findings.check(page, f"{path} 交卷确认（{account}）")
            if account == "cadre":
                # 长辈模式 (20 px text, 60 px targets) must not make any cadre page scroll
                # sideways, and passes axe-core too.
                page.goto(server + "/")
                page.get_by_role("button", name="长辈模式").click()
                expect(page.get_by_role("button", name="长辈模式")).to_have_attribute(
                    "aria-pressed", "true"
                )
                for path in paths:
                    _open(page, server + path)
                    if path == "/":
                        _shoot(page, "cadre-home-senior")
                    findings.check(page, f"{path}（cadre，长辈模式）", sizes=(PHONE,))
            context.close()
        browser.close()
    assert not findings.lines, "无障碍或手机宽度问题：\n" + "\n".join(findings.lines)
