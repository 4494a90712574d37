"""What the HTTP benchmarks share: a throw-away database, the real server, signed-in
clients, and timing of every request."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import lean_http

PROJECT = Path(__file__).resolve().parent.parent
PEIXUN = Path(sys.executable).parent / "peixun"
DEMO_PASSWORD = "demo12345"


async def pg_admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def prepare_database() -> tuple[str, str | None]:
    """(DATABASE_URL to use, PostgreSQL server URL to drop the database from, or None).

    A new temporary SQLite file, or with DATABASE_URL=postgresql://… a new database on that
    server (the user needs CREATEDB)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        name = f"peixun_bench_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(pg_admin(url, f'CREATE DATABASE "{name}"'))
        return urlunsplit(urlsplit(url)._replace(path="/" + name)), url
    folder = Path(tempfile.mkdtemp(prefix="peixun-bench-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}", None


@dataclass(frozen=True)
class BenchRun:
    """What every benchmark run starts with: its database, the server's environment, and
    what to print about it."""

    database_url: str
    server_url: str | None  # PostgreSQL: the server the database is dropped from
    env: dict[str, str]
    engine: str  # "SQLite" or "PostgreSQL"
    commit: str


def start_run() -> BenchRun:
    """A new database (see `prepare_database`), this process pointed at it, the environment
    for the server (the demo's own secret key, not the caller's), and the commit measured."""
    database_url, server_url = prepare_database()
    use_database(database_url)
    env = {**os.environ}
    env.pop("SECRET_KEY", None)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    engine = "PostgreSQL" if server_url else "SQLite"
    return BenchRun(database_url, server_url, env, engine, commit or "?")


def drop_database(database_url: str, server_url: str | None) -> None:
    if server_url:
        name = urlsplit(database_url).path.lstrip("/")
        asyncio.run(pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def use_database(database_url: str) -> None:
    """Point this process's `app` modules at the benchmark's database (before importing them)."""
    os.environ["DATABASE_URL"] = database_url
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))


def make_demo(env: dict[str, str], cadres: int) -> None:
    subprocess.run(
        [str(PEIXUN), "demo", "--cadres", str(cadres)],
        env=env,
        cwd=PROJECT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    """`peixun serve` on 127.0.0.1 with `workers` processes; (process, base URL)."""
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


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def csrf(client: lean_http.AsyncClient) -> str:
    return client.cookies.get("csrftoken") or ""


async def sign_in(base: str, username: str) -> lean_http.AsyncClient:
    # Each cadre from an address of their own, as from their own phone (the server trusts
    # X-Forwarded-For from 127.0.0.1): the per-address sign-in throttle stays out of it.
    # The client is bench/lean_http.py's, not httpx's: a tenth of the client CPU per request.
    n = zlib.crc32(username.encode())
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    client = lean_http.AsyncClient(base, timeout=120, headers={"x-forwarded-for": address})
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": csrf(client)},
    )
    if response.status_code != 302:
        raise SystemExit(f"{username} 登录失败：{response.status_code}")
    return client


async def sign_in_all(base: str, usernames: list[str]) -> list[lean_http.AsyncClient]:
    """Signed-in clients, 20 at a time (signing in is not what is measured)."""
    clients: list[lean_http.AsyncClient] = []
    for start in range(0, len(usernames), 20):
        clients += await asyncio.gather(*(sign_in(base, u) for u in usernames[start : start + 20]))
    return clients


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class Recorder:
    """Latency of every request by kind, errors by kind and status."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[tuple[str, int | str], int] = defaultdict(int)
        self.started = time.perf_counter()
        self.elapsed = 0.0

    async def call(self, kind: str, request, expect: tuple[int, ...] = (200, 201, 302)):
        started = time.perf_counter()
        try:
            response = await request
        except (lean_http.HTTPError, httpx.HTTPError) as error:
            self.errors[kind] += 1
            self.statuses[(kind, type(error).__name__)] += 1
            return None
        self.times[kind].append(time.perf_counter() - started)
        if response.status_code not in expect:
            self.errors[kind] += 1
            self.statuses[(kind, response.status_code)] += 1
        return response

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self.started

    @property
    def requests(self) -> int:
        return sum(len(t) for t in self.times.values())

    def p(self, kind: str, share: float) -> float:
        return percentile(self.times[kind], share)

    def print(self, title: str) -> None:
        rate = self.requests / self.elapsed if self.elapsed else 0.0
        print(f"\n## {title}")
        print(f"用时 {self.elapsed:.1f} s，共 {self.requests} 个请求，吞吐量 {rate:.0f} 请求/秒")
        print(f"{'请求':<8}{'次数':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'错误':>6}")
        for kind, times in self.times.items():
            print(
                f"{kind:<8}{len(times):>7}"
                f"{percentile(times, 0.5) * 1000:>7.0f}ms"
                f"{percentile(times, 0.95) * 1000:>7.0f}ms"
                f"{percentile(times, 0.99) * 1000:>7.0f}ms"
                f"{self.errors[kind]:>6}"
            )
        for (kind, status), count in sorted(self.statuses.items(), key=str):
            print(f"  {kind}：{'HTTP ' if isinstance(status, int) else ''}{status} × {count}")


# ---------------------------------------------------------------- server CPU from /proc

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (all its threads)."""
    return _cpu(pid)


def _cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


def server_cpu(master: int) -> tuple[dict[int, float], float]:
    """(CPU seconds of each uvicorn worker, of the master with its other children)."""
    workers: dict[int, float] = {}
    rest = _cpu(master)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) != master:
                continue
            spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
            seconds = _cpu(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if spawned:
            workers[int(entry.name)] = seconds
        else:
            rest += seconds  # multiprocessing's resource tracker
    if not workers:  # one worker: uvicorn serves in the master process itself
        return {master: rest}, 0.0
    return workers, rest
