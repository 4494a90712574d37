"""Benchmark: 300 cadres start the same quiz at once, each saves 20 answers and submits.

    .venv/bin/python bench/quiz_attempts.py [--cadres 300] [--answers 20] [--workers 2]

Makes a new demo database (a temporary SQLite file, or with DATABASE_URL=postgresql://… a
new database on that server, dropped at the end), serves it with `peixun serve` on
127.0.0.1, signs the cadres in (not timed), then times the quiz: start, one request per
answer (as the quiz page sends them), submit. Prints throughput, latency percentiles per
request kind and errors, and compares the answers the server acknowledged with the rows
stored. Exits non-zero when an answer is missing or a request failed.

The pieces here (one cadre's quiz, the count of stored answers) serve bench/load.py too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
from collections import defaultdict

from harness import (
    Recorder,
    csrf,
    drop_database,
    make_demo,
    prepare_database,
    sign_in_all,
    start_server,
    stop_server,
    use_database,
)
from lean_http import AsyncClient

QUIZ = "final-exam"
_FIELD = re.compile(r'name="q(\d+)" (?:value="([^"]*)"|maxlength)')


class AnswerRecorder(Recorder):
    """Also counts the answers sent and those the server acknowledged as saved."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self.acknowledged = 0


def answers_on(page: str, count: int, rng: random.Random) -> list[tuple[int, str]]:
    """An answer to each of the first `count` questions, from the form fields on the page."""
    choices: dict[int, list[str]] = defaultdict(list)
    for position, value in _FIELD.findall(page):
        choices[int(position)].append(value or "职工")
    return [(p, rng.choice(choices[p])) for p in sorted(choices)[:count]]


async def begin(client: AsyncClient, record: Recorder) -> tuple[str, str] | None:
    """Start (or resume) the quiz and open the paper: (attempt URL, page)."""
    started = await record.call(
        "开始答题", client.post(f"/quizzes/{QUIZ}", data={"_csrf_token": csrf(client)})
    )
    if started is None or started.status_code != 302:
        return None
    attempt = started.headers["location"]
    page = await record.call("打开试卷", client.get(attempt))
    return (attempt, page.text) if page is not None else None


async def save_answers(
    client: AsyncClient,
    record: AnswerRecorder,
    attempt: str,
    answers: list[tuple[int, str]],
    pause,
) -> None:
    """One request per answer, as the quiz page sends them, with `pause()` seconds before each."""
    for position, value in answers:
        await asyncio.sleep(pause())
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


async def submit(client: AsyncClient, record: Recorder, attempt: str) -> None:
    await record.call(
        "交卷",
        client.post(f"{attempt}/submit", data={"confirm": "1", "_csrf_token": csrf(client)}),
    )


async def cadre(
    client: AsyncClient,
    record: AnswerRecorder,
    answers: int,
    think: float,
    seed: int,
    spread: float = 0.0,
) -> None:
    """One cadre's quiz: start within `spread` seconds, answer with `think` seconds on average
    between answers, submit."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, spread))
    opened = await begin(client, record)
    if opened is None:
        return
    attempt, page = opened
    await save_answers(
        client, record, attempt, answers_on(page, answers, rng), lambda: rng.uniform(0, 2 * think)
    )
    await submit(client, record, attempt)


async def fresh_cadres(count: int, skip: int = 0) -> list[str]:
    """Demo cadres who have not taken the quiz, so each starts a new attempt."""
    from app.tables import Attempt, User

    taken = await Attempt.select(Attempt.account).where(Attempt.quiz.slug == QUIZ)
    rows = (
        await User.select(User.username)
        .where(
            User.role == "cadre",
            User.username != "cadre",
            User.id.not_in([row["account"] for row in taken] or [0]),
        )
        .order_by(User.id)
        .offset(skip)
        .limit(count)
    )
    if len(rows) < count:
        raise SystemExit(f"演示数据中没有足够的干部：需要 {count} 名，只有 {len(rows)} 名。")
    return [row["username"] for row in rows]


async def stored_answers(usernames: list[str]) -> tuple[int, int]:
    """(answers stored, attempts finished) for the quiz by these cadres."""
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


def answers_kept(record: AnswerRecorder, stored: int, finished: int, cadres: int) -> bool:
    print(f"答案：发送 {record.sent}，服务器确认 {record.acknowledged}，数据库中 {stored}")
    print(f"交卷：{finished} / {cadres}")
    ok = stored == record.acknowledged == record.sent and finished == cadres
    print("答案一个不少" if ok else "有答案或交卷没有保存！")
    return ok


async def _run(base: str, usernames: list[str], answers: int, think: float) -> AnswerRecorder:
    clients = await sign_in_all(base, usernames)
    record = AnswerRecorder()
    await asyncio.gather(*(cadre(c, record, answers, think, n) for n, c in enumerate(clients)))
    record.stop()
    for client in clients:
        await client.aclose()
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=300)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.5, help="两次作答之间的平均秒数")
    args = parser.parse_args()

    database_url, server_url = prepare_database()
    use_database(database_url)
    env = {**os.environ}
    env.pop("SECRET_KEY", None)
    try:
        make_demo(env, max(args.cadres * 3, 1000))
        usernames = asyncio.run(fresh_cadres(args.cadres))
        process, base = start_server(env, args.workers)
        try:
            engine = "PostgreSQL" if server_url else "SQLite"
            print(
                f"{engine}，{args.workers} 个进程，{args.cadres} 名干部同时开始“{QUIZ}”，"
                f"每人保存 {args.answers} 题后交卷"
            )
            record = asyncio.run(_run(base, usernames, args.answers, args.think))
        finally:
            stop_server(process)
        record.print("同时答题")
        stored, finished = asyncio.run(stored_answers(usernames))
        ok = answers_kept(record, stored, finished, args.cadres) and not sum(record.errors.values())
    finally:
        drop_database(database_url, server_url)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
