"""`wikismith mcp` end to end: the SDK's own client talks to the server in a subprocess (stdio, and streamable
HTTP), on a KB built from the shared corpus. Every tool is called; names outside the wiki, writes without
--allow-writes, paths outside --allow-root and private URLs are refused; a write is a command in `history`."""

from __future__ import annotations

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("mcp")

from mcpclient import error, http_server, result, session  # noqa: E402
from wikicheck import CORPUS, cli  # noqa: E402

READ_TOOLS = {"search", "read_page", "list_pages", "read_source", "query", "status", "history"}
DOCS = [CORPUS / "peps" / "pep-0484.rst", CORPUS / "peps" / "pep-0526.rst", CORPUS / "peps" / "pep-3107.rst",
        CORPUS / "pdf" / "pdflatex-outline.pdf"]


@pytest.fixture(scope="module")
def corpus_kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcp") / "kb"
    code, _, err = cli("init", root)
    assert code == 0, err
    code, _, err = cli("add", *DOCS, kb=root)
    assert code == 0, err
    return root


@pytest.fixture
def kb(corpus_kb, tmp_path):
    """A copy of the corpus KB that a test may change."""
    root = tmp_path / "kb"
    shutil.copytree(corpus_kb, root)
    return root


def _status(root) -> dict:
    code, out, err = cli("status", "--json", kb=root)
    assert code == 0, err
    return json.loads(out)


def test_read_only_server_lists_its_tools_with_read_only_hints_and_refuses_writes(corpus_kb):
    async def script(client):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        refused = await client.call_tool("add", {"source": str(CORPUS / "peps" / "pep-0604.rst")})
        gone = await client.call_tool("remove", {"document": "pep-0484"})
        return tools, refused, gone

    before = _status(corpus_kb)
    tools, refused, gone = session(corpus_kb)(script)
    assert set(tools) == READ_TOOLS
    assert all(t.annotations.read_only_hint and not t.annotations.destructive_hint for t in tools.values())
    assert "add" in error(refused) and "remove" in error(gone)
    assert _status(corpus_kb) == before


def test_every_read_tool_answers_from_the_wiki(corpus_kb):
    async def script(client):
        found = result(await client.call_tool("search", {"query": "variable annotations", "limit": 5}))
        page = found["hits"][0]["page"]
        read = result(await client.call_tool("read_page", {"page": page[len("wiki/"):-len(".md")]}))
        first = result(await client.call_tool("list_pages", {"kind": "concept", "limit": 3}))
        second = result(await client.call_tool("list_pages", {"kind": "concept", "offset": 3, "limit": 3}))
        pages = result(await client.call_tool("read_source", {"document": "pdflatex-outline", "first_page": 2,
                                                              "last_page": 3}))
        answer = result(await client.call_tool("query", {"question": "What are function annotations?"}))
        status = result(await client.call_tool("status", {}))
        history = result(await client.call_tool("history", {"limit": 5}))
        resource = await client.read_resource(f"wikismith://page/{first['pages'][0]['page'][len('wiki/'):]}")
        index = await client.read_resource("wikismith://index")
        return found, read, first, second, pages, answer, status, history, resource, index

    found, read, first, second, pages, answer, status, history, resource, index = session(corpus_kb)(script)
    # search: snippets, never whole pages
    assert found["hits"] and all("text" not in h and len(h["snippet"]) < 1000 for h in found["hits"])
    assert any("pep-0526" in h["page"] for h in found["hits"])
    assert read["text"].startswith("---") and read["page"] == found["hits"][0]["page"]
    # list_pages: by kind, in slices that follow on
    assert len(first["pages"]) == 3 and first["next_offset"] == 3 and first["total"] > 6
    assert not {p["page"] for p in first["pages"]} & {p["page"] for p in second["pages"]}
    assert all(p["page"].startswith("wiki/concepts/") for p in first["pages"] + second["pages"])
    # read_source: exactly the pages asked for
    assert "<!-- page 2 -->" in pages["text"] and "<!-- page 3 -->" in pages["text"]
    assert "<!-- page 4 -->" not in pages["text"] and pages["pages_total"] == 4
    assert answer["found"] and any("pep-3107" in s["page"] for s in answer["sources"])
    assert status["documents"] == 4 and status["dirty"] is False
    assert history["commands"][0]["label"] == "add"
    assert resource.contents[0].text.startswith("---")
    assert "# Index" in index.contents[0].text


