"""`add URL` and `add --from-pageindex-cloud`, end to end through the CLI, against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fakes.pageindex_server import FakePageIndex
from wikicheck import CORPUS, add, listing, structural_problems
from wikismith.store import snapshot

BIG = b"word " * (300 * 1024)  # 1.5 MB, over a 1 MB cap


class _Site(BaseHTTPRequestHandler):
    routes: dict = {}
    hits: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        _Site.hits[self.path] = _Site.hits.get(self.path, 0) + 1
        route = _Site.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, headers, body = route
        if body == "stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            time.sleep(4)
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def site():
    _Site.routes = {
        "/article.html": (200, {"Content-Type": "text/html"}, (CORPUS / "web" / "test_blog.html").read_bytes()),
        "/paper": (200, {"Content-Type": "application/octet-stream"}, (CORPUS / "pdf" / "pdflatex-outline.pdf").read_bytes()),
        "/notes.txt": (200, {"Content-Type": "text/plain"}, (CORPUS / "peps" / "pep-0604.rst").read_bytes()),
        "/r1": (302, {"Location": "/r2"}, b""), "/r2": (302, {"Location": "/r3"}, b""),
        "/r3": (302, {"Location": "/article.html"}, b""),
        "/big.txt": (200, {"Content-Type": "text/plain"}, BIG),
        "/stall": (200, {}, "stall"),
        "/blank.html": (200, {"Content-Type": "text/html"}, b"<html><body><div></div></body></html>"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _add(kb, *urls, private=True, extra=()):
    return add(kb, *urls, extra=(("--allow-private",) if private else ()) + tuple(extra), timeout=120)


def test_an_article_a_pdf_and_text_land_with_their_origin_and_nothing_left_in_downloads(tmp_kb, site, run_cli):
    urls = [f"{site}/article.html", f"{site}/paper", f"{site}/notes.txt", f"{site}/r1"]
    code, report, err = _add(tmp_kb, *urls)
    assert code == 0, err
    statuses = [f["status"] for f in report["files"]]
    assert statuses == ["added", "added", "added", "skipped"], report  # /r1 ends at the article: same content
    docs = {d["origin"]: d for d in listing(tmp_kb)["documents"]}
    assert set(docs) == set(urls[:3])
    assert docs[f"{site}/paper"]["kind"] == "pdf" and docs[f"{site}/article.html"]["kind"] == "html"
    for doc in docs.values():
        assert (tmp_kb / doc["raw_path"]).is_file()
        assert f'origin: "{doc["origin"]}"' in (tmp_kb / "wiki" / "summaries" / f"{doc['id']}.md").read_text()
    assert not any((tmp_kb / ".wikismith" / "downloads").iterdir())
    assert run_cli("doctor", kb=tmp_kb)[0] == 0 and structural_problems(tmp_kb) == []


def test_loopback_is_refused_without_allow_private_by_address_and_by_name(tmp_kb, site):
    before = snapshot.state(str(tmp_kb))
    port = site.rsplit(":", 1)[1]
    for url in (f"{site}/article.html", f"http://localhost:{port}/article.html"):
        code, report, _ = _add(tmp_kb, url, private=False)
        assert code == 1
        detail = report["files"][0]["detail"]
        assert "--allow-private" in detail and "\n" not in detail
    assert snapshot.state(str(tmp_kb)) == before


@pytest.mark.parametrize("path,reason", [("/missing", "404"), ("/big.txt", "limit"), ("/stall", "")])
def test_failed_downloads_change_nothing(tmp_kb, site, run_cli, path, reason):
    assert run_cli("config", "set", "max_download_mb", "1", kb=tmp_kb)[0] == 0
    assert run_cli("config", "set", "fetch_timeout", "1", kb=tmp_kb)[0] == 0
    before = snapshot.state(str(tmp_kb))
    started = time.monotonic()
    code, report, _ = _add(tmp_kb, f"{site}{path}")
    assert code == 1 and time.monotonic() - started < 30
    assert report["files"][0]["status"] == "failed" and reason in report["files"][0]["detail"]
    assert snapshot.state(str(tmp_kb)) == before
    assert not any((tmp_kb / "raw").iterdir())


def test_other_schemes_are_refused_with_their_name(tmp_kb):
    for url in ("file:///etc/passwd", "ftp://example.org/x", "data:text/plain,hello"):
        code, report, _ = _add(tmp_kb, url)
        assert code == 1 and url.split(":")[0] in report["files"][0]["detail"]


def test_a_failed_add_keeps_the_download_and_a_retry_reuses_it(tmp_kb, site, run_cli):
    url = f"{site}/blank.html"
    hits = _Site.hits.get("/blank.html", 0)
    before = snapshot.state(str(tmp_kb))
    for _ in range(2):
        code, report, _ = _add(tmp_kb, url)
        assert code == 1 and report["files"][0]["status"] == "failed"
    assert _Site.hits["/blank.html"] == hits + 1, "the retry fetched again instead of reusing the download"
    assert snapshot.state(str(tmp_kb)) == before
    code, out, _ = run_cli("doctor", "--json", kb=tmp_kb)
    assert code == 0 and any("kept download" in note for note in json.loads(out)["notes"])
    assert any(url in note for note in json.loads(out)["notes"]), "a kept download names the URL it came from"
    code, out, _ = run_cli("doctor", "--clear-downloads", kb=tmp_kb)
    assert "removed kept download" in out and not any((tmp_kb / ".wikismith" / "downloads").iterdir())


# -- PageIndex Cloud ------------------------------------------------------------------------------------------------

PAGES = [f"Page {i} of the annual report. Revenue grew in quarter {i}. The board met twice." for i in range(1, 11)]
TREE = [
    {"title": "Overview", "node_id": "0000", "page_index": 1, "prefix_summary": "What the year was like.", "nodes": []},
    {"title": "Finances", "node_id": "0001", "page_index": 4, "summary": "Money in and out.", "nodes": [
        {"title": "Revenue", "node_id": "0002", "page_index": 5, "prefix_summary": "Revenue by quarter."}]},
    {"title": "Outlook", "node_id": "0003", "page_index": 8},
]
CLOUD_KEY = "pi-secret-777"


@pytest.fixture
def cloud(tmp_kb, run_cli):
    with FakePageIndex(api_key=CLOUD_KEY) as fake:
        fake.add_document("doc-1", "Annual Report", PAGES, TREE, description="A yearly report.")
        assert run_cli("config", "set", "pageindex_base_url", fake.base_url, kb=tmp_kb)[0] == 0
        yield fake


def _cloud(kb, *ids, key=CLOUD_KEY):
    return add(kb, *ids, extra=("--from-pageindex-cloud",), env={"PAGEINDEX_API_KEY": key}, timeout=120)


def test_a_cloud_document_is_imported_as_a_long_document_without_a_raw_file(tmp_kb, cloud, run_cli):
    code, report, err = _cloud(tmp_kb, "doc-1")
    assert code == 0, err
    (doc,) = listing(tmp_kb)["documents"]
    assert doc["origin"] == "pageindex-cloud:doc-1" and doc["raw_path"] is None
    tree = json.loads((tmp_kb / "wiki" / "sources" / f"{doc['id']}.tree.json").read_text())
    assert [c["title"] for c in tree["children"]] == ["Overview", "Finances", "Outlook"]
    assert [(c["first_page"], c["last_page"]) for c in tree["children"]] == [(1, 3), (4, 7), (8, 10)]
    assert "<!-- page 10 -->" in (tmp_kb / "wiki" / "sources" / f"{doc['id']}.md").read_text()
    assert not any((tmp_kb / "raw").iterdir())
    assert run_cli("doctor", kb=tmp_kb)[0] == 0
    code, report, _ = _cloud(tmp_kb, "doc-1")
    assert code == 0 and report["files"][0]["status"] == "skipped"


@pytest.mark.parametrize("failure,words", [(401, "refused"), (402, "limit"), (404, "no such")])
def test_cloud_errors_are_one_line_and_change_nothing(tmp_kb, cloud, failure, words):
    cloud.fail("doc-1", [failure] * 10)
    before = snapshot.state(str(tmp_kb))
    code, report, err = _cloud(tmp_kb, "doc-1")
    assert code == 1
    detail = report["files"][0]["detail"]
    assert words in detail.lower() and "doc-1" in detail and "\n" not in detail and CLOUD_KEY not in detail + err
    assert snapshot.state(str(tmp_kb)) == before


def test_a_cloud_429_is_retried_and_a_missing_key_is_named(tmp_kb, cloud, run_cli):
    cloud.fail("doc-1", [("retry-after", 429, 0)])
    code, report, err = _cloud(tmp_kb, "doc-1")
    assert code == 0, err
    code, out, err = run_cli("add", "--from-pageindex-cloud", "doc-2", kb=tmp_kb, env={"PAGEINDEX_API_KEY": ""})
    assert code != 0 and "PAGEINDEX_API_KEY" in out + err
