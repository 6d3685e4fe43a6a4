"""A small HTTP server on 127.0.0.1 for tests (stdlib only).

GET/HEAD serve files from `root`; PUT and POST to any path store the body
under `uploads` (same relative path) and are recorded as (method, path,
length).  Requests whose path starts with `fail_prefix` (default "/fail/")
and whose method is in `fail_methods` (default PUT, POST) get `fail_status`
(default 500), so a test can show that an upload error fails a job.

Two routes stand for a broken server on the input side (GET only):
- `/status/<code>/...` answers `<code>` (404, 500...) with a short body;
- `/cut/<rel>` serves the file `root/<rel>` with its full Content-Length, sends the first half of
  its bytes and closes the connection: a download cut in the middle.
Every request is recorded with its query string (`Request.query`), so a test can count what a
client asked for.

The server runs in daemon threads of the test process: it goes away with
the process even if stop() is never called.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

from .cluster import unwatch_dir, watch_dir


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    length: int  # body bytes received (0 for GET/HEAD)
    status: int
    query: str = ""  # the raw query string, as the client sent it


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    harness: "HttpServer"


class _Handler(SimpleHTTPRequestHandler):
    server: _Server
    timeout = 30  # a stuck client never pins a thread for long
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def _h(self) -> "HttpServer":
        return self.server.harness

    def _path(self) -> str:
        return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)

    def _query(self) -> str:
        return urllib.parse.urlsplit(self.path).query

    def _fails(self, method: str) -> bool:
        h = self._h()
        return bool(h.fail_prefix) and method in h.fail_methods and self._path().startswith(h.fail_prefix)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _upload(self) -> None:
        h = self._h()
        body = self._read_body()
        path = self._path()
        if self._fails(self.command):
            h._record(self.command, path, len(body), h.fail_status)
            self._reply(h.fail_status, b"upload refused by test server\n")
            return
        rel = PurePosixPath(path.lstrip("/"))
        if not rel.parts or any(p in ("..", "") for p in rel.parts):
            h._record(self.command, path, len(body), 400)
            self._reply(400, b"bad path\n")
            return
        dest = h.uploads.joinpath(*rel.parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(body)
        status = 201 if self.command == "PUT" else 200
        h._record(self.command, path, len(body), status)
        self._reply(status, b"stored\n")

    do_PUT = _upload
    do_POST = _upload

    def do_GET(self):
        h = self._h()
        path, query = self._path(), self._query()
        if self._fails("GET"):
            h._record("GET", path, 0, h.fail_status, query)
            self._reply(h.fail_status, b"refused by test server\n")
            return
        status = re.match(r"/status/([0-9]{3})(/|$)", path)
        if status:
            code = int(status.group(1))
            h._record("GET", path, 0, code, query)
            self._reply(code, f"status {code} from the test server\n".encode())
            return
        if path.startswith("/cut/"):
            self._cut(path.removeprefix("/cut/"), query)
            return
        h._record("GET", path, 0, 200, query)
        super().do_GET()

    def _cut(self, rel: str, query: str) -> None:
        """Announce the whole file, send half of it, close the connection."""
        h = self._h()
        try:
            data = h.root.joinpath(*PurePosixPath(rel).parts).read_bytes()
        except OSError:
            h._record("GET", "/cut/" + rel, 0, 404, query)
            self._reply(404, b"not found\n")
            return
        h._record("GET", "/cut/" + rel, 0, 200, query)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_HEAD(self):
        self._h()._record("HEAD", self._path(), 0, 200)
        super().do_HEAD()


class HttpServer:
    """Threaded HTTP server on 127.0.0.1:<free port>."""

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        uploads: str | Path | None = None,
        fail_prefix: str | None = "/fail/",
        fail_status: int = 500,
        fail_methods: tuple[str, ...] = ("PUT", "POST"),
    ):
        self._tmp = Path(tempfile.mkdtemp(prefix="jobc-http-"))
        watch_dir(self._tmp)  # removed even if the test process dies
        self.root = Path(root) if root is not None else self._tmp / "www"
        self.uploads = Path(uploads) if uploads is not None else self._tmp / "uploads"
        self.root.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.fail_prefix = fail_prefix
        self.fail_status = fail_status
        self.fail_methods = tuple(fail_methods)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def _record(self, method: str, path: str, length: int, status: int, query: str = "") -> None:
        with self._lock:
            self.requests.append(Request(method, path, length, status, query))

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "HttpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "HttpServer":
        if self._httpd is None:
            handler = partial(_Handler, directory=str(self.root))
            self._httpd = _Server(("127.0.0.1", 0), handler)
            self._httpd.harness = self
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="harness-http", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
            if self._thread is not None:
                self._thread.join(timeout=10)
        shutil.rmtree(self._tmp, ignore_errors=True)
        unwatch_dir(self._tmp)

    # ---- helpers for tests
    def add_file(self, rel: str, data: bytes | str) -> Path:
        """Put a file under root so GET /rel serves it."""
        p = self.root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    def uploaded(self, path: str) -> bytes:
        """Body stored for a successful PUT/POST to `path`."""
        return self.uploads.joinpath(*PurePosixPath(path.lstrip("/")).parts).read_bytes()

    @property
    def uploads_received(self) -> list[tuple[str, str, int]]:
        """(method, path, length) of every PUT/POST, failed ones included."""
        with self._lock:
            return [(r.method, r.path, r.length) for r in self.requests if r.method in ("PUT", "POST")]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
