"""A lean asyncio HTTP/1.1 client for the load benchmarks: what they need and nothing more.

httpx spends 0.6-0.9 ms of client CPU per request against peixun (about 2.4 ms per request
over the whole quiz-day scenario); on a 2-core machine the load client alone would use the
cores the server is meant to have. This client sends the same
requests (GET, POST with a form body, extra headers, a cookie jar per client) over keep-alive
connections for a small fraction of that. Its interface follows the part of httpx.AsyncClient
the benchmarks use: `get`, `post`, `request`, `cookies`, `aclose`; responses have
`status_code`, `headers`, `cookies`, `content`, `text` and `json()`; errors are `HTTPError`
subclasses named as httpx's.

    .venv/bin/python bench/lean_http.py [--requests 3000] [--connections 16]

measures the client CPU per request of httpx and of this client against bench/floor.py.

Not supported: redirects (never followed, as httpx's default), TLS, proxies, compression,
cookie domains and paths (one server), HTTP/2, request bodies other than forms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as _json
import select
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

# ---------------------------------------------------------------- errors (named as httpx's)


class HTTPError(Exception):
    pass


class TransportError(HTTPError):
    pass


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class NetworkError(TransportError):
    pass


class ConnectError(NetworkError):
    pass


class ReadError(NetworkError):
    pass


class RemoteProtocolError(TransportError):
    pass


class _NothingReceived(RemoteProtocolError):
    """The server closed the connection after the request was sent, before any response byte."""


# ---------------------------------------------------------------- responses


class Headers(dict):
    """Response headers by lower-case name (repeated ones joined with ", ")."""

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default=None):
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name.lower() if isinstance(name, str) else name)


def _parse_set_cookie(line: str) -> tuple[str, str, bool]:
    """(name, value, whether the cookie is being deleted) from one Set-Cookie header."""
    first, _, attributes = line.partition(";")
    name, _, value = first.partition("=")
    name, value = name.strip(), value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    deleted = False
    if attributes:
        expires = None
        for attribute in attributes.split(";"):
            key, _, argument = attribute.partition("=")
            key = key.strip().lower()
            if key == "max-age":
                with contextlib.suppress(ValueError):
                    deleted = int(argument.strip()) <= 0
                expires = None
                break
            if key == "expires":
                expires = argument.strip()
        if expires:
            with contextlib.suppress(TypeError, ValueError):
                deleted = parsedate_to_datetime(expires).timestamp() <= time.time()
    return name, value, deleted


class Response:
    __slots__ = ("_cookies", "content", "headers", "reason_phrase", "set_cookies", "status_code")

    def __init__(
        self,
        status_code: int,
        reason_phrase: str,
        headers: Headers,
        set_cookies: list[str],
        content: bytes,
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers
        self.set_cookies = set_cookies  # the raw Set-Cookie headers
        self.content = content
        self._cookies: dict[str, str] | None = None

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies this response set (not those it deleted)."""
        if self._cookies is None:
            self._cookies = {}
            for line in self.set_cookies:
                name, value, deleted = _parse_set_cookie(line)
                if not deleted:
                    self._cookies[name] = value
        return self._cookies

    @property
    def encoding(self) -> str:
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    def json(self):
        return _json.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"


# ---------------------------------------------------------------- one connection

