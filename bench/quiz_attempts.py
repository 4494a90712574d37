"""Benchmark: 300 cadres start the same quiz at once, each saves 20 answers and submits.

    .venv/bin/python bench/quiz_attempts.py [--cadres 300] [--answers 20] [--workers 2]

Makes a new demo database (a temporary SQLite file, or with DATABASE_URL=postgresql://… a
new database on that server, dropped at the end), serves it with `peixun serve` on
127.0.0.1, signs the cadres in (not timed), then times the quiz: start, one request per
answer (as the quiz page sends them), submit. Prints throughput, latency percentiles per
request kind and errors, and compares the answers the server acknowledged with the rows
stored. Exits non-zero when an answer is missing or a request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

PROJECT = Path(__file__).resolve().parent.parent
PEIXUN = Path(sys.executable).parent / "peixun"
QUIZ = "final-exam"
_FIELD = re.compile(r'name="q(\d+)" (?:value="([^"]*)"|maxlength)')


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def prepare_database() -> tuple[str, str | None]:
    """(DATABASE_URL to use, PostgreSQL server URL to drop the database from, or None)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        name = f"peixun_bench_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(_pg_admin(url, f'CREATE DATABASE "{name}"'))
        return urlunsplit(urlsplit(url)._replace(path="/" + name)), url
    folder = Path(tempfile.mkdtemp(prefix="peixun-bench-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}", None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(PEIXUN), "serve", "--port", str(port), "--workers", str(workers)],
        env={**env, "PEIXUN_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=PROJECT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    sys.exit("服务器没有启动：" + process.stderr.read().decode(errors="replace")[-2000:])


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.acknowledged = 0
        self.sent = 0
        self.elapsed = 0.0
        self.statuses: dict[tuple[str, int | str], int] = defaultdict(int)

    async def call(self, kind: str, request) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as error:
            self.errors[kind] += 1
            self.statuses[(kind, type(error).__name__)] += 1
            return None
        self.times[kind].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.errors[kind] += 1
            self.statuses[(kind, response.status_code)] += 1
        return response


def csrf(client: httpx.AsyncClient) -> str:
    return client.cookies.get("csrftoken") or ""


async def sign_in(base: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": username, "password": "demo12345", "_csrf_token": csrf(client)},
    )
    if response.status_code != 302:
        raise SystemExit(f"{username} 登录失败：{response.status_code}")
    return client


def answers_on(page: str, count: int, rng: random.Random) -> list[tuple[int, str]]:
    """An answer to each of the first `count` questions, from the form fields on the page."""
    choices: dict[int, list[str]] = defaultdict(list)
    for position, value in _FIELD.findall(page):
        choices[int(position)].append(value or "职工")
    return [(p, rng.choice(choices[p])) for p in sorted(choices)[:count]]


async def cadre(
    client: httpx.AsyncClient, record: Recorder, answers: int, think: float, seed: int
) -> None:
    rng = random.Random(seed)
    started = await record.call(
        "开始答题", client.post(f"/quizzes/{QUIZ}", data={"_csrf_token": csrf(client)})
    )
    if started is None or started.status_code != 302:
        return
    attempt = started.headers["location"]
    page = await record.call("打开试卷", client.get(attempt))
    if page is None:
        return
    for position, value in answers_on(page.text, answers, rng):
        await asyncio.sleep(rng.uniform(0, 2 * think))
        record.sent += 1
        saved = await record.call(
            "保存答案",
            client.post(
                f"{attempt}/answers",
                data={f"q{position}": value, "_csrf_token": csrf(client)},
                headers={"x-requested-with": "fetch"},
            ),
        )
        if saved is not None and saved.status_code == 200 and saved.json().get("ok"):
            record.acknowledged += 1
    await record.call(
        "交卷", client.post(f"{attempt}/submit", data={"confirm": "1", "_csrf_token": csrf(client)})
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def stored_answers(database_url: str, usernames: list[str]) -> tuple[int, int]:
    """(answers stored, attempts finished) for the quiz by the benchmark's cadres."""
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(PROJECT))
    from app.tables import Answer, Attempt

    answers = await Answer.count().where(
        Answer.attempt.quiz.slug == QUIZ, Answer.attempt.account.username.is_in(usernames)
    )
    finished = await Attempt.count().where(
        Attempt.quiz.slug == QUIZ,
        Attempt.status != "in_progress",
        Attempt.account.username.is_in(usernames),
    )
    return answers, finished


async def run(base: str, usernames: list[str], answers: int, think: float) -> Recorder:
    clients = []
    for start in range(0, len(usernames), 20):  # signing in is not what is measured
        clients += await asyncio.gather(*(sign_in(base, u) for u in usernames[start : start + 20]))
    record = Recorder()
    began = time.perf_counter()
    await asyncio.gather(*(cadre(c, record, answers, think, n) for n, c in enumerate(clients)))
    record.elapsed = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    return record


def report(record: Recorder, stored: int, finished: int, cadres: int) -> bool:
    total = sum(len(t) for t in record.times.values())
    rate = total / record.elapsed
    print(f"用时 {record.elapsed:.1f} s，共 {total} 个请求，吞吐量 {rate:.0f} 请求/秒")
    print(f"{'请求':<8}{'次数':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'错误':>6}")
    for kind, times in record.times.items():
        print(
            f"{kind:<8}{len(times):>7}{percentile(times, 0.5) * 1000:>7.0f}ms"
            f"{percentile(times, 0.95) * 1000:>7.0f}ms{percentile(times, 0.99) * 1000:>7.0f}ms"
            f"{record.errors[kind]:>6}"
        )
    for (kind, status), count in sorted(record.statuses.items(), key=str):
        print(f"  {kind}：{'HTTP ' if isinstance(status, int) else ''}{status} × {count}")
    print(f"答案：发送 {record.sent}，服务器确认 {record.acknowledged}，数据库中 {stored}")
    print(f"交卷：{finished} / {cadres}")
    ok = stored == record.acknowledged == record.sent and not sum(record.errors.values())
    print("结果：" + ("通过，答案一个不少" if ok else "未通过"))
    return ok and finished == cadres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=300)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.5, help="两次作答之间的平均秒数")
    args = parser.parse_args()

    database_url, server_url = prepare_database()
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("SECRET_KEY", None)
    try:
        subprocess.run(
            [str(PEIXUN), "demo", "--cadres", str(max(args.cadres * 3, 1000))],
            env=env,
            cwd=PROJECT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        usernames = asyncio.run(_usernames(database_url, args.cadres))
        process, base = start_server(env, args.workers)
        try:
            engine = "PostgreSQL" if server_url else "SQLite"
            print(
                f"{engine}，{args.workers} 个进程，{args.cadres} 名干部同时开始“{QUIZ}”，"
                f"每人保存 {args.answers} 题后交卷"
            )
            record = asyncio.run(run(base, usernames, args.answers, args.think))
        finally:
            process.terminate()
            process.wait(timeout=20)
        stored, finished = asyncio.run(stored_answers(database_url, usernames))
        ok = report(record, stored, finished, args.cadres)
    finally:
        if server_url:
            name = urlsplit(database_url).path.lstrip("/")
            asyncio.run(_pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sys.exit(0 if ok else 1)


async def _usernames(database_url: str, count: int) -> list[str]:
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(PROJECT))
    from app.tables import Attempt, User

    # Cadres who have not taken the quiz in the demo data, so each starts a new attempt.
    taken = await Attempt.select(Attempt.account).where(Attempt.quiz.slug == QUIZ)
    rows = (
        await User.select(User.username)
        .where(
            User.role == "cadre",
            User.username != "cadre",
            User.id.not_in([row["account"] for row in taken] or [0]),
        )
        .order_by(User.id)
        .limit(count)
    )
    return [row["username"] for row in rows]


if __name__ == "__main__":
    main()
