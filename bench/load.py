"""Benchmark suite under load, against the real server: reading, quiz day, the submission
burst, an export under load, and the database's own limit for comparison.

    .venv/bin/python bench/load.py [all | reading quiz-day burst export limit …] [--quick]

Makes a new demo database (a temporary SQLite file, or with DATABASE_URL=postgresql://… a
new database on that server, dropped at the end), serves it with `peixun serve --workers 2`
on 127.0.0.1 and drives it with asyncio clients (bench/lean_http.py: httpx's client CPU would
take the server's cores). Signing in is done beforehand and not measured. Each scenario
prints p50/p95/p99 latency, throughput and errors; the quiz scenarios also count the answers
sent, acknowledged and stored, which must be equal. The last lines compare every figure with
its target; the script exits non-zero when a request failed or an answer is missing.
`--quick` runs every scenario in a reduced size (for a check that the suite works, not for
figures).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote

from harness import (
    Recorder,
    drop_database,
    make_demo,
    process_cpu,
    server_cpu,
    sign_in,
    sign_in_all,
    start_run,
    start_server,
    stop_server,
)
from lean_http import AsyncClient
from quiz_attempts import (
    QUIZ,
    AnswerRecorder,
    answers_kept,
    answers_on,
    begin,
    cadre,
    fresh_cadres,
    save_answers,
    stored_answers,
    submit,
)

SCENARIOS = ("reading", "quiz-day", "burst", "export", "limit")


@dataclass
class Sizes:
    readers: int = 200
    think: float = 5.0  # seconds between two pages of one reader, on average
    reading_seconds: float = 60.0
    saturation_clients: int = 32
    saturation_seconds: float = 20.0
    quiz_cadres: int = 1000
    quiz_spread: float = 60.0  # every cadre starts within this many seconds
    quiz_think: float = 5.0  # seconds between two answers, on average
    quiz_processes: int = 2  # client processes taking the quiz
    answers: int = 20
    burst: int = 200
    limit_attempts: int = 100
    enrollments: int = 100_000
    units: int = 500


QUICK = Sizes(
    readers=20,
    think=1.0,
    reading_seconds=5,
    saturation_clients=8,
    saturation_seconds=3,
    quiz_cadres=20,
    quiz_spread=2,
    quiz_think=0.2,
    answers=5,
    burst=20,
    limit_attempts=5,
    enrollments=2000,
    units=40,
)


@dataclass
class Check:
    label: str
    value: float
    target: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        digits = 0 if self.value >= 10 else 2
        shown = f"{self.value:.{digits}f} {self.unit}"
        sign = "≥" if self.higher_is_better else "≤"
        return f"{self.label}：{shown}（目标 {sign} {self.target:g} {self.unit}）" + (
            "达标" if self.met else "未达标"
        )


@dataclass
class Run:
    base: str
    master: int  # the server's process
    sizes: Sizes
    lesson_urls: list[str]
    checks: list[Check] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- reading


async def _reader(client: AsyncClient, record: Recorder, urls: list[str], think, until):
    rng = random.Random(id(client))
    await asyncio.sleep(rng.uniform(0, 2 * think))
    while time.perf_counter() < until:
        await record.call("课文页", client.get(rng.choice(urls)), expect=(200,))
        await asyncio.sleep(rng.uniform(0, 2 * think))


async def reading(run: Run, readers: list[AsyncClient], seconds: float) -> Recorder:
    record = Recorder()
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(_reader(c, record, run.lesson_urls, run.sizes.think, until) for c in readers)
    )
    record.stop()
    return record


async def saturation(run: Run, clients: list[AsyncClient]) -> tuple[Recorder, float]:
    """Lesson pages as fast as the server answers them; (record, client CPU share)."""
    record = Recorder()
    until = time.perf_counter() + run.sizes.saturation_seconds
    cpu = time.process_time()

    async def hammer(client: AsyncClient, n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < until:
            await record.call("课文页", client.get(rng.choice(run.lesson_urls)), expect=(200,))

    await asyncio.gather(*(hammer(c, n) for n, c in enumerate(clients)))
    record.stop()
    return record, (time.process_time() - cpu) / record.elapsed


async def scenario_reading(run: Run, readers: list[AsyncClient]) -> None:
    sizes = run.sizes
    record = await reading(run, readers, sizes.reading_seconds)
    record.print(f"阅读：{len(readers)} 名干部，平均每 {sizes.think:g} 秒打开一篇课文")
    run.figures["reading_p95"] = record.p("课文页", 0.95)
    run.checks.append(Check("阅读 课文页 p95", record.p("课文页", 0.95) * 1000, 150, "ms"))
    _errors(run, record, "阅读")
    record, cpu = await saturation(run, readers[: sizes.saturation_clients])
    record.print(f"课文页饱和吞吐：{sizes.saturation_clients} 个连接不停请求")
    print(f"压测客户端本身占用 {cpu:.0%} 个 CPU 核")
    rate = len(record.times["课文页"]) / record.elapsed
    run.figures["saturation"] = rate
    run.checks.append(Check("课文页饱和吞吐", rate, 500, "请求/秒", higher_is_better=True))
    _errors(run, record, "饱和")


# ---------------------------------------------------------------- quiz


def _quiz_day_share(
    base: str, usernames: list[str], sizes: Sizes, first_seed: int, ready, go, results
) -> None:
    """One client process's cadres on quiz day: sign them in (not timed), wait for the
    others, run their quizzes, send back what was recorded."""

    async def take() -> None:
        clients = await sign_in_all(base, usernames)
        ready.put(len(clients))
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        record = AnswerRecorder()
        await asyncio.gather(
            *(
                cadre(c, record, sizes.answers, sizes.quiz_think, first_seed + n, sizes.quiz_spread)
                for n, c in enumerate(clients)
            )
        )
        record.stop()
        await _close(clients)
        recorded = (dict(record.times), dict(record.errors), dict(record.statuses))
        results.put((*recorded, record.sent, record.acknowledged))

    asyncio.run(take())


async def scenario_quiz_day(run: Run, usernames: list[str]) -> None:
    """The cadres take the quiz from several client processes (one process's own CPU would
    otherwise be what limits the figures), all starting together."""
    sizes = run.sizes
    context = mp.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    shares = [usernames[n :: sizes.quiz_processes] for n in range(sizes.quiz_processes)]
    processes = [
        context.Process(
            target=_quiz_day_share,
            args=(run.base, share, sizes, n * len(usernames), ready, go, results),
        )
        for n, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    loop = asyncio.get_running_loop()
    for _ in processes:
        await loop.run_in_executor(None, ready.get)
    record = AnswerRecorder()
    before = sum(server_cpu(run.master)[0].values())
    clients_before = sum(process_cpu(p.pid) for p in processes)
    go.set()
    for _ in processes:
        times, errors, statuses, sent, acknowledged = await loop.run_in_executor(None, results.get)
        for kind, values in times.items():
            record.times[kind].extend(values)
        for kind, count in errors.items():
            record.errors[kind] += count
        for key, count in statuses.items():
            record.statuses[key] += count
        record.sent += sent
        record.acknowledged += acknowledged
    record.stop()
    busy = (sum(server_cpu(run.master)[0].values()) - before) / record.elapsed
    client_busy = (sum(process_cpu(p.pid) for p in processes) - clients_before) / record.elapsed
    for process in processes:
        process.join()
    cores = os.cpu_count() or 1
    print(
        f"考试日服务器工作进程的 CPU：平均 {busy:.2f} 核"
        f"（这台机器 {cores} 核的 {busy / cores:.0%}）；"
        f"压测客户端 {len(processes)} 个进程共 {client_busy:.2f} 核"
    )
    record.print(
        f"考试日：{len(usernames)} 名干部在 {sizes.quiz_spread:g} 秒内开始“{QUIZ}”，"
        f"每人平均 {sizes.quiz_think:g} 秒答一题，共 {sizes.answers} 题，然后交卷"
    )
    worst = max(record.p(kind, 0.95) for kind in record.times)
    run.checks.append(Check("考试日 各类请求 p95 的最大值", worst * 1000, 500, "ms"))
    run.checks.append(Check("考试日 错误", sum(record.errors.values()), 0, "个"))
    saves = len(record.times["保存答案"]) / record.elapsed
    run.figures["quiz_day_saves"] = saves
    stored, finished = await stored_answers(usernames)
    if not answers_kept(record, stored, finished, len(usernames)):
        run.failures.append("考试日：答案或交卷没有全部保存")


async def scenario_burst(run: Run, usernames: list[str]) -> None:
    """The cadres answer as fast as the server takes it (timed: the HTTP side of the limit
    comparison), then all submit within one second."""
    sizes = run.sizes
    clients = await sign_in_all(run.base, usernames)
    record = AnswerRecorder()
    opened = await asyncio.gather(*(begin(c, record) for c in clients))
    rng = random.Random(7)
    await asyncio.gather(
        *(
            save_answers(c, record, o[0], answers_on(o[1], sizes.answers, rng), lambda: 0)
            for c, o in zip(clients, opened, strict=True)
            if o is not None
        )
    )
    record.stop()
    record.print(f"答题饱和：{len(usernames)} 名干部不停顿地保存 {sizes.answers} 题")
    run.figures["http_saves"] = len(record.times["保存答案"]) / record.elapsed
    _errors(run, record, "答题饱和")

    burst = Recorder()

    async def late(client: AsyncClient, attempt: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await submit(client, burst, attempt)

    await asyncio.gather(
        *(
            late(c, o[0], rng.uniform(0, 1))
            for c, o in zip(clients, opened, strict=True)
            if o is not None
        )
    )
    burst.stop()
    await _close(clients)
    burst.print(f"交卷高峰：{len(usernames)} 份试卷在 1 秒内同时交卷")
    run.checks.append(Check("交卷高峰 p95", burst.p("交卷", 0.95) * 1000, 1000, "ms"))
    _errors(run, burst, "交卷高峰")
    stored, finished = await stored_answers(usernames)
    if not answers_kept(record, stored, finished, len(usernames)):
        run.failures.append("交卷高峰：答案或交卷没有全部保存")


LIMIT_TASKS = 32  # cadres answering at once, like the HTTP clients


async def scenario_limit(run: Run, usernames: list[str]) -> None:
    """The same attempt and answer rows committed by the app's own functions, one answer per
    transaction as the answer requests do, without HTTP, sessions or pages: 32 cadres at a
    time in one process (on PostgreSQL through a connection pool, as the server uses)."""
    from app.db import DB, is_sqlite
    from app.quizzes.answering import finish_attempt, save_responses
    from app.quizzes.core import paper_of
    from app.quizzes.definitions import load_quiz, start_attempt
    from app.tables import Attempt, User

    if not is_sqlite():
        await DB.start_connection_pool(min_size=2, max_size=LIMIT_TASKS)
    quiz = await load_quiz(QUIZ)
    users = await User.objects().where(User.username.is_in(usernames))
    answers = 0

    async def one(user: User) -> None:
        nonlocal answers
        attempt_id = await start_attempt(quiz, user)
        attempt = (
            await Attempt.select(Attempt.id, Attempt.paper, Attempt.account, Attempt.deadline_at)
            .where(Attempt.id == attempt_id)
            .first()
        )
        for item in paper_of(attempt["paper"])[: run.sizes.answers]:
            response = ("对",) if item.type == "true_false" else ("A",)
            if item.type == "fill_blank":
                response = tuple("职工" for _ in item.blanks)
            await save_responses(attempt, {item.position: response}, datetime.now(UTC))
            answers += 1
        await finish_attempt(attempt_id, "cadre", datetime.now(UTC))

    started = time.perf_counter()
    for start in range(0, len(users), LIMIT_TASKS):
        await asyncio.gather(*(one(user) for user in users[start : start + LIMIT_TASKS]))
    elapsed = time.perf_counter() - started
    if not is_sqlite():
        await DB.close_connection_pool()
    rate = answers / elapsed
    run.figures["limit_saves"] = rate
    print(
        f"\n## 数据库直写上限：{len(users)} 份试卷，每份 {run.sizes.answers} 个答案，"
        f"每个答案一个事务，{LIMIT_TASKS} 人同时"
    )
    print(f"用时 {elapsed:.1f} s，每秒提交 {rate:.0f} 个答案（一个进程，不经过 HTTP）")
    for label, key in (("答题饱和", "http_saves"), ("考试日", "quiz_day_saves")):
        if key in run.figures:
            share = run.figures[key] / rate
            print(f"{label}经网页保存答案 {run.figures[key]:.0f} 个/秒，为直写上限的 {share:.0%}")


# ---------------------------------------------------------------- export


async def scenario_export(run: Run, readers: list[AsyncClient], training_id: int) -> None:
    sizes = run.sizes
    if "reading_p95" not in run.figures:
        baseline = await reading(run, readers, sizes.reading_seconds)
        run.figures["reading_p95"] = baseline.p("课文页", 0.95)
    admin = await sign_in(run.base, "admin")
    downloads = Recorder()
    stop = asyncio.Event()

    async def download_again_and_again() -> None:
        url = f"/reports/trainings/{training_id}/roster.xlsx"
        while not stop.is_set():
            response = await downloads.call("花名册 .xlsx", admin.get(url), expect=(200,))
            if response is not None and len(response.content) < 1000:
                downloads.errors["花名册 .xlsx"] += 1

    exporting = asyncio.create_task(download_again_and_again())
    record = await reading(run, readers, sizes.reading_seconds)
    stop.set()
    await exporting
    downloads.stop()
    await admin.aclose()
    record.print(
        f"导出时阅读：{len(readers)} 名干部阅读，同时不停下载 {sizes.enrollments:,} 人的花名册"
    )
    downloads.print("同时进行的下载")
    ratio = record.p("课文页", 0.95) / max(run.figures["reading_p95"], 1e-9)
    print(
        f"课文页 p95：平时 {run.figures['reading_p95'] * 1000:.0f} ms，"
        f"导出时 {record.p('课文页', 0.95) * 1000:.0f} ms（{ratio:.1f} 倍）"
    )
    run.checks.append(Check("导出时 课文页 p95 / 平时", ratio, 2, "倍"))
    _errors(run, record, "导出时阅读")
    _errors(run, downloads, "下载")


# ---------------------------------------------------------------- the run


def _errors(run: Run, record: Recorder, label: str) -> None:
    if sum(record.errors.values()):
        run.failures.append(f"{label}：{sum(record.errors.values())} 个请求出错")


async def _close(clients: list[AsyncClient]) -> None:
    for client in clients:
        await client.aclose()


async def _lesson_urls() -> list[str]:
    from app.tables import Lesson

    rows = await Lesson.select(Lesson.slug, Lesson.module.slug.as_alias("module")).where(
        Lesson.active.eq(True)
    )
    return [f"/course/{quote(r['module'])}/{quote(r['slug'])}" for r in rows]


async def _prepare(sizes: Sizes, scenarios: list[str]) -> dict:
    """Usernames for each scenario, lesson URLs, and the big training for the export."""
    quiz_total = sizes.quiz_cadres + sizes.burst + sizes.limit_attempts
    fresh = await fresh_cadres(quiz_total)
    from app.tables import User

    readers = [
        r["username"]
        for r in await User.select(User.username)
        .where(User.role == "cadre")
        .order_by(User.id, ascending=False)
        .limit(sizes.readers)
    ]
    prepared = {
        "readers": readers,
        "quiz-day": fresh[: sizes.quiz_cadres],
        "burst": fresh[sizes.quiz_cadres : sizes.quiz_cadres + sizes.burst],
        "limit": fresh[sizes.quiz_cadres + sizes.burst :],
        "lesson_urls": await _lesson_urls(),
    }
    if "export" in scenarios:
        from rosters import build

        prepared["training"] = await build(
            sizes.enrollments, sizes.units, seed=2023, city_name="压测市总工会"
        )
    return prepared


async def _serve_scenarios(
    base: str, master: int, sizes: Sizes, scenarios: list[str], prepared: dict
) -> Run:
    run = Run(base=base, master=master, sizes=sizes, lesson_urls=prepared["lesson_urls"])
    readers: list[AsyncClient] = []
    if {"reading", "export"} & set(scenarios):
        readers = await sign_in_all(base, prepared["readers"])
    if "reading" in scenarios:
        await scenario_reading(run, readers)
    if "export" in scenarios:
        await scenario_export(run, readers, prepared["training"])
    await _close(readers)
    if "quiz-day" in scenarios:
        await scenario_quiz_day(run, prepared["quiz-day"])
    if "burst" in scenarios:
        await scenario_burst(run, prepared["burst"])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="all（默认）或 " + "、".join(SCENARIOS)
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="每个场景都缩小规模，只检查能否运行")
    parser.add_argument("--quiz-cadres", type=int, help="考试日的人数（默认 1000）")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    if args.quiz_cadres:
        sizes = replace(sizes, quiz_cadres=args.quiz_cadres)
    chosen = args.scenarios or ["all"]
    if unknown := set(chosen) - {"all", *SCENARIOS}:
        parser.error("没有这个场景：" + "、".join(sorted(unknown)))
    scenarios = list(SCENARIOS) if "all" in chosen else chosen

    bench = start_run()
    database_url, server_url, env = bench.database_url, bench.server_url, bench.env
    print(
        f"# {bench.engine}，{args.workers} 个进程，{time.strftime('%Y-%m-%d')}，提交 {bench.commit}"
    )
    try:
        needed = sizes.quiz_cadres + sizes.burst + sizes.limit_attempts
        make_demo(env, max(2000, needed + 600))
        prepared = asyncio.run(_prepare(sizes, scenarios))
        process, base = start_server(env, args.workers)
        try:
            run = asyncio.run(_serve_scenarios(base, process.pid, sizes, scenarios, prepared))
        finally:
            stop_server(process)
        if "limit" in scenarios:
            asyncio.run(scenario_limit(run, prepared["limit"]))
    finally:
        drop_database(database_url, server_url)
    print("\n## 与目标对比")
    for check in run.checks:
        print(check.line())
    for failure in run.failures:
        print("失败：" + failure)
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
