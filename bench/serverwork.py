"""Crash workloads whose change is made by a real server process: the bench's run sends one request to
`wikismith mcp` (JSON-RPC over stdio) or `wikismith serve` (HTTP), and the fault spec of the run goes into THAT
process's environment, so the server is the process killed, torn or failed at the checkpoint. What it passed and
the states it committed come back through bench/serverproc.py's report; in the power-cut mode's recorded run, also
the file-system operations it recorded (store/fstrace.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile

from bench import crashkit
from bench.serverproc import REPORT_ENV, STATES_ENV
from wikismith.store import faults, fstrace

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    """`python -m bench.serverproc ARGS` with this run's faults; `finish()` judges how it ended."""

    def __init__(self, root: str, args: list[str], **popen):
        fd, self.report = tempfile.mkstemp(prefix="crash-server-", suffix=".json")
        os.close(fd)
        env = {k: v for k, v in os.environ.items() if k not in (faults.ENV, STATES_ENV, fstrace.ENV)}
        env.update({REPORT_ENV: self.report, "WIKISMITH_FSYNC": "off",
                    "PYTHONPATH": REPO + os.pathsep + env.get("PYTHONPATH", "")})
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
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.serverproc", "--kb", root, *args], cwd=REPO,
                                     env=env, stderr=subprocess.DEVNULL, **popen)

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
    server = Server(root, ["mcp", *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
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