def test_names_outside_the_wiki_are_refused(kb, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("the secret\n")
    os.makedirs(kb / "wiki" / "index", exist_ok=True)
    os.symlink(secret, kb / "wiki" / "index" / "leak.md")  # a link inside the wiki to a file outside it

    async def script(client):
        calls = [await client.call_tool("read_page", {"page": name}) for name in
                 ("../../etc/passwd", "/etc/passwd", "wiki/../.wikismith/config.toml", "../.wikismith/kb.sqlite3",
                  "index/leak.md", "concepts/no-such-page")]
        calls.append(await client.call_tool("read_source", {"document": "../../etc/passwd", "first_page": 1,
                                                            "last_page": 1}))
        calls.append(await client.call_tool("list_pages", {"kind": "../etc"}))
        resources = []
        for uri in ("wikismith://page/..%2F..%2Fetc%2Fpasswd", "wikismith://page/../../etc/passwd",
                    "wikismith://page/index/leak.md"):
            try:
                resources.append(await client.read_resource(uri))
            except Exception as exc:  # the SDK raises the server's error
                resources.append(exc)
        return calls, resources

    calls, resources = session(kb)(script)
    texts = [error(c) for c in calls]
    assert all("root:" not in t and "the secret" not in t for t in texts)
    assert sum("not a page of this wiki" in t for t in texts) >= 6
    assert all(isinstance(r, Exception) for r in resources), resources


def _site(body: bytes):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_writes_are_transactions_in_history_and_stay_inside_the_allowed_roots(kb, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(CORPUS / "peps" / "pep-0604.rst", inbox / "pep-0604.rst")
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "id_rsa.md").write_text("PRIVATE KEY material\n")
    os.symlink(outside / "id_rsa.md", inbox / "innocent.md")  # inside the root by name, outside by target
    site = _site(b"an intranet page that must not be fetched\n")
    url = f"http://127.0.0.1:{site.server_address[1]}/page.txt"

    async def script(client):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        added = result(await client.call_tool("add", {"source": str(inbox / "pep-0604.rst")}))
        found = result(await client.call_tool("search", {"query": "union types X | Y"}))
        refusals = [await client.call_tool("add", {"source": source}) for source in
                    (str(outside / "id_rsa.md"), str(inbox / "innocent.md"), "~/.ssh/id_rsa",
                     f"{inbox}/../private/id_rsa.md", "file:///etc/passwd", "relative.md", url)]
        plan = result(await client.call_tool("remove", {"document": "pep-3107", "dry_run": True}))
        removed = result(await client.call_tool("remove", {"document": "pep-3107"}))
        history = result(await client.call_tool("history", {"limit": 10}))
        return tools, added, found, refusals, plan, removed, history

    try:
        tools, added, found, refusals, plan, removed, history = session(
            kb, "--allow-writes", "--allow-root", str(inbox))(script)
    finally:
        site.shutdown()
        site.server_close()
    assert set(tools) == READ_TOOLS | {"add", "remove"}
    assert tools["remove"].annotations.destructive_hint and not tools["remove"].annotations.read_only_hint
    assert tools["add"].annotations.read_only_hint is False and tools["add"].annotations.destructive_hint is False
    assert added["counts"]["added"] == 1
    assert any("pep-0604" in h["page"] for h in found["hits"])
    texts = [error(r) for r in refusals]
    assert all("PRIVATE KEY" not in t for t in texts)
    assert sum("outside the allowed roots" in t for t in texts) == 4
    assert "loopback" in texts[-1] or "private" in texts[-1]
    assert plan["dry_run"] and removed["removed"] == ["pep-3107"]
    # each write is one command in the history, recorded as the MCP call that made it
    latest = history["commands"][:2]
    assert [c["label"] for c in latest] == ["remove", "add"]
    assert latest[0]["argv"] == ["mcp", "remove", "pep-3107"]
    assert latest[1]["argv"] == ["mcp", "add", str(inbox / "pep-0604.rst")]
    status = _status(kb)
    assert status["documents"] == 4 and status["pending_transactions"] == [] and not status["dirty"]
    code, out, _ = cli("list", "--json", kb=kb)
    assert "private" not in out and "intranet" not in out


def test_streamable_http_serves_the_tools_and_checks_host_and_origin(kb):
    import anyio
    import httpx2
    from mcp import Client

    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    with http_server(kb) as (url, _proc):
        async def script():
            async with Client(url) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
                hits = result(await client.call_tool("search", {"query": "function annotations"}))
                return tools, hits

        tools, hits = anyio.run(script)
        port = url.split(":")[2].split("/")[0]
        rebound = httpx2.post(url, json=init, headers={**headers, "Host": f"evil.example:{port}"})
        foreign = httpx2.post(url, json=init, headers={**headers, "Origin": "http://evil.example"})
        own = httpx2.post(url, json=init, headers={**headers, "Origin": f"http://127.0.0.1:{port}"})
    assert tools == READ_TOOLS
    assert any("pep-3107" in h["page"] for h in hits["hits"])
    assert rebound.status_code == 421
    assert foreign.status_code == 403
    assert own.status_code == 200


def test_unsafe_command_lines_are_refused_before_serving(corpus_kb, tmp_path):
    code, _, err = cli("mcp", "--http", "--host", "0.0.0.0", kb=corpus_kb)
    assert code == 2 and "no authentication" in err
    code, _, err = cli("mcp", "--allow-root", str(tmp_path), kb=corpus_kb)
    assert code == 2 and "--allow-writes" in err
