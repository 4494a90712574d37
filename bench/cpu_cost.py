"""Benchmark: the server CPU each kind of request costs, against the floor of the stack.

    .venv/bin/python bench/cpu_cost.py [--quick] [--workers 2] [--clients-procs 2]

Makes a new demo database (a temporary SQLite file, or with DATABASE_URL=postgresql://… a
new database on that server, dropped at the end) and serves it with `peixun serve`; serves
bench/floor.py (one signed-in upsert on Litestar, uvicorn and the same engine: SQLite, or
asyncpg on a second new PostgreSQL database, also dropped at the end) the same way. Then each
kind of request alone, as fast as the server answers it over 32 connections: the floor, sign-in
(POST /login), starting the quiz (drawing a paper), opening the paper, saving one answer,
submitting. Over each phase it reads the CPU time of the uvicorn processes from /proc and
divides the workers' time by the requests that succeeded; on PostgreSQL (a server on this
machine) also the CPU time of the postgres processes (the backends of the benchmark's own
databases and the server's shared processes, not other databases' backends), reported beside it
but not in the multiple of the floor. The load comes from separate client
processes (bench/lean_http.py clients: httpx's would need more CPU than the server), whose CPU
is not counted. Prints a table with each kind's CPU per request as a multiple of the floor's,
and sign-ins per second as a share of the argon2 limit (workers / one verification's time,
measured in the same run). Exits non-zero when a request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing as mp
import os
import random
import re
import secrets
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from harness import (
    DEMO_PASSWORD,
    drop_database,
    free_port,
    make_demo,
    percentile,
    pg_admin,
    process_cpu,
    server_cpu,
    start_run,
    start_server,
    stop_server,
)
from lean_http import AsyncClient, HTTPError
from quiz_attempts import QUIZ, answers_on, fresh_cadres

BENCH = Path(__file__).resolve().parent
FLOOR, SIGN_IN, START, OPEN, SAVE, SUBMIT = (
    "底线",
    "登录",
    "开始答题",
    "打开试卷",
    "保存答案",
    "交卷",
)
# Server CPU per request at most this many times the floor's (the targets).
TARGETS = {SAVE: 3, OPEN: 6, START: 6, SUBMIT: 6}
SIGN_IN_SHARE = 0.8  # of the argon2 limit


@dataclass
class Sizes:
    cadres: int = 600  # each signs in, starts, and submits once
    seconds: float = 10.0  # of the floor, opening and saving
    connections: int = 32
    verifications: int = 50


QUICK = Sizes(cadres=64, seconds=2.0, connections=32, verifications=10)


# ---------------------------------------------------------------- the client processes


@dataclass(frozen=True)
class Spec:
    """One request; `capture` says what to keep from its response, under `key`."""

    key: str
    method: str
    url: str
    headers: dict[str, str]
    data: dict[str, str] | None
    expect: int
    capture: str = ""  # "cookies", "location", "answers", or "ok" (the JSON says ok)


@dataclass
class Job:
    base: str
    specs: list[Spec]
    connections: int
    seconds: float | None  # None: each spec once
    warm: str  # a cheap GET that opens each connection before the phase


@dataclass
class Outcome:
    times: list[float] = field(default_factory=list)
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    captured: dict = field(default_factory=dict)
    cpu: float = 0.0
    ended: float = 0.0


def client_process(job: Job, ready, go, done, results) -> None:
    asyncio.run(_client(job, ready, go, done, results))


async def _client(job: Job, ready, go, done, results) -> None:
    clients = [AsyncClient(job.base, timeout=120) for _ in range(job.connections)]
    await asyncio.gather(*(client.get(job.warm) for client in clients))
    for client in clients:
        client.cookies.clear()
    ready.wait(timeout=300)
    go.wait(timeout=300)
    out = Outcome()
    cpu = time.process_time()
    specs = iter(job.specs) if job.seconds is None else itertools.cycle(job.specs)
    until = time.perf_counter() + (job.seconds or 1e9)

    async def connection(client: AsyncClient) -> None:
        while time.perf_counter() < until and (spec := next(specs, None)) is not None:
            await _one(client, spec, out)

    await asyncio.gather(*(connection(client) for client in clients))
    out.ended = time.time()
    out.cpu = time.process_time() - cpu
    results.put(out)
    done.wait(timeout=300)
    for client in clients:
        await client.aclose()


async def _one(client: AsyncClient, spec: Spec, out: Outcome) -> None:
    started = time.perf_counter()
    try:
        response = await client.request(spec.method, spec.url, headers=spec.headers, data=spec.data)
    except HTTPError as error:
        out.errors[type(error).__name__] += 1
        return
    out.times.append(time.perf_counter() - started)
    client.cookies.clear()  # each request carries its own cookies
    if response.status_code != spec.expect:
        out.errors[f"HTTP {response.status_code}"] += 1
    elif spec.capture == "ok" and response.json().get("ok") is not True:
        out.errors["ok: false"] += 1
    else:
        out.ok += 1
        if spec.capture == "cookies":
            out.captured[spec.key] = dict(response.cookies)
        elif spec.capture == "location":
            out.captured[spec.key] = response.headers["location"]
        elif spec.capture == "answers" and spec.key not in out.captured:
            out.captured[spec.key] = answers_on(response.text, 100, random.Random(spec.key))


# ---------------------------------------------------------------- PostgreSQL's CPU

# A client backend's title names its peer: "127.0.0.1(41932)", "[::1](5432)" or "[local]".
_PEER = re.compile(r".*\(\d+\)|\[local\]")


def postgres_cpu(databases: set[str]) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of this machine's postgres processes: (the backends connected to one of
    `databases`, the server's shared processes: postmaster, checkpointer, WAL writer...).
    Other databases' backends (another run's, a test suite's) are left out."""
    own: dict[int, float] = {}
    shared: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            seconds = process_cpu(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        words = title.split()
        if databases & set(words):
            own[int(entry.name)] = seconds
        elif not any(_PEER.fullmatch(word) for word in words):
            shared[int(entry.name)] = seconds
    return own, shared


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples; a process started meanwhile counts from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# ---------------------------------------------------------------- one phase


@dataclass
class Phase:
    kind: str
    ok: int
    errors: Counter
    times: list[float]
    elapsed: float
    worker_cpu: float
    master_cpu: float
    client_cores: float
    captured: dict
    pg_cpu: float | None = None  # the benchmark's own backends
    pg_shared_cpu: float | None = None  # the server's shared processes

    @property
    def cpu_ms(self) -> float:
        return self.worker_cpu / self.ok * 1000 if self.ok else 0.0

    def per_request_ms(self, seconds: float | None) -> str:
        return f"{seconds / self.ok * 1000:.2f}ms" if seconds is not None and self.ok else "-"


def run_phase(
    kind: str, master: int, job: Job, procs: int, databases: set[str] | None = None
) -> Phase:
    """`job`'s requests from `procs` client processes; the server's CPU meanwhile, and with
    `databases` (PostgreSQL) the postgres processes' CPU for them."""
    context = mp.get_context("spawn")
    ready, go, done, results = (
        context.Barrier(procs + 1),
        context.Event(),
        context.Event(),
        context.Queue(),
    )
    share = max(1, job.connections // procs)
    processes = [
        context.Process(
            target=client_process,
            args=(
                Job(job.base, job.specs[n::procs], share, job.seconds, job.warm),
                ready,
                go,
                done,
                results,
            ),
        )
        for n in range(procs)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    pg_before = postgres_cpu(databases) if databases else None
    before, master_before = server_cpu(master)
    started = time.time()
    go.set()
    outcomes: list[Outcome] = [results.get(timeout=3600) for _ in processes]
    after, master_after = server_cpu(master)
    pg_after = postgres_cpu(databases) if databases else None
    done.set()
    for process in processes:
        process.join(timeout=60)
    if set(before) != set(after):
        print(f"注意：{kind}阶段中服务器的工作进程有变化（{sorted(before)} → {sorted(after)}）")
    elapsed = max(o.ended for o in outcomes) - started
    errors: Counter = Counter()
    captured: dict = {}
    for outcome in outcomes:
        errors += outcome.errors
        captured |= outcome.captured
    return Phase(
        kind=kind,
        ok=sum(o.ok for o in outcomes),
        errors=errors,
        times=[t for o in outcomes for t in o.times],
        elapsed=elapsed,
        worker_cpu=sum(after.get(pid, 0.0) - before[pid] for pid in before),
        master_cpu=master_after - master_before,
        client_cores=sum(o.cpu for o in outcomes) / elapsed if elapsed else 0.0,
        captured=captured,
        # None when no postgres process is visible here (the server on another machine)
        pg_cpu=_used(pg_before[0], pg_after[0]) if pg_before and pg_after[0] else None,
        pg_shared_cpu=_used(pg_before[1], pg_after[1]) if pg_before and pg_after[1] else None,
    )


# ---------------------------------------------------------------- the phases


def _cookie(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    sys.exit("底线服务没有启动：" + process.stderr.read().decode(errors="replace")[-2000:])


def floor_phase(
    folder: Path | None, sizes: Sizes, workers: int, procs: int, server_url: str | None
) -> Phase:
    """The floor app's phase: on a SQLite file in `folder`, or with `server_url` on a new
    PostgreSQL database there (dropped at the end)."""
    if not server_url:
        assert folder is not None
        return _floor_phase(str(folder / "floor.sqlite3"), sizes, workers, procs, None)
    name = f"peixun_floor_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(pg_admin(server_url, f'CREATE DATABASE "{name}"'))
    database = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    try:
        return _floor_phase(database, sizes, workers, procs, {name})
    finally:
        drop_database(database, server_url)


def _floor_phase(
    database: str, sizes: Sizes, workers: int, procs: int, databases: set[str] | None
) -> Phase:
    from floor import make_database

    sessions = make_database(database, sizes.connections * 4)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "floor.py"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, "FLOOR_DATABASE": database},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/save", process)
        specs = [
            Spec(
                key,
                "POST",
                "/save",
                {"cookie": f"session={key}", "x-csrftoken": token},
                {f"q{question}": random.choice("ABCD")},
                200,
                "ok",
            )
            for question in range(1, 31)
            for key, token in sessions
        ]
        job = Job(base, specs, sizes.connections, sizes.seconds, "/save")
        return run_phase(FLOOR, process.pid, job, procs, databases)
    finally:
        stop_server(process)


def _argon2_seconds(stored: str, count: int) -> float:
    from app.accounts.passwords import verify_password

    verify_password(stored, DEMO_PASSWORD)
    started = time.perf_counter()
    for _ in range(count):
        if not verify_password(stored, DEMO_PASSWORD):
            raise SystemExit("演示密码与散列不符")
    return (time.perf_counter() - started) / count


def argon2_seconds(stored: str, count: int, processes: int = 1) -> float:
    """One argon2id verification's time, in a process of its own on the idle machine; with
    `processes`, the mean when that many processes verify at the same time (as the workers
    do in a rush of sign-ins, sharing the memory bandwidth argon2 fills)."""
    with mp.get_context("spawn").Pool(processes) as pool:
        times = pool.starmap(_argon2_seconds, [(stored, count)] * processes)
    return sum(times) / len(times)


def peixun_phases(
    base: str,
    master: int,
    usernames: list[str],
    sizes: Sizes,
    procs: int,
    databases: set[str] | None,
) -> list[Phase]:
    def phase(kind: str, specs: list[Spec], seconds: float | None) -> Phase:
        job = Job(base, specs, sizes.connections, seconds, "/login")
        return run_phase(kind, master, job, procs, databases)

    anonymous = httpx.get(base + "/login").cookies["csrftoken"]
    signing_in = [
        Spec(
            username,
            "POST",
            "/login",
            # Each cadre from an address of their own, as from their own phone (the server
            # trusts X-Forwarded-For from 127.0.0.1): the per-address throttle stays out of it.
            {
                "cookie": f"csrftoken={anonymous}",
                "x-forwarded-for": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            },
            {"username": username, "password": DEMO_PASSWORD, "_csrf_token": anonymous},
            302,
            "cookies",
        )
        for n, username in enumerate(usernames, start=1)
    ]
    sign_in = phase(SIGN_IN, signing_in, None)
    cookies = {
        u: c for u, c in sign_in.captured.items() if {"peixun_session", "csrftoken"} <= set(c)
    }

    def spec(
        username: str,
        method: str,
        url: str,
        data: dict | None,
        expect: int,
        capture: str,
        key: str = "",
        extra: dict | None = None,
    ) -> Spec:
        c = cookies[username]
        if data is not None:
            data = {**data, "_csrf_token": c["csrftoken"]}
        return Spec(
            key or username,
            method,
            url,
            {"cookie": _cookie(c), **(extra or {})},
            data,
            expect,
            capture,
        )

    start = phase(
        START, [spec(u, "POST", f"/quizzes/{QUIZ}", {}, 302, "location") for u in cookies], None
    )
    attempts = start.captured  # username → attempt URL
    opening = [spec(u, "GET", a, None, 200, "answers", key=a) for u, a in attempts.items()]
    open_ = phase(OPEN, opening, sizes.seconds)
    answers = open_.captured  # attempt URL → [(position, value)]
    saving = [
        spec(
            u, "POST", f"{a}/answers", {f"q{p}": v}, 200, "ok", extra={"x-requested-with": "fetch"}
        )
        for index in range(max((len(x) for x in answers.values()), default=0))
        for u, a in attempts.items()
        if a in answers and index < len(answers[a])
        for p, v in [answers[a][index]]
    ]
    save = phase(SAVE, saving, sizes.seconds)
    submit = phase(
        SUBMIT,
        [spec(u, "POST", f"{a}/submit", {"confirm": "1"}, 302, "") for u, a in attempts.items()],
        None,
    )
    return [sign_in, start, open_, save, submit]


# ---------------------------------------------------------------- the report


def _pad(text: str, width: int, right: bool = False) -> str:
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    gap = " " * max(0, width - shown)
    return gap + text if right else text + gap


def report(phases: list[Phase], verification: float, workers: int, together: float) -> None:
    floor = next(p for p in phases if p.kind == FLOOR)
    postgres = any(p.pg_cpu is not None for p in phases)
    columns: tuple[tuple[str, int], ...] = (
        ("请求", 10),
        ("成功", 7),
        ("错误", 6),
        ("p50", 9),
        ("p95", 9),
        ("请求/秒", 10),
        ("CPU/请求", 11),
        ("底线倍数", 10),
        ("主进程CPU", 11),
        ("客户端", 8),
    )
    if postgres:
        columns += (("PG/请求", 10), ("其中共用", 10))
    print("\n" + "".join(_pad(name, width, n > 0) for n, (name, width) in enumerate(columns)))
    for p in phases:
        cells = (
            p.kind,
            str(p.ok),
            str(sum(p.errors.values())),
            f"{percentile(p.times, 0.5) * 1000:.1f}ms",
            f"{percentile(p.times, 0.95) * 1000:.1f}ms",
            f"{p.ok / p.elapsed:.0f}" if p.elapsed else "-",
            f"{p.cpu_ms:.2f}ms",
            f"{p.cpu_ms / floor.cpu_ms:.1f}×" if floor.cpu_ms else "-",
            f"{p.master_cpu * 1000:.0f}ms",
            f"{p.client_cores:.2f}核",
        )
        if postgres:
            cells += (
                p.per_request_ms(None if p.pg_cpu is None else p.pg_cpu + (p.pg_shared_cpu or 0.0)),
                p.per_request_ms(p.pg_shared_cpu),
            )
        print(
            "".join(
                _pad(cell, width, n > 0)
                for n, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True))
            )
        )
        for error, count in sorted(p.errors.items()):
            print(f"  {p.kind}：{error} × {count}")
    print(
        "\nCPU/请求：该阶段服务器各工作进程的 CPU 时间（/proc 中的 utime+stime）除以成功的请求数；"
        "主进程 CPU 为该阶段主进程的合计，不计入。客户端：压测进程合计占用的 CPU 核数（不计入）。"
    )
    if postgres:
        print(
            "PG/请求：该阶段本机 PostgreSQL 服务器进程的 CPU 时间除以成功的请求数，只算连到本次测量"
            "自己的数据库的后端进程和服务器共用的进程（postmaster、checkpointer、walwriter 等），"
            "不算连到其他数据库的后端；其中共用：共用进程的部分，同机上其他负载（如测试）也会计入它。"
            "PG 的 CPU 不计入底线倍数（底线倍数只比工作进程的 CPU）。"
        )
    print("\n## 与目标对比")
    for p in phases:
        if p.kind in TARGETS and floor.cpu_ms:
            multiple = p.cpu_ms / floor.cpu_ms
            met = "达标" if multiple <= TARGETS[p.kind] else "未达到"
            print(
                f"{p.kind}：每个请求 {p.cpu_ms:.2f} ms CPU，为底线的 {multiple:.1f} 倍"
                f"（目标 ≤ {TARGETS[p.kind]} 倍）{met}"
            )
    sign_in = next(p for p in phases if p.kind == SIGN_IN)
    limit = workers / verification
    rate = sign_in.ok / sign_in.elapsed if sign_in.elapsed else 0.0
    met = "达标" if rate >= SIGN_IN_SHARE * limit else "未达到"
    print(
        f"{SIGN_IN}：{rate:.1f} 次/秒，为 argon2 上限的 {rate / limit:.0%}"
        f"（一次 argon2id 验证 {verification * 1000:.1f} ms，"
        f"{workers} 个进程的上限 {limit:.1f} 次/秒；"
        f"目标 ≥ {SIGN_IN_SHARE:.0%}）{met}"
    )
    both = workers / together
    print(
        f"  参考：{workers} 个进程同时验证时每次 {together * 1000:.1f} ms，"
        f"只做验证的上限 {both:.1f} 次/秒；登录为其 {rate / both:.0%}"
    )


async def _prepare(cadres: int) -> tuple[list[str], str]:
    """Cadres who have not started the quiz, and the demo password's argon2 hash."""
    from app.tables import User

    usernames = await fresh_cadres(cadres)
    row = await User.select(User.password_hash).where(User.username == usernames[0]).first()
    return usernames, row["password_hash"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="缩小规模，只检查脚本能否运行")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients-procs", type=int, default=2, help="压测客户端的进程数")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()

    bench = start_run()
    database_url, server_url, env = bench.database_url, bench.server_url, bench.env
    floor_engine = "PostgreSQL，asyncpg 连接池" if server_url else "SQLite"
    print(
        f"# 每类请求的服务器 CPU：{bench.engine}，底线 floor.py（{floor_engine}），"
        f"{args.workers} 个进程，"
        f"{sizes.connections} 个连接，{args.clients_procs} 个压测进程，"
        f"{time.strftime('%Y-%m-%d')}，提交 {bench.commit}"
    )
    folder = Path(database_url.removeprefix("sqlite:///")).parent if not server_url else None
    try:
        make_demo(env, max(1000, sizes.cadres + 600))
        usernames, demo_hash = asyncio.run(_prepare(sizes.cadres))
        phases = [floor_phase(folder, sizes, args.workers, args.clients_procs, server_url)]
        process, base = start_server(env, args.workers)
        databases = {urlsplit(database_url).path.lstrip("/")} if server_url else None
        try:
            verification = argon2_seconds(demo_hash, sizes.verifications)
            together = argon2_seconds(demo_hash, sizes.verifications, args.workers)
            phases += peixun_phases(
                base, process.pid, usernames, sizes, args.clients_procs, databases
            )
        finally:
            stop_server(process)
    finally:
        drop_database(database_url, server_url)
    report(phases, verification, args.workers, together)
    failed = sum(sum(p.errors.values()) for p in phases)
    if failed:
        print(f"失败：{failed} 个请求出错")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