_HEAD, _LENGTH, _CHUNKED, _UNTIL_CLOSE, _IDLE = range(5)
_MAX_HEAD = 64 * 1024
# Like a browser, a connection idle this long is not reused: `peixun serve` closes idle ones
# after 75 s, and a POST sent just as the server closes it would be lost (never sent twice).
IDLE_REUSE_SECONDS = 60.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time. The response is parsed as its bytes
    arrive and handed over through a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False  # a response was read on it: a later close may be an idle timeout
        self.idle_since = time.monotonic()
        self.buffer = bytearray()
        self.state = _IDLE
        self.waiter: asyncio.Future | None = None
        self.no_body = False  # the request was a HEAD
        self.received = False  # some of the response has arrived
        self.remaining = 0
        self.chunks: list[bytes] = []
        self.head: tuple | None = None
        self.keep_alive = True

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.state == _IDLE:  # nothing asked: the connection is unusable
            self.transport.close()
            return
        self.received = True
        self.buffer += data
        try:
            self._parse()
        except RemoteProtocolError as error:
            self._fail(error)
            self.transport.close()

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.state == _IDLE:
            return
        if self.state == _UNTIL_CLOSE:
            self.chunks.append(bytes(self.buffer))
            self.buffer.clear()
            self._finish()
        elif not self.received:
            self._fail(_NothingReceived("Server disconnected without sending a response."))
        else:
            self._fail(
                RemoteProtocolError("peer closed connection without sending complete message body")
            )

    # requests

    def send(self, data: bytes, head_only: bool) -> asyncio.Future:
        self.waiter = asyncio.get_running_loop().create_future()
        self.state = _HEAD
        self.no_body = head_only
        self.received = False
        self.chunks = []
        self.head = None
        self.keep_alive = True
        self.transport.write(data)
        return self.waiter

    def abort(self) -> None:
        self.state = _IDLE
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # parsing

    def _parse(self) -> None:
        buffer = self.buffer
        if self.state == _HEAD:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    raise RemoteProtocolError("response head too long")
                return
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            del buffer[: end + 4]
            version, _, rest = lines[0].partition(" ")
            code, _, reason = rest.partition(" ")
            try:
                status = int(code)
            except ValueError:
                raise RemoteProtocolError(f"bad status line: {lines[0]!r}") from None
            if 100 <= status < 200:  # an interim response: the real one follows
                self._parse()
                return
            headers = Headers()
            set_cookies: list[str] = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                value = value.strip()
                if name == "set-cookie":
                    set_cookies.append(value)
                if dict.__contains__(headers, name):
                    dict.__setitem__(headers, name, dict.__getitem__(headers, name) + ", " + value)
                else:
                    dict.__setitem__(headers, name, value)
            self.head = (status, reason, headers, set_cookies)
            connection = dict.get(headers, "connection", "").lower()
            if version == "HTTP/1.0":
                self.keep_alive = "keep-alive" in connection
            else:
                self.keep_alive = "close" not in connection
            if self.no_body or status in (204, 304):
                self._finish()
                return
            if "chunked" in dict.get(headers, "transfer-encoding", "").lower():
                self.state = _CHUNKED
                self.remaining = -1  # reading a size line
            elif (length := dict.get(headers, "content-length")) is not None:
                try:
                    self.remaining = int(length.split(",")[0])
                except ValueError:
                    raise RemoteProtocolError(f"bad Content-Length: {length!r}") from None
                self.state = _LENGTH
            else:
                self.state = _UNTIL_CLOSE
                self.keep_alive = False
                return
        if self.state == _LENGTH:
            if len(buffer) >= self.remaining:
                self.chunks.append(bytes(buffer[: self.remaining]))
                del buffer[: self.remaining]
                self._finish()
            return
        if self.state == _CHUNKED:
            while True:
                if self.remaining == -1:  # the size line
                    end = buffer.find(b"\r\n")
                    if end < 0:
                        return
                    try:
                        size = int(bytes(buffer[:end]).split(b";")[0].strip(), 16)
                    except ValueError:
                        raise RemoteProtocolError("bad chunk size") from None
                    del buffer[: end + 2]
                    self.remaining = size if size else -2
                elif self.remaining == -2:  # after the last chunk: trailers, then a blank line
                    if buffer[:2] == b"\r\n":
                        del buffer[:2]
                        self._finish()
                        return
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        return
                    del buffer[: end + 4]
                    self._finish()
                    return
                else:  # chunk data and its CRLF
                    if len(buffer) < self.remaining + 2:
                        return
                    self.chunks.append(bytes(buffer[: self.remaining]))
                    del buffer[: self.remaining + 2]
                    self.remaining = -1
        # _UNTIL_CLOSE: the body ends when the connection does

    def _finish(self) -> None:
        status, reason, headers, set_cookies = self.head
        body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        self.state = _IDLE
        self.used = True
        waiter, self.waiter = self.waiter, None
        if not self.keep_alive or self.buffer:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(status, reason, headers, set_cookies, body))

    def _fail(self, error: Exception) -> None:
        self.state = _IDLE
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


