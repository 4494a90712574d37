"""What every browser test shares: Debian's Chromium, the served app, a phone inside WeChat
and a desktop, and signing in as a person would.

Importing this module skips the importing test module where Chromium is absent (or fails it
when PEIXUN_REQUIRE_BROWSER=1, as in CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATABASE_URL, PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}
# WeChat's built-in browser on Android, as it names itself.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2218A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)

if not CHROMIUM.exists():
    message = "浏览器测试需要 Debian 的 Chromium：apt-get install chromium（不下载浏览器）"
    if os.environ.get("PEIXUN_REQUIRE_BROWSER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(env: dict[str, str] | None = None) -> Iterator[str]:
    """The real app served by uvicorn on the test database; yields its base URL. `env` is
    added to the server's environment (e.g. PEIXUN_COURSE_DIR for a test's course folder)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("服务器没有启动：" + process.stdout.read().decode(errors="replace"))
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server():
    """The app served for the tests of one module (import this fixture into the module)."""
    with serve() as base:
        yield base


@contextmanager
def browser_page(viewport: dict | None = None, wechat: bool = False) -> Iterator[Page]:
    """One Chromium page: a 360 px phone by default (inside WeChat when `wechat`), or
    `DESKTOP`."""
    viewport = viewport or PHONE
    phone = viewport["width"] < 600
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        options: dict = {"viewport": viewport, "locale": "zh-CN"}
        if phone:
            options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        if wechat:
            options["user_agent"] = WECHAT_UA
        context = browser.new_context(**options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture
def phone_page(server):
    """A 360 px phone (plain Chromium)."""
    with browser_page(PHONE) as page:
        yield page


@pytest.fixture
def wechat_page(server):
    """A 360 px phone inside WeChat's browser (its user agent)."""
    with browser_page(PHONE, wechat=True) as page:
        yield page


@pytest.fixture
def desktop_page(server):
    """A 1366 × 768 desktop."""
    with browser_page(DESKTOP) as page:
        yield page


def axe_source() -> str:
    """axe-core's script; skips the test where it is not installed (fails in CI, where
    PEIXUN_REQUIRE_BROWSER=1)."""
    if not AXE_JS.exists():
        message = "无障碍检查需要 npm 上的 axe-core：npm ci --prefix tests/axe"
        if os.environ.get("PEIXUN_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_JS.read_text(encoding="utf-8")


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person types it."""
    page.goto(base + "/login")
    page.get_by_label("用户名（手机号或工号）").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def no_sideways_scroll(page: Page) -> bool:
    """True when nothing on the page is wider than its viewport."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
