"""`wikismith serve`: every REST endpoint and error, through a real server process on 127.0.0.1 and a real HTTP
client, on a KB built from shared-corpus files (issue 12)."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import threading
import urllib.parse

import pytest

from servekit import Server
from wikicheck import CORPUS, cli, listing, structural_problems

PEPS = ("pep-0484.rst", "pep-0544.rst", "pep-0604.rst")


def build_kb(root, *names):
    kb, docs = root / "kb", root / "docs"
    docs.mkdir()
    for name in names:
        shutil.copyfile(CORPUS / "peps" / name, docs / name)
    assert cli("init", kb)[0] == 0
    code, _, err = cli("add", docs, kb=kb, timeout=300)
    assert code == 0, err
    return kb


@pytest.fixture(scope="module")
def peps(tmp_path_factory):
    """A server on a KB of three typing PEPs (module-wide: the tests below only read, or undo what they change)."""
    kb = build_kb(tmp_path_factory.mktemp("serve"), *PEPS)
    server = Server(kb)
    yield server, kb
    assert "Traceback" not in server.stop()


def cli_json(*args, kb):
    code, out, err = cli(*args, "--json", kb=kb)
    return json.loads(out)


# -- reading ------------------------------------------------------------------------------------------------------

def test_reads_answer_the_same_dicts_as_the_cli(peps):
    server, kb = peps
    assert server.json("GET", "/api/v1/status") == (200, cli_json("status", kb=kb))
    assert server.json("GET", "/api/v1/documents") == (200, cli_json("list", kb=kb))
    status, pages = server.json("GET", "/api/v1/pages")
    assert status == 200 and pages["pages"] == cli_json("list", "--pages", kb=kb)["pages"]
    status, found = server.json("GET", "/api/v1/search?q=structural+subtyping&limit=3")
    assert status == 200 and found == cli_json("search", "structural subtyping", "--limit", "3", kb=kb)
    assert server.json("GET", "/api/v1/history?limit=5") == (200, cli_json("history", "--limit", "5", kb=kb))
    status, concepts = server.json("GET", "/api/v1/pages?kind=concept")
    assert status == 200 and list(concepts["pages"]) == ["concept"]


def test_search_answers_at_most_limit_hits_best_first_one_per_page_each_with_its_match(peps):
    server, _ = peps
    status, ten = server.json("GET", "/api/v1/search?q=type+checker+protocol&limit=10")
    hits = ten["hits"]
    assert status == 200 and ten["index"] == "words" and 3 <= len(hits) <= 10
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len({h["page"] for h in hits}) == len(hits)
    assert all("**" in h["snippet"] for h in hits), hits
    for limit in (1, 3):  # a smaller limit is the head of the same ranking
        assert server.json("GET", f"/api/v1/search?q=type+checker+protocol&limit={limit}")[1]["hits"] == hits[:limit]
    status, summaries = server.json("GET", "/api/v1/search?q=type+checker+protocol&kind=summary")
    assert status == 200 and summaries["hits"] and {h["kind"] for h in summaries["hits"]} == {"summary"}
    status, pieces = server.json("GET", "/api/v1/search?q=ubtypin")  # no such word: the trigram index answers
    assert status == 200 and pieces["index"] == "trigram" and "**" in pieces["hits"][0]["snippet"]


def test_a_page_comes_with_markdown_rendered_html_backlinks_and_outline(peps):
    server, _ = peps
    status, page = server.json("GET", "/api/v1/pages/summaries/pep-0544")
    assert status == 200
    assert page["path"] == "wiki/summaries/pep-0544.md" and page["kind"] == "summary"
    assert page["markdown"].startswith("---\n") and "[[concepts/" in page["markdown"]
    assert '<a href="#/page/concepts/' in page["html"] and "[[" not in page["html"]
    assert "<!--" not in page["html"] and "type: summary" not in page["html"]
    assert page["outline"][0]["level"] == 1
    concept = page["links"][0]
    status, linked = server.json("GET", f"/api/v1/pages/{concept}")
    assert status == 200
    assert "wiki/summaries/pep-0544.md" in [b["path"] for b in linked["backlinks"]]
    # the same page by its path, and the wiki's own files (index.md) that are not registered pages
    assert server.json("GET", "/api/v1/pages/wiki/summaries/pep-0544.md")[1]["markdown"] == page["markdown"]
    status, index = server.json("GET", "/api/v1/pages/index")
    assert status == 200 and index["kind"] == "file" and "[[summaries/pep-0544" in index["markdown"]


def test_only_pages_inside_the_wiki_are_ever_served(peps, tmp_path):
    server, kb = peps
    outside = tmp_path / "secret.md"
    outside.write_text("# secret\n\nthe password is hunter2\n", encoding="utf-8")
    link = kb / "wiki" / "concepts" / "escape.md"
    os.symlink(outside, link)
    try:
        for path in ("/api/v1/pages/../../etc/passwd", "/api/v1/pages/%2e%2e/%2e%2e/etc/passwd",
                     "/api/v1/pages/wiki/..%2f..%2fetc%2fpasswd", "/api/v1/pages//etc/passwd",
                     "/api/v1/pages/concepts/escape", "/api/v1/pages/..%5c..%5cetc%5cpasswd",
                     "/api/v1/pages/.wikismith/config.toml", "/api/v1/pages/raw/pep-0484.rst"):
            status, _, raw = server.request("GET", path)
            assert status == 404, (path, raw)
            assert b"hunter2" not in raw and b"root:" not in raw
            assert json.loads(raw)["code"] in ("page_not_found", "not_found")
    finally:
        link.unlink()


def test_the_graph_is_a_bounded_neighbourhood_or_the_hubs(peps):
    server, _ = peps
    status, graph = server.json("GET", "/api/v1/graph?page=summaries/pep-0544&depth=2&limit=15")
    assert status == 200 and graph["center"] == "wiki/summaries/pep-0544.md"
    assert 1 < len(graph["nodes"]) <= 15 and graph["truncated"]
    members = {n["path"] for n in graph["nodes"]}
    assert all(a in members and b in members for a, b in graph["edges"]) and graph["edges"]
    status, hubs = server.json("GET", "/api/v1/graph?limit=10")
    assert status == 200 and hubs["center"] is None and 0 < len(hubs["nodes"]) <= 10
    assert hubs["total_pages"] == sum(server.json("GET", "/api/v1/status")[1]["pages"].values())
    assert server.json("GET", "/api/v1/graph?page=concepts/no-such-page")[0] == 404


def test_query_streams_passages_tokens_sources_then_done_with_a_cited_answer(peps):
    server, kb = peps
    got = server.stream("/api/v1/query?q=" + "What+is+structural+subtyping%3F")
    names = [e for e, _ in got]
    assert names[0] == "passages" and names[-2:] == ["sources", "done"] and "tokens" in names
    assert names.index("tokens") < names.index("sources")
    done = got[-1][1]
    expected = cli_json("query", "What is structural subtyping?", kb=kb)
    assert {k: done[k] for k in expected} == expected
    assert done["found"] and done["sources"] and "[[" in done["answer"]
    assert "".join(d["text"] for e, d in got if e == "tokens") == done["answer"]
    assert '<a href="#/page/' in done["html"]
    assert got[0][1] and all("snippet" in hit for hit in got[0][1])


def test_read_only_lint_and_plans_change_nothing(peps):
    server, kb = peps
    before = listing(kb)
    status, lint = server.json("GET", "/api/v1/lint")
    assert status == 200 and lint == cli_json("lint", "--no-llm", kb=kb)
    status, plan = server.json("GET", "/api/v1/documents/pep-0604/removal")
    assert status == 200 and plan["dry_run"] and plan["removed"] == []
    assert plan["documents"][0]["id"] == "pep-0604" and plan["documents"][0]["pages_deleted"]
    status, undo = server.json("GET", "/api/v1/undo/plan")
    assert status == 200 and undo["dry_run"] and not undo["undone"]
    assert listing(kb) == before


# -- changing -----------------------------------------------------------------------------------------------------

def test_upload_add_reupload_remove_and_undo_each_one_transaction(peps):
    server, kb = peps
    text = b"# Borrow notes\n\nThe borrow checker enforces ownership rules in Rust programs at compile time.\n"
    status, got = server.upload("borrow-notes.md", text, stream=True)
    assert status == 200
    phases = [d["phase"] for e, d in got if e == "progress"]
    assert phases[0] == "reading" and "writing" in phases and got[-1][0] == "done"
    added = got[-1][1]["files"][0]
    assert added["status"] == "added" and added["path"] == "borrow-notes.md"
    doc = added["id"]
    assert doc in [d["id"] for d in listing(kb)["documents"]]
    assert server.json("GET", f"/api/v1/pages/summaries/{doc}")[0] == 200
    # the same name again, new content: the same document, updated (as re-adding from the same path)
    status, again = server.upload("borrow-notes.md", text + b"\nLifetimes tie references to scopes.\n")
    assert status == 200 and again["files"][0]["status"] == "updated" and again["files"][0]["id"] == doc
    assert [d["id"] for d in listing(kb)["documents"]].count(doc) == 1
    # the same bytes under another name are skipped, as add skips them
    status, same = server.upload("copy.md", text + b"\nLifetimes tie references to scopes.\n")
    assert status == 200 and same["files"][0]["status"] == "skipped"
    history = cli_json("history", kb=kb)["commands"]
    assert history[0]["argv"][:2] == ["web", "add"] and history[0]["documents"] == [doc]
    # remove, with the plan first, then undo brings it back
    status, removed = server.json("DELETE", f"/api/v1/documents/{doc}")
    assert status == 200 and removed["removed"] == [doc]
    assert doc not in [d["id"] for d in listing(kb)["documents"]]
    assert server.json("GET", f"/api/v1/pages/summaries/{doc}")[0] == 404
    status, undone = server.json("POST", "/api/v1/undo", {})
    assert status == 200 and undone["undone"] and undone["plan"]["documents"] == [doc]
    assert doc in [d["id"] for d in listing(kb)["documents"]]
    status, removed = server.json("DELETE", f"/api/v1/documents/{doc}")
    assert status == 200
    assert structural_problems(kb) == []
    assert not os.listdir(kb / ".wikismith" / "downloads")


def test_a_document_with_script_is_shown_as_text_never_run(peps):
    server, kb = peps
    hostile = b"# Hostile\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n"
    status, got = server.upload("hostile-html.md", hostile)
    assert status == 200, got
    doc = got["files"][0]["id"]
    try:
        html = server.json("GET", f"/api/v1/pages/sources/{doc}")[1]["html"]
        assert "<script" not in html and "<img" not in html and 'href="javascript:' not in html
        assert "&lt;script&gt;" in html
    finally:
        assert server.json("DELETE", f"/api/v1/documents/{doc}")[0] == 200


def test_add_by_url_goes_through_the_same_guard_and_lands_a_document(peps, tmp_path):
    server, kb = peps
    status, refused = server.json("POST", "/api/v1/documents", {"urls": ["http://127.0.0.1:9/private.md"]})
    assert status == 422 and refused["code"] == "add_failed" and refused["files"][0]["status"] == "failed"
    assert "private" in refused["message"] or "loopback" in refused["message"]
    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(CORPUS / "web" / "test_blog.html", site / "blog.html")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(site))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    assert cli("config", "set", "allow_private", "true", kb=kb)[0] == 0
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/blog.html"
        status, got = server.json("POST", "/api/v1/documents", {"urls": [url]})
        assert status == 200 and got["files"][0]["status"] == "added", got
        assert server.json("DELETE", f"/api/v1/documents/{got['files'][0]['id']}")[0] == 200
    finally:
        httpd.shutdown()
        assert cli("config", "set", "allow_private", "false", kb=kb)[0] == 0


def test_readers_never_see_a_half_added_document_while_uploads_land(peps):
    """Pages only appear while documents are added, so every page an earlier listing named must still read whole,
    and every response is a success, whatever the writer is doing meanwhile."""
    server, kb = peps
    chapters = ["ch04-02-references-and-borrowing.md", "ch08-01-vectors.md", "ch15-01-box.md"]
    failures: list[str] = []
    done = threading.Event()

    def reader() -> None:
        seen: list[str] = []
        try:
            while not done.is_set():
                status, listed = server.json("GET", "/api/v1/pages")
                if status != 200:
                    failures.append(f"pages: {status}")
                seen = sorted({p["path"] for rows in listed["pages"].values() for p in rows} | set(seen))
                for path in seen[:: max(1, len(seen) // 15)]:  # names such as "Łukasz Langa" go percent-encoded
                    status, page = server.json("GET", f"/api/v1/pages/{urllib.parse.quote(path)}")
                    if status != 200 or not page["markdown"].startswith("---\n"):
                        failures.append(f"{path}: {status}")
                if server.json("GET", "/api/v1/search?q=borrow+ownership")[0] != 200:
                    failures.append("search")
        except Exception as exc:  # a reader that dies reads nothing more: a failure of the test, not a warning
            failures.append(f"reader died: {exc!r}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for name in chapters:
            status, got = server.upload(name, (CORPUS / "book" / name).read_bytes())
            assert status == 200 and got["files"][0]["status"] == "added", got
    finally:
        done.set()
        for t in threads:
            t.join()
    assert failures == []
    for name in chapters:
        assert server.json("DELETE", f"/api/v1/documents/{name[:-3]}")[0] == 200
    assert structural_problems(kb) == []


def test_recompile_and_lint_fix_are_transactions(peps):
    server, kb = peps
    before = listing(kb)
    status, report = server.json("POST", "/api/v1/recompile", {"documents": ["pep-0604"]})
    assert status == 200 and [d["id"] for d in report["documents"]] == ["pep-0604"]
    assert listing(kb) == before  # an up-to-date document recompiles to itself
    status, fixed = server.json("POST", "/api/v1/lint", {"fix": True})
    assert status == 200 and "fixed" in fixed and "findings" in fixed
    assert server.json("POST", "/api/v1/recompile", {})[1]["code"] == "invalid_request"


# -- errors -------------------------------------------------------------------------------------------------------

def test_errors_are_json_with_a_stable_code_and_status_never_a_traceback(peps):
    server, _ = peps
    cases = [
        (("DELETE", "/api/v1/documents/no-such-document"), 400, "usage_error"),
        (("GET", "/api/v1/documents/no-such-document/removal"), 400, "usage_error"),
        (("GET", "/api/v1/pages/concepts/no-such-page"), 404, "page_not_found"),
        (("GET", "/api/v1/search"), 422, "invalid_request"),
        (("GET", "/api/v1/search?q=x&kind=nonsense"), 422, "invalid_request"),
        (("GET", "/api/v1/nothing-here"), 404, "not_found"),
        (("PUT", "/api/v1/status"), 405, "method_not_allowed"),
        (("POST", "/api/v1/undo", b"{not json", {"Content-Type": "application/json"}), 422, "invalid_request"),
        (("POST", "/api/v1/documents", b"x", {"Content-Type": "text/plain"}), 415, "unsupported_media_type"),
        (("POST", "/api/v1/undo", b'{"id": 99999}', {"Content-Type": "application/json"}), 409, "undo_refused"),
    ]
    for (method, path, *rest), want_status, want_code in cases:
        body, headers = (rest + [None, None])[:2]
        status, response_headers, raw = server.request(method, path, body, headers)
        assert response_headers["content-type"] == "application/json", (path, raw)
        got = json.loads(raw)
        assert (status, got["code"]) == (want_status, want_code), (method, path, got)
        assert got["message"] and "Traceback" not in got["message"]


def test_dns_rebinding_cross_site_writes_and_oversized_uploads_are_refused(peps):
    server, kb = peps
    for path in ("/api/v1/status", "/", "/api/openapi.json", "/static/app.js"):
        status, _, raw = server.request("GET", path, headers={"Host": "attacker.example:80"})
        assert status == 421 and json.loads(raw)["code"] == "bad_host"
    assert server.request("GET", "/api/v1/status", headers={"Host": f"localhost:{server.port}"})[0] == 200
    before = listing(kb)
    status, got = server.json("DELETE", "/api/v1/documents/pep-0604", headers={"Origin": "http://evil.example"})
    assert status == 403 and got["code"] == "bad_origin"
    status, got = server.json("DELETE", "/api/v1/documents/pep-0604", origin=False)
    assert status == 403 and got["code"] == "bad_origin"
    status, got = server.upload("a.md", b"# a\n\nsome text here\n", headers={"Origin": "null"})
    assert status == 403 and got["code"] == "bad_origin"
    assert listing(kb) == before


def test_an_upload_over_the_file_limit_is_refused_before_it_is_read(tmp_path):
    kb = build_kb(tmp_path, "pep-0604.rst")
    assert cli("config", "set", "max_file_mb", "1", kb=kb)[0] == 0
    server = Server(kb)
    try:
        before = listing(kb)
        status, got = server.upload("big.md", b"# big\n\n" + b"word " * 300_000)
        assert status == 413 and got["code"] == "too_large"
        status, got = server.upload("over.md", b"# over\n\n" + b"word " * 212_000)  # under the body cap
        assert status == 422 and got["code"] == "add_failed" and "max_file_mb" in got["message"]
        status, got = server.upload("fits.md", b"# fits\n\n" + b"word " * 50_000)
        assert status == 200 and got["files"][0]["status"] == "added"
        assert sorted(d["id"] for d in listing(kb)["documents"]) == ["fits", *[d["id"] for d in before["documents"]]]
    finally:
        server.stop()


def test_read_only_refuses_every_change_but_reads_and_lint_work_and_a_configured_name_is_a_host(tmp_path):
    kb = build_kb(tmp_path, "pep-0604.rst")
    server = Server(kb, "--read-only", "--allow-host", "wiki.example")
    try:
        before = listing(kb)
        assert server.json("GET", "/api/v1/status")[0] == 200
        assert server.request("GET", "/api/v1/status", headers={"Host": f"wiki.example:{server.port}"})[0] == 200
        assert server.request("GET", "/api/v1/status", headers={"Host": f"other.example:{server.port}"})[0] == 421
        assert server.json("GET", "/api/v1/lint")[0] == 200
        assert server.stream("/api/v1/query?q=union+types")[-1][0] == "done"
        for method, path, payload in (("DELETE", "/api/v1/documents/pep-0604", None), ("POST", "/api/v1/undo", {}),
                                      ("POST", "/api/v1/lint", {"fix": True}),
                                      ("POST", "/api/v1/recompile", {"all": True})):
            status, got = server.json(method, path, payload)
            assert (status, got["code"]) == (403, "read_only"), path
        assert server.upload("x.md", b"# x\n\nnew text\n")[1]["code"] == "read_only"
        assert listing(kb) == before
    finally:
        server.stop()


def test_a_token_is_needed_on_every_request_and_a_browser_gets_it_once(tmp_path):
    kb = build_kb(tmp_path, "pep-0604.rst")
    server = Server(kb, "--token", "s3cret-token")
    try:
        status, _, raw = server.request("GET", "/api/v1/status", token=False)
        assert status == 401 and json.loads(raw)["code"] == "unauthorized"
        status, _, _ = server.request("GET", "/api/v1/status", headers={"Authorization": "Bearer wrong"})
        assert status == 401
        assert server.request("GET", "/api/v1/status")[0] == 200
        status, headers, _ = server.request("GET", "/?token=s3cret-token", token=False)
        assert status == 303 and "wikismith_token=s3cret-token" in headers["set-cookie"]
        assert "httponly" in headers["set-cookie"].lower() and "samesite=strict" in headers["set-cookie"].lower()
        cookie = {"Cookie": "wikismith_token=s3cret-token"}
        assert server.request("GET", "/api/v1/status", headers=cookie, token=False)[0] == 200
        # a script with the token in a header needs no Origin; a cookie alone does not carry a write
        status, got = server.upload("t.md", b"# t\n\ntoken text here\n", origin=False)
        assert status == 200 and got["files"][0]["status"] == "added"
        status, got = server.json("DELETE", "/api/v1/documents/t", origin=False, token=False, headers=cookie)
        assert status == 403 and got["code"] == "bad_origin"
    finally:
        server.stop()


def test_a_host_other_than_loopback_needs_a_token(tmp_path, run_cli):
    kb = build_kb(tmp_path, "pep-0604.rst")
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--port", "7799", kb=kb, timeout=30)
    assert code == 2 and "--token" in err


def test_openapi_schema_docs_and_ui_are_served_from_the_package(peps):
    server, _ = peps
    status, schema = server.json("GET", "/api/openapi.json")
    assert status == 200
    for path in ("/api/v1/status", "/api/v1/documents", "/api/v1/pages/{name}", "/api/v1/search", "/api/v1/query",
                 "/api/v1/documents/{doc}", "/api/v1/recompile", "/api/v1/lint", "/api/v1/history", "/api/v1/undo",
                 "/api/v1/graph"):
        assert path in schema["paths"], path
    status, _, docs = server.request("GET", "/api/docs")
    assert status == 200 and b"/api/docs-static/swagger-ui-bundle.js" in docs and b"cdn" not in docs.lower()
    assert server.request("GET", "/api/docs-static/swagger-ui-bundle.js")[0] == 200
    status, headers, page = server.request("GET", "/")
    assert status == 200 and b"/static/app.js" in page
    assert "script-src 'self'" in headers["content-security-policy"]
    for name in ("app.js", "app.css", "index.html"):
        status, _, raw = server.request("GET", f"/static/{name}")
        assert status == 200 and not re.search(rb"(src|href)=[\"']?(https?:)?//|@import|url\(", raw), name
    assert server.request("GET", "/static/../app.py")[0] == 404
