"""Crash workloads whose change is made by a real server process: the bench's run sends one request to
`wikismith mcp` (JSON-RPC over stdio) or `wikismith serve` (HTTP), and the fault spec of the run goes into THAT
process's environment, so the server is the process killed, torn or failed at the checkpoint. What it passed and
the states it committed come back through bench/serverproc.py's report; in the power-cut mode's recorded run, also
the file-system operations it recorded (store/fstrace.py)."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from bench import crashkit, serverproc
from bench.serverproc import REPORT_ENV, STATES_ENV
from wikismith.store import chat, faults, fs, fstrace, txn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As imported, before a clean run wraps them to record its states in the bench's child (not the server's business).
_UNWRAPPED = (txn.apply, chat.new_session, chat.append)


def preload() -> None:
    """Import the server commands in the bench process, so that every server forked from its children starts warm
    (an exec'd interpreter spent 1-3 s importing them in every state; the bench runs hundreds of states)."""
    import anyio._backends._asyncio  # noqa: F401
    import fastapi.responses  # noqa: F401
    import fastapi.staticfiles  # noqa: F401
    import mcp.server.mcpserver  # noqa: F401
    import uvicorn  # noqa: F401

    import wikismith.cli  # noqa: F401
    import wikismith.kb  # noqa: F401
    import wikismith.mcp.server  # noqa: F401
    import wikismith.web.api  # noqa: F401
    import wikismith.web.app  # noqa: F401


class _Forked:
    """A server process forked from this one, running bench/serverproc.py's main as `python -m bench.serverproc`
    would, under `env`; the few methods of subprocess.Popen the bench uses."""

    def __init__(self, argv: list[str], env: dict, pipes: bool):
        ends = (*os.pipe(), *os.pipe()) if pipes else None
        self.pid = os.fork()
        if self.pid == 0:
            try:
                _serve(argv, env, ends)
            finally:
                os._exit(70)  # not reached: _serve ends the process
        self.returncode = None
        self.stdin = self.stdout = None
        if ends:
            os.close(ends[0])
            os.close(ends[3])
            self.stdin, self.stdout = os.fdopen(ends[1], "wb"), os.fdopen(ends[2], "rb")

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired("bench.serverproc", timeout)
            time.sleep(0.005)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)


def _serve(argv: list[str], env: dict, ends: tuple[int, int, int, int] | None) -> None:
    """In the forked child: become a fresh server process (its stdio, environment, exit handlers and the settings
    the store reads from the environment when imported), run the command, run its exit handlers, end."""
    atexit._clear()  # the bench's exit handlers are not the server's
    os.environ.clear()
    os.environ.update(env)
    os.chdir(REPO)
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(ends[0] if ends else quiet, 0)
    if ends:
        os.dup2(ends[3], 1)
        for fd in ends:  # the server's stdin must see end-of-file when the bench closes its end
            os.close(fd)
    os.dup2(quiet, 2)
    sys.stdin, sys.stdout, sys.stderr = (open(0, closefd=False), open(1, "w", closefd=False),
                                         open(2, "w", closefd=False))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    txn.apply, chat.new_session, chat.append = _UNWRAPPED
    fs.SYNC = env.get("WIKISMITH_FSYNC", "on") != "off"
    faults.configure(env.get(faults.ENV))
    fstrace.stop()
    if env.get(fstrace.ENV):
        fstrace.record_process(env[fstrace.ENV], env.get(fstrace.SNAPSHOTS_ENV))
    code = 0
    try:
        serverproc.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # KeyboardInterrupt after Ctrl-C, as an exec'd server would end
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
    finally:
        os._exit(code)


class Server:
    """bench/serverproc.py's ARGS with this run's faults, in a process of its own (stdio piped to this one with
    `pipes`); `finish()` judges how it ended."""

    def __init__(self, root: str, args: list[str], pipes: bool = False):
        fd, self.report = tempfile.mkstemp(prefix="crash-server-", suffix=".json")
        os.close(fd)
        env = {k: v for k, v in os.environ.items() if k not in (faults.ENV, STATES_ENV, fstrace.ENV)}
        env.update({REPORT_ENV: self.report, "WIKISMITH_FSYNC": "off"})
        spec = crashkit.current_spec
        if spec:
            env[faults.ENV] = spec
        if spec and "count" in spec:
            env[STATES_ENV] = root  # the clean run: record the state after every transaction
        self.ops = None
        if crashkit.record_snapshots:  # the power-cut mode's recorded run
            fd, self.ops = tempfile.mkstemp(prefix="crash-server-ops-", suffix=".jsonl")
            os.close(fd)
            env.update({fstrace.ENV: self.ops, fstrace.SNAPSHOTS_ENV: crashkit.record_snapshots})
        self.proc = _Forked(["--kb", root, *args], env, pipes)

    def finish(self) -> None:
        """Wait for the server to end. Killed at a checkpoint: this run dies the same way (the bench reads a SIGKILL
        as the crash having happened); else the server's report becomes this run's checkpoints and states."""
        code = self.proc.wait(120)
        try:
            if code == -signal.SIGKILL:
                os.kill(os.getpid(), signal.SIGKILL)
            with open(self.report, encoding="utf-8") as fh:
                text = fh.read()
            if text:
                payload = json.loads(text)
                if self.ops:
                    payload["ops"] = fstrace.load(self.ops)
                crashkit.report_remote(payload)
        finally:
            for path in (self.report, self.ops):
                if path:
                    os.unlink(path)


def mcp_tool(root: str, flags: list[str], tool: str, arguments: dict) -> None:
    """Start `wikismith mcp FLAGS` on stdio, initialize, call one tool, hang up. SystemExit(1) on a tool error."""
    server = Server(root, ["mcp", *flags], pipes=True)
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "crash-bench", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}},
    ]
    answer = None
    try:
        for message in messages:
            server.proc.stdin.write((json.dumps(message) + "\n").encode())
            server.proc.stdin.flush()
            if "id" in message:
                answer = _reply(server.proc.stdout, message["id"])
                if answer is None:
                    break  # the server died
    except BrokenPipeError:
        answer = None
    finally:
        server.proc.stdin.close()
        server.finish()
    if answer is None or "error" in answer or answer["result"].get("isError"):
        raise SystemExit(1)


def _reply(stream, wanted: int) -> dict | None:
    """The response to request `wanted` (notifications skipped), or None at end of stream."""
    for line in stream:
        message = json.loads(line)
        if message.get("id") == wanted:
            return message
    return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc, seconds: float = 60) -> None:
    import socket
    import time

    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def rest_request(root: str, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> None:
    """Start `wikismith serve`, send one request from the server's own origin, stop the server (Ctrl-C).
    SystemExit(1) unless the answer was 200."""
    import http.client

    port = free_port()
    server = Server(root, ["serve", "--port", str(port)])
    status = None
    try:
        wait_for_port(port, server.proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request(method, path, body=body, headers={"Origin": f"http://127.0.0.1:{port}", **(headers or {})})
        response = conn.getresponse()
        response.read()
        status = response.status
        conn.close()
    except (OSError, http.client.HTTPException):
        status = None  # the server died under the request
    finally:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGINT)  # uvicorn stops, then re-raises it: KeyboardInterrupt, atexit
        server.finish()
    if status != 200:
        raise SystemExit(1)


def multipart(field: str, name: str, data: bytes) -> tuple[bytes, dict]:
    """A multipart/form-data body holding one file."""
    boundary = "wikismith-crash-bench-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
