"""A real `wikismith serve` in a subprocess on 127.0.0.1, and a small HTTP client for it (the standard library's,
so that nothing of our own stands between a test and the server)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid

from conftest import EPOCH  # tests/conftest.py: the fixed clock of every test KB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kb, *args: str, env: dict | None = None):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.origin = f"http://{self.host}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
        clean.update({"SOURCE_DATE_EPOCH": EPOCH}, **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", str(kb), "serve", "--port",
                                      str(self.port), *args], env=clean, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.token = args[args.index("--token") + 1] if "--token" in args else None
        self.started = self._wait()

    def _wait(self, timeout: float = 30.0) -> float:
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return time.perf_counter() - began
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("serve did not start")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                *, origin: bool = True, token: bool = True):
        """(status, headers, raw body). Writes carry this server's Origin unless origin=False."""
        sent = {"Host": self.host}
        if origin and method not in ("GET", "HEAD"):
            sent["Origin"] = self.origin
        if token and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in sent.items():
                if value is not None:
                    conn.putheader(key, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, payload=None, **options):
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = options.pop("headers", {}) or {}
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        status, _, raw = self.request(method, path, body, headers, **options)
        return status, json.loads(raw)

    def upload(self, name: str, data: bytes, *, stream: bool = False, **options):
        """POST one file as multipart/form-data; (status, JSON) or, with stream, (status, [(event, data)])."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8") + data + \
            f"\r\n--{boundary}--\r\n".encode("utf-8")
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **options.pop("headers", {})}
        if stream:
            headers["Accept"] = "text/event-stream"
        status, _, raw = self.request("POST", "/api/v1/documents", body, headers, **options)
        return status, (events(raw) if stream and status == 200 else json.loads(raw))

    def stream(self, path: str) -> list[tuple[str, object]]:
        status, headers, raw = self.request("GET", path, headers={"Accept": "text/event-stream"})
        assert status == 200, raw
        assert headers["content-type"].startswith("text/event-stream")
        return events(raw)


def events(raw: bytes) -> list[tuple[str, object]]:
    out = []
    for chunk in raw.decode("utf-8").split("\n\n"):
        if not chunk.strip():
            continue
        fields = dict(line.split(": ", 1) for line in chunk.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out
