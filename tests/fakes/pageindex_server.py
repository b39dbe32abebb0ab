"""A real HTTP fake of the PageIndex Cloud read endpoints on 127.0.0.1 (ephemeral port).

    with FakePageIndex(api_key="pi-test-key") as fake:
        fake.add_document("pi-1", "Report", pages=["p1", "p2"], tree=[{"title": "A", "node_id": "0000",
                                                                       "page_index": 1, "nodes": []}])
        fake.fail("pi-1", [("retry-after", 429, 0.01), 500])   # the next two requests for pi-1 fail, in order
        client = PageIndexClient("pi-test-key", fake.base_url)

Routes: GET /doc/{id}/metadata/, GET /doc/{id}/?type=tree..., GET /doc/{id}/?type=ocr... A wrong or missing
`api_key` header gets 401; an unknown id 404. Failures (`fail`) are consumed in order by matching requests; each is
a status code, ("retry-after", code, seconds), ("malformed",) (a 200 whose body is not JSON) or ("hang", seconds)
(no answer for that long, or until the server stops). `override` serves a fixed body for one endpoint.
Every request is recorded in `.requests` as {"path": ..., "headers": {lowercased name: value}}.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def __init__(self, fake: "FakePageIndex"):
        self.fake = fake
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        with fake._lock:
            fake.requests.append({"path": self.path, "headers": headers})
        doc_id, endpoint = _route(self.path)
        if endpoint is None:
            self._send(404, {"detail": f"no route {self.path}"})
            return
        if headers.get("api_key") != fake.api_key:
            self._send(401, {"detail": "Invalid API key"})
            return
        failure = fake._next_failure(doc_id, endpoint)
        if failure is not None:
            self._fail(failure)
            return
        with fake._lock:
            override = fake._overrides.get((doc_id, endpoint))
            document = fake._documents.get(doc_id)
        if override is not None:
            self._send(200, override)
        elif document is None:
            self._send(404, {"detail": "Document not found"})
        else:
            self._send(200, _answer(doc_id, document, endpoint))

    def _fail(self, failure) -> None:
        if isinstance(failure, int):
            self._send(failure, {"detail": f"fake failure {failure}"})
        elif failure[0] == "retry-after":
            self._send(int(failure[1]), {"detail": "slow down"}, {"Retry-After": str(failure[2])})
        elif failure[0] == "malformed":
            self._send(200, b"{not json")
        elif failure[0] == "hang":
            self.server.stopping.wait(float(failure[1]))
            self.close_connection = True
        else:
            raise ValueError(f"unknown failure {failure!r}")

    def _send(self, code: int, payload, headers: dict | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up and closed the connection
            self.close_connection = True


def _route(path: str) -> tuple[str | None, str | None]:
    parts = urlsplit(path)
    segments = parts.path.split("/")
    if len(segments) < 4 or segments[0] != "" or segments[1] != "doc" or not segments[2]:
        return None, None
    doc_id = unquote(segments[2])
    rest = segments[3:]
    if rest == ["metadata", ""] or rest == ["metadata"]:
        return doc_id, "metadata"
    if rest == [""]:
        kind = parse_qs(parts.query).get("type", [""])[0]
        if kind in ("tree", "ocr"):
            return doc_id, kind
    return None, None


def _answer(doc_id: str, document: dict, endpoint: str) -> dict:
    status = document["status"]
    if endpoint == "metadata":
        return {"id": doc_id, "name": document["name"], "description": document["description"], "status": status,
                "pageNum": len(document["pages"]), "createdAt": "2026-01-01T00:00:00Z"}
    done = status == "completed"
    if endpoint == "tree":
        return {"doc_id": doc_id, "status": status, "retrieval_ready": done,
                "result": document["tree"] if done else []}
    pages = [{"page_index": number, "markdown": text, "images": []}
             for number, text in enumerate(document["pages"], 1)]
    return {"doc_id": doc_id, "status": status, "result": pages if done else []}


class FakePageIndex:
    """The fake server; a context manager (see the module docstring)."""

    def __init__(self, api_key: str = "pi-test-key"):
        self.api_key = api_key
        self.requests: list[dict] = []
        self._documents: dict[str, dict] = {}
        self._failures: list[list] = []  # [doc_id or None, endpoint or None, pending failures]
        self._overrides: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_document(self, doc_id: str, name: str, pages: list[str], tree: list[dict], status: str = "completed",
                     description: str = "") -> None:
        with self._lock:
            self._documents[doc_id] = {"name": name, "pages": list(pages), "tree": tree, "status": status,
                                       "description": description}

    def fail(self, doc_id: str | None, failures: list, endpoint: str | None = None) -> None:
        """Failures consumed in order by the next requests for `doc_id` (any document when None), optionally only
        on `endpoint` ("metadata", "tree" or "ocr")."""
        with self._lock:
            self._failures.append([doc_id, endpoint, list(failures)])

    def override(self, doc_id: str, endpoint: str, body) -> None:
        """Answer `endpoint` of `doc_id` with 200 and `body` (bytes as they are, anything else as JSON)."""
        with self._lock:
            self._overrides[(doc_id, endpoint)] = body

    def _next_failure(self, doc_id: str, endpoint: str):
        with self._lock:
            for target, only, pending in self._failures:
                if pending and target in (None, doc_id) and only in (None, endpoint):
                    return pending.pop(0)
        return None

    def start(self) -> "FakePageIndex":
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-pageindex", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stopping.set()  # wakes handlers that hang
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "FakePageIndex":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