# ---------------------------------------------------------------- the client


class AsyncClient:
    """Keep-alive connections to one server (usually one: the benchmarks send one request at
    a time per client), a cookie jar, default headers.

    `timeout` bounds connecting and, separately, the wait from sending a request to the end
    of its response. A connection the server closed while idle is replaced before the request
    is written; when the server closes a reused connection right after a GET was written,
    without answering, the GET is sent once more on a new one. A POST is never sent twice:
    that is a `RemoteProtocolError`, as with httpx."""

    def __init__(
        self,
        base_url: str = "",
        *,
        timeout: float = 5.0,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", ""):
            raise ValueError(f"only http:// is supported: {base_url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.cookies: dict[str, str] = dict(cookies or {})
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()
        self._static = self._head_fields({})
        self._static_names = {"host", "accept", "user-agent", "connection", *self.headers}
        self._closed = False

    def _head_fields(self, overrides: dict[str, str]) -> bytes:
        """The header lines every request carries, some replaced by `overrides`."""
        fields = {
            "host": self.netloc,
            "accept": "*/*",
            "user-agent": "lean-http",
            "connection": "keep-alive",
            **self.headers,
            **overrides,
        }
        return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for connection in self._all:
            if connection.transport is not None and not connection.closed:
                connection.transport.close()
        self._all.clear()
        self._idle.clear()

    def get(self, url: str, *, headers: dict[str, str] | None = None):
        return self.request("GET", url, headers=headers)

    def post(
        self,
        url: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        return self.request("POST", url, data=data, headers=headers)

    def _target(self, url: str) -> str:
        if url.startswith("/"):
            return self.prefix + url
        parts = urlsplit(url)
        if parts.scheme:
            if parts.netloc != self.netloc:
                raise ValueError(f"another server: {url!r}")
            return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return f"{self.prefix}/{url}"

    def _encode(self, method: str, url: str, data, headers) -> bytes:
        body = urlencode(data, doseq=True).encode() if data else b""
        extra = {k.lower(): v for k, v in headers.items()} if headers else {}
        static = self._static
        if extra and (replaced := extra.keys() & self._static_names):
            static = self._head_fields({name: extra.pop(name) for name in replaced})
        lines = [f"{method} {self._target(url)} HTTP/1.1\r\n".encode(), static]
        if "cookie" not in extra and self.cookies:
            extra["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body:
            extra.setdefault("content-type", "application/x-www-form-urlencoded")
            extra["content-length"] = str(len(body))
        elif method in ("POST", "PUT", "PATCH"):
            extra["content-length"] = "0"
        if extra:
            lines.append("".join(f"{k}: {v}\r\n" for k, v in extra.items()).encode("utf-8"))
        lines.append(b"\r\n")
        lines.append(body)
        return b"".join(lines)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port), self.timeout
            )
        except TimeoutError:
            raise ConnectTimeout(f"no connection to {self.netloc} in {self.timeout:g} s") from None
        except OSError as error:
            raise ConnectError(str(error)) from error
        self._all.add(connection)
        return connection

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if self._closed:
            raise RuntimeError("the client has been closed")
        method = method.upper()
        payload = self._encode(method, url, data, headers)
        retried = False
        while True:
            connection = None
            while self._idle:
                candidate = self._idle.pop()
                fresh = time.monotonic() - candidate.idle_since < IDLE_REUSE_SECONDS
                if fresh and not candidate.closed and _still_open(candidate.transport):
                    connection = candidate
                    break
                candidate.abort()
                self._all.discard(candidate)  # closed by the server while idle
            if connection is None:
                connection = await self._connect()
            reused = connection.used
            waiter = connection.send(payload, method == "HEAD")
            timer = asyncio.get_running_loop().call_later(self.timeout, _expire, waiter)
            try:
                response = await waiter
            except _NothingReceived:
                self._all.discard(connection)
                if reused and not retried and method in ("GET", "HEAD"):
                    retried = True
                    continue
                raise RemoteProtocolError(
                    "Server disconnected without sending a response."
                ) from None
            except BaseException:  # a timeout, a broken response, or the caller cancelled
                self._all.discard(connection)
                connection.abort()
                raise
            finally:
                timer.cancel()
            break
        if connection.closed:
            self._all.discard(connection)
        else:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        if response.set_cookies:
            for line in response.set_cookies:
                name, value, deleted = _parse_set_cookie(line)
                if deleted:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return response


def _still_open(transport: asyncio.Transport) -> bool:
    """Whether an idle connection can be reused: not closing, and nothing (an end of file the
    event loop has not seen yet) waiting to be read on it."""
    if transport.is_closing():
        return False
    sock = transport.get_extra_info("socket")
    if sock is None:
        return True
    poller = select.poll()  # not select.select: descriptors above 1024 (thousands of users)
    poller.register(sock.fileno(), select.POLLIN)
    return not poller.poll(0)


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeout("timed out waiting for the response"))


# ---------------------------------------------------------------- the measurement


def _measure(base: str, sessions, make_client, requests: int, connections: int) -> float:
    """Client CPU seconds per request for `requests` POST /save over `connections` clients."""

    async def run() -> float:
        clients = [make_client(base) for _ in range(connections)]
        for client in clients:
            await client.post("/save", data={"q1": "A"}, headers=_floor_headers(sessions[0]))
        per_client = requests // connections

        async def one(n: int, client) -> None:
            session = sessions[n % len(sessions)]
            for question in range(per_client):
                response = await client.post(
                    "/save",
                    data={f"q{question % 30 + 1}": "ABCD"[question % 4]},
                    headers=_floor_headers(session),
                )
                if response.status_code != 200 or response.json().get("ok") is not True:
                    raise SystemExit(f"底线服务的回答不对：{response.status_code}")

        cpu = time.process_time()
        await asyncio.gather(*(one(n, c) for n, c in enumerate(clients)))
        used = time.process_time() - cpu
        for client in clients:
            await client.aclose()
        return used / (per_client * connections)

    return asyncio.run(run())


def _floor_headers(session: tuple[str, str]) -> dict[str, str]:
    key, token = session
    return {"cookie": f"session={key}", "x-csrftoken": token}


def main() -> None:
    import argparse
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from floor import make_database
    from harness import free_port, stop_server

    parser = argparse.ArgumentParser(description="httpx 与本客户端每个请求占用的客户端 CPU")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="peixun-lean-"))
    database = str(folder / "floor.sqlite3")
    sessions = make_database(database, args.connections)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "floor.py"), "serve", "--port", str(port)],
        env={**os.environ, "FLOOR_DATABASE": database},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/save", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("底线服务没有启动")
                time.sleep(0.2)
        print(f"{args.requests} 个 POST /save（底线服务），{args.connections} 个连接：")
        for label, make in (
            ("httpx", lambda b: httpx.AsyncClient(base_url=b, timeout=120)),
            ("lean_http", lambda b: AsyncClient(b, timeout=120)),
        ):
            seconds = _measure(base, sessions, make, args.requests, args.connections)
            print(f"  {label:<10} 客户端 CPU 每个请求 {seconds * 1000:.3f} ms")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
