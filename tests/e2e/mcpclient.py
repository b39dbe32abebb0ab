"""Driving `wikismith mcp` with the SDK's own client, in a subprocess: over stdio, or over streamable HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time

import anyio

from conftest import EPOCH

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def server_env(extra: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
    env.update({"SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": REPO + os.pathsep + env.get("PYTHONPATH", "")})
    env.update(extra or {})
    return env


def stdio(kb, *flags: str):
    """A Client for `python -m wikismith --kb KB mcp FLAGS`, launched by the SDK over stdio."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "wikismith", "--kb", str(kb), "mcp", *flags],
                                   env=server_env())
    return Client(params, read_timeout_seconds=120)


def session(kb, *flags: str):
    """Run `script(client)` (an async function) against a stdio server; returns what it returns."""
    def run(script):
        async def main():
            async with stdio(kb, *flags) as client:
                return await script(client)
        return anyio.run(main)
    return run


def result(call) -> dict:
    """A tool's structured result; fails the test, with the tool's message, when the call was an error."""
    assert not call.is_error, call.content[0].text if call.content else call
    return call.structured_content


def error(call) -> str:
    assert call.is_error, f"expected an error, got {call.structured_content}"
    return call.content[0].text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(kb, *flags: str, port: int | None = None):
    """`wikismith mcp --http` in a subprocess; yields its /mcp URL once it accepts connections."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", str(kb), "mcp", "--http", "--port",
                             str(port), *flags], env=server_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def as_json(value) -> str:
    return json.dumps(value, sort_keys=True)
