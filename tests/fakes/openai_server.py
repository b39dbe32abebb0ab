"""A real HTTP fake of the OpenAI chat-completions API on 127.0.0.1, scripted by prompt kind.

The kind of a request is the first line of its system message, `wikismith-task: <kind>`. Answers:
  dict                      the message content is its JSON
  str                       the message content as is
  ("malformed", text)       the same as a str: content that is not the JSON asked for
  ("truncate", content)     content with finish_reason "length"
  ("status", code[, headers[, body]])   an error; "$API_KEY" in the body becomes the bearer token received
  ("hang", seconds)         no answer for that long (or until the server stops), then the connection closes
  ("cost", content, cost)   content, with usage.cost set
  ("tools", [{"name": ..., "arguments": {...}}, ...])   an assistant message calling those tools
  callable(request_json)    called to get one of the above
A request with "stream": true gets its content as server-sent events, a few pieces, then the usage and [DONE].
A list is consumed in order, its last item repeating. Unscripted kinds go to `default` (a callable), else a 400.
Tokens are counted as one per four characters of the prompt's messages and of the answer.

    with FakeOpenAI() as fake:
        fake.script("summary", [("status", 429, {"Retry-After": "1"}), {"title": "x"}])
        ... settings with base_url=fake.base_url ...
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TASK_PREFIX = "wikismith-task: "


def count_tokens(text: str) -> int:
    return (len(text) + 3) // 4


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def __init__(self, fake: FakeOpenAI):
        self.fake = fake
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm meets the client's delayed ACK and
        # every answer arrives ~40 ms late (a 200 ms scripted delay became 245 ms). Real servers set it too.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.conn_lock:
            self.server.connections.add(self.connection)
        if self.server.stopping.is_set():  # accepted while stopping: stop() may not have seen it
            _end(self.connection)

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/v1/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.server.fake.models]
            self._send(200, {"object": "list", "data": data})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/v1/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
            return
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        answer, kind = self.server.fake._answer_for(body, {k.lower(): v for k, v in self.headers.items()})
        self._respond(answer, body, kind, token)

    def _respond(self, answer, body: dict, kind: str, token: str) -> None:
        fake = self.server.fake
        if isinstance(answer, tuple) and answer and answer[0] == "hang":
            self.server.stopping.wait(float(answer[1]))
            self.close_connection = True
            return
        if isinstance(answer, tuple) and answer and answer[0] == "status":
            code = int(answer[1])
            headers = answer[2] if len(answer) > 2 else {}
            error = answer[3] if len(answer) > 3 else {"error": {"message": f"fake error {code}",
                                                                 "type": "server_error", "code": code}}
            text = (error if isinstance(error, str) else json.dumps(error)).replace("$API_KEY", token)
            self._send(code, text, headers or {})
            return
        finish, cost = "stop", None
        if isinstance(answer, tuple) and answer and answer[0] == "truncate":
            finish, answer = "length", answer[1]
        elif isinstance(answer, tuple) and answer and answer[0] == "malformed":
            answer = answer[1]
        elif isinstance(answer, tuple) and answer and answer[0] == "cost":
            answer, cost = answer[1], float(answer[2])
        calls = None
        if isinstance(answer, tuple) and answer and answer[0] == "tools":
            finish = "tool_calls"
            calls = [{"id": f"call_{len(fake.requests)}_{i}", "type": "function",
                      "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                                   else json.dumps(c["arguments"])}} for i, c in enumerate(answer[1])]
            answer = ""
        content = answer if isinstance(answer, str) else json.dumps(answer)
        prompt = "".join(str(m.get("content") or "") for m in body.get("messages", []))
        tokens_in, tokens_out = count_tokens(prompt), count_tokens(content)
        with fake._lock:
            fake.tokens_in += tokens_in
            fake.tokens_out += tokens_out
            fake.answered_by_kind[kind] = fake.answered_by_kind.get(kind, 0) + 1
        usage: dict = {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                       "total_tokens": tokens_in + tokens_out}
        if cost is not None:
            usage["cost"] = cost
        if body.get("stream"):
            self._stream(body, content, finish, usage)
            return
        message = {"role": "assistant", "content": content if calls is None else None, "refusal": None}
        if calls is not None:
            message["tool_calls"] = calls
        self._send(200, {
            "id": f"chatcmpl-fake{len(fake.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"), "system_fingerprint": "fake",
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None, "message": message}],
            "usage": usage,
        })

    def _stream(self, body: dict, content: str, finish: str, usage: dict) -> None:
        base = {"id": "chatcmpl-fake-stream", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "fake")}
        step = max(1, len(content) // 3)
        events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": content[i:i + step]},
                                        "finish_reason": None}]} for i in range(0, len(content), step)]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": usage})
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data.encode())))
            self.end_headers()
            self.wfile.write(data.encode())
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send(self, code: int, payload, headers: dict | None = None) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) and closed the connection
            self.close_connection = True


class FakeOpenAI:
    """The fake server; a context manager. See the module docstring for scripting."""

    def __init__(self, default=None, models=("gpt-4o-mini",)):
        self.default = default  # callable(request_json) -> answer, for unscripted kinds
        self.models = list(models)
        self.requests: list[dict] = []  # every chat-completions body received, in order
        self.request_headers: list[dict] = []  # their headers, names lowercased
        self.kinds: list[str] = []  # the kind of each request, in order
        self.calls_by_kind: dict[str, int] = {}  # requests received, errors included
        self.answered_by_kind: dict[str, int] = {}  # 200 answers sent
        self.tokens_in = 0
        self.tokens_out = 0
        self._scripts: dict[str, list] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, kind: str, answers) -> None:
        """Answers for `kind`: one answer (repeated), or a list consumed in order (the last repeats)."""
        with self._lock:
            self._scripts[kind] = list(answers) if isinstance(answers, list) else [answers]

    def _answer_for(self, body: dict, headers: dict):
        kind = _kind_of(body)
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)
            self.kinds.append(kind)
            self.calls_by_kind[kind] = self.calls_by_kind.get(kind, 0) + 1
            queue = self._scripts.get(kind)
            answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        if answer is None:
            if self.default is None:
                return ("status", 400, {}, {"error": {"message": f"fake: nothing scripted for kind {kind!r}",
                                                      "type": "invalid_request_error"}}), kind
            answer = self.default
        if callable(answer):
            answer = answer(body)
        return answer, kind

    def start(self) -> FakeOpenAI:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()  # wakes every "hang"
        server.shutdown()
        with server.conn_lock:
            open_connections = list(server.connections)
        for conn in open_connections:  # idle keep-alive handlers are blocked reading: end them
            _end(conn)
        server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _kind_of(body: dict) -> str:
    for message in body.get("messages", []):
        if message.get("role") == "system":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            first = str(content or "").split("\n", 1)[0]
            return first[len(TASK_PREFIX):].strip() if first.startswith(TASK_PREFIX) else ""
    return ""


def _end(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
