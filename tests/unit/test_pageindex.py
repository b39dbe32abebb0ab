"""PageIndex Cloud import: the client against a real HTTP fake on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.fakes.pageindex_server import FakePageIndex
from wikismith.ingest.pageindex import CloudError, PageIndexClient, client_from
from wikismith.ingest.tree import check_tree

KEY = "pi-secret-key-0123456789"
PAGES = [f"Text of page {n}." for n in range(1, 11)]
TREE = [
    {"title": "Intro", "node_id": "0000", "page_index": 2, "prefix_summary": "About the intro.", "nodes": []},
    {"title": "Part A", "node_id": "0001", "page_index": 4, "summary": "Part A in short.", "nodes": [
        {"title": "A.1", "node_id": "0002", "page_index": 5, "prefix_summary": "First of A.", "nodes": []},
        {"title": "A.2", "node_id": "0003", "page_index": 7, "end_index": 7, "nodes": []},
    ]},
    {"title": "Part B", "node_id": "0004", "page_index": 9, "end_index": 10},
]


@pytest.fixture
def fake():
    with FakePageIndex(api_key=KEY) as server:
        server.add_document("doc-1", "Annual Report", PAGES, TREE, description="A yearly report.")
        yield server


def make_client(fake, key=KEY, **options):
    options.setdefault("sleep", lambda seconds: None)
    options.setdefault("timeout", 5.0)
    return PageIndexClient(key, fake.base_url, **options)


def spans(node):
    return [(child.title, child.first_page, child.last_page) for child in node.children]


def test_successful_import(fake):
    doc = make_client(fake).fetch("doc-1")
    assert (doc.doc_id, doc.name, doc.description, doc.page_count) == ("doc-1", "Annual Report", "A yearly report.", 10)
    conv = doc.converted
    assert conv.kind == "pageindex" and conv.title == "Annual Report" and conv.page_count == 10
    assert conv.pages == PAGES and conv.tree_unit == "page" and conv.warnings == []
    for number in range(1, 11):
        assert f"<!-- page {number} -->\n\nText of page {number}." in conv.markdown
    assert conv.markdown.index("<!-- page 2 -->") < conv.markdown.index("<!-- page 10 -->")

    tree = conv.tree
    assert check_tree(tree, 10) == []
    assert (tree.id, tree.first_page, tree.last_page, tree.summary) == ("root", 1, 10, "A yearly report.")
    assert spans(tree) == [("Front matter", 1, 1), ("Intro", 2, 3), ("Part A", 4, 8), ("Part B", 9, 10)]
    part_a = tree.children[2]
    assert spans(part_a) == [("Introduction", 4, 4), ("A.1", 5, 6), ("A.2", 7, 8)]
    assert [child.id for child in part_a.children] == ["0003.0001", "0003.0002", "0003.0003"]
    summaries = {node.title: node.summary for node in tree.walk()}
    assert summaries["Intro"] == "About the intro." and summaries["Part A"] == "Part A in short."
    assert summaries["A.1"] == "First of A." and summaries["A.2"] == "" and summaries["Front matter"] == ""
    assert [(e.level, e.title, e.page) for e in conv.outline] == [
        (1, "Intro", 2), (1, "Part A", 4), (2, "A.1", 5), (2, "A.2", 7), (1, "Part B", 9)]

    paths = [request["path"] for request in fake.requests]
    assert paths == ["/doc/doc-1/metadata/", "/doc/doc-1/?type=tree&summary=true&include_text=false",
                     "/doc/doc-1/?type=ocr&format=page"]
    assert all(request["headers"].get("api_key") == KEY for request in fake.requests)


def test_tree_starting_on_page_one_and_shared_starts(fake):
    tree = [{"title": "One", "page_index": 1, "nodes": [{"title": "Sub", "page_index": 1}]},
            {"title": "Two", "page_index": 3}, {"title": "Two bis", "page_index": 3, "prefix_summary": "s"}]
    fake.add_document("doc-2", "Short", ["a", "b", "c", "d"], tree)
    root = make_client(fake).fetch("doc-2").converted.tree
    assert check_tree(root, 4) == []
    assert spans(root) == [("One", 1, 2), ("Two / Two bis", 3, 4)]
    assert spans(root.children[0]) == [("Sub", 1, 2)]
    assert root.children[1].summary == "s"


def test_content_hash_is_deterministic(fake):
    first = make_client(fake).fetch("doc-1")
    second = make_client(fake).fetch("doc-1")
    assert first.content_hash == second.content_hash and len(first.content_hash) == 64
    fake.add_document("doc-1", "Annual Report", PAGES[:-1] + ["Changed."], TREE, description="A yearly report.")
    assert make_client(fake).fetch("doc-1").content_hash != first.content_hash


@pytest.mark.parametrize("code, words", [
    (401, "API key was refused"), (403, "API key was refused"), (402, "usage limit"), (404, "no such document")])
def test_error_statuses(fake, code, words):
    fake.fail("doc-1", [code])
    with pytest.raises(CloudError) as caught:
        make_client(fake).fetch("doc-1")
    message = str(caught.value)
    assert words in message and message.startswith("pageindex-cloud:doc-1: ") and "\n" not in message
    assert KEY not in message and caught.value.exit_code == 1
    assert len(fake.requests) == 1  # not retried


def test_wrong_key_and_unknown_document(fake):
    with pytest.raises(CloudError, match="API key was refused"):
        make_client(fake, key="pi-wrong").fetch("doc-1")
    with pytest.raises(CloudError, match="no such document"):
        make_client(fake).fetch("nope")


def test_still_processing(fake):
    fake.add_document("doc-p", "Pending", ["x"], [], status="processing")
    with pytest.raises(CloudError, match=r"still processing \(status: processing\); try again later"):
        make_client(fake).fetch("doc-p")


def test_malformed_json(fake):
    fake.fail("doc-1", [("malformed",)], endpoint="tree")
    with pytest.raises(CloudError, match="malformed JSON in the tree response"):
        make_client(fake).fetch("doc-1")


@pytest.mark.parametrize("tree, words", [
    ({"not": "a list"}, "expected a list"),
    ([{"title": "X"}], "has no page_index"),
    ([{"title": "X", "page_index": 99}], "outside 1..10"),
    ([{"title": "X", "page_index": "two"}], "outside 1..10"),
    ([{"title": "X", "page_index": 1, "nodes": "oops"}], "expected a list of nodes"),
    (["just text"], "not an object"),
    ([{"page_index": 1}], "has no title"),
    ([{"title": "X", "page_index": 5, "end_index": 2}], "invalid end page"),
])
def test_malformed_tree(fake, tree, words):
    fake.override("doc-1", "tree", {"status": "completed", "result": tree})
    with pytest.raises(CloudError, match="malformed") as caught:
        make_client(fake).fetch("doc-1")
    assert words in str(caught.value)


def test_malformed_pages(fake):
    fake.override("doc-1", "ocr", {"status": "completed", "result": [{"page_index": 1, "markdown": 5}]})
    with pytest.raises(CloudError, match="malformed page texts"):
        make_client(fake).fetch("doc-1")


def test_429_then_success_honours_retry_after(fake):
    fake.fail("doc-1", [("retry-after", 429, 0.01), ("retry-after", 503, 2)], endpoint="metadata")
    slept = []
    doc = make_client(fake, sleep=slept.append).fetch("doc-1")
    assert doc.page_count == 10 and slept == [0.01, 2.0]
    assert len(fake.requests) == 5


def test_500_forever_gives_up_after_max_retries(fake):
    fake.fail(None, [500] * 50)
    slept = []
    with pytest.raises(CloudError) as caught:
        make_client(fake, max_retries=3, backoff_base=0.5, sleep=slept.append).fetch("doc-1")
    assert "HTTP 500" in str(caught.value) and "4 attempts" in str(caught.value)
    assert len(fake.requests) == 4 and slept == [0.5, 1.0, 2.0]


def test_timeout_is_retried(fake):
    fake.fail("doc-1", [("hang", 2)], endpoint="metadata")
    doc = make_client(fake, timeout=0.2).fetch("doc-1")
    assert doc.name == "Annual Report" and len(fake.requests) == 4


def test_key_never_shown(fake):
    client = make_client(fake)
    assert KEY not in repr(client)
    fake.override("doc-1", "tree", b"{broken")
    for setup in (lambda: fake.fail("doc-1", [400]), lambda: fake.fail("doc-1", [500] * 10), lambda: None):
        setup()
        with pytest.raises(CloudError) as caught:
            client.fetch("doc-1")
        assert KEY not in str(caught.value) and KEY not in repr(caught.value)


def test_client_from():
    with pytest.raises(CloudError) as caught:
        client_from({}, {})
    assert "PAGEINDEX_API_KEY" in str(caught.value) and ".env" in str(caught.value)
    assert client_from({}, {"PAGEINDEX_API_KEY": KEY}).base_url == "https://api.pageindex.ai"
    env = {"PAGEINDEX_API_KEY": KEY, "PAGEINDEX_BASE_URL": "http://127.0.0.1:9/"}
    assert client_from({}, env).base_url == "http://127.0.0.1:9"
    assert client_from({"pageindex_base_url": "http://127.0.0.1:8"}, env).base_url == "http://127.0.0.1:8"
    with pytest.raises(CloudError, match="http"):
        client_from({"pageindex_base_url": "ftp://x"}, env)
