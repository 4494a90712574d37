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


def _serve(port: int) -> subprocess.Popen:
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
        env={**os.environ, "DATABASE_URL": DATABASE_URL},
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
