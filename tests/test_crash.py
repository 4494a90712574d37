"""The server killed with SIGKILL in the middle of a quiz, and started again: every answer it
acknowledged is still there, and the attempt goes on."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import DATABASE_URL, PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, database_url: str = DATABASE_URL) -> subprocess.Popen:
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
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("服务器没有启动")


@pytest.fixture
async def quiz_ready(people, content):
    """The shipped course, banks and quizzes, and the cadre of tests/conftest.py."""


def test_answers_survive_the_server_being_killed(quiz_ready):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(port)
    try:
        with httpx.Client(base_url=base) as phone:
            phone.get("/login")
            token = phone.cookies["csrftoken"]
            phone.post(
                "/login",
                data={"username": "13800000001", "password": PASSWORD, "_csrf_token": token},
            )
            token = phone.cookies["csrftoken"]  # signing in hands out the session's own token
            attempt = phone.post("/quizzes/xuexi-daodu-quiz", data={"_csrf_token": token})
            url = attempt.headers["location"]
            page = phone.get(url).text
            choices = dict(re.findall(r'name="q(\d+)" value="([A-H对错])"', page))
            saved = {}
            for position, value in list(choices.items())[:5]:
                reply = phone.post(
                    f"{url}/answers",
                    data={f"q{position}": value, "_csrf_token": token},
                    headers={"x-requested-with": "fetch"},
                )
                assert reply.status_code == 200 and reply.json()["ok"]
                saved[position] = value
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            server = _serve(port)
            page = phone.get(url).text  # the same session, kept in the database
            for position, value in saved.items():
                assert f'name="q{position}" value="{value}" checked' in page
            done = phone.post(f"{url}/submit", data={"confirm": "1", "_csrf_token": token})
            assert done.headers["location"] == f"{url}/result"
            assert "分" in phone.get(f"{url}/result").text
    finally:
        server.kill()
        server.wait(timeout=10)


def _mount_tmpfs(path: str, size_kib: int) -> bool:
    os.makedirs(path, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", path], capture_output=True
    )
    return done.returncode == 0


def _signed_in(base: str) -> tuple[httpx.Client, str]:
    phone = httpx.Client(base_url=base)
    phone.get("/login")
    token = phone.cookies["csrftoken"]
    phone.post(
        "/login", data={"username": "13800000001", "password": PASSWORD, "_csrf_token": token}
    )
    return phone, phone.cookies["csrftoken"]  # signing in hands out the session's own token


@pytest.mark.skipif(not DATABASE_URL.startswith("sqlite"), reason="SQLite 专项检查")
def test_a_full_disk_gives_a_clear_message_and_no_corruption(quiz_ready, tmp_path):
    """The database file on a real (small) file system that fills up, then has room again."""
    import sqlite3

    if os.geteuid() != 0:
        pytest.skip("需要 root 权限挂载一个小的 tmpfs 来模拟磁盘已满")
    disk = str(tmp_path / "disk")
    source = DATABASE_URL.removeprefix("sqlite:///")
    size = os.path.getsize(source) // 1024 + 4096
    if not _mount_tmpfs(disk, size):
        pytest.skip("无法挂载 tmpfs（容器不允许），跳过磁盘已满的检查")
    database = f"{disk}/peixun.sqlite3"
    port = _free_port()
    server = None
    try:
        with sqlite3.connect(source) as live, sqlite3.connect(database) as copy:
            live.backup(copy)
        with sqlite3.connect(database) as copy:
            copy.execute("PRAGMA journal_mode=WAL")
        server = _serve(port, f"sqlite:///{database}")
        phone, token = _signed_in(f"http://127.0.0.1:{port}")
        url = phone.post("/quizzes/xuexi-daodu-quiz", data={"_csrf_token": token}).headers[
            "location"
        ]
        page = phone.get(url).text
        choices = list(dict(re.findall(r'name="q(\d+)" value="([A-H对错])"', page)).items())

        def answer(n: int) -> httpx.Response:
            position, value = choices[n]
            return phone.post(
                f"{url}/answers",
                data={f"q{position}": value, "_csrf_token": token},
                headers={"x-requested-with": "fetch"},
            )

        assert answer(0).json()["ok"]
        filler = f"{disk}/filler"
        with open(filler, "wb") as f:  # the disk fills up
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        refused = [answer(n) for n in range(1, 4)]
        assert all(r.status_code == 503 for r in refused), [r.status_code for r in refused]
        messages = [r.json()["message"] for r in refused]
        assert all("磁盘已满" in m or "不能写入" in m for m in messages), messages
        os.remove(filler)  # space again: the same answers go through
        assert all(answer(n).json()["ok"] for n in range(1, 4))

        phone.close()
        server.kill()
        server.wait(timeout=10)
        server = None
        with sqlite3.connect(database) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = check.execute(
                "SELECT count(*) FROM answer WHERE attempt = ?", (int(url.rsplit("/", 1)[1]),)
            ).fetchone()[0]
        assert stored == 4  # every acknowledged answer, once
    finally:
        if server is not None:
            server.kill()
            server.wait(timeout=10)
        subprocess.run(["umount", "-l", disk], capture_output=True)
