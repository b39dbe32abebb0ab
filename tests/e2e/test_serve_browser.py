"""The web UI in a real browser: Debian's headless Chromium driven by Playwright, against a real `wikismith serve` on
a KB built from shared-corpus files (issue 12). It follows a wikilink, searches, asks offline and gets a cited
answer, drops a file and sees it added, removes it (plan first), undoes the removal, and saves screenshots of each
view (set WIKISMITH_SCREENSHOTS=DIR to keep them, as docs/screenshots/ was made)."""

from __future__ import annotations

import os
import shutil

import pytest

from servekit import Server
from wikicheck import CORPUS, cli, listing

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
CHAPTER = CORPUS / "book" / "ch04-01-what-is-ownership.md"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get update && apt-get install -y "
                    "chromium` (`make test` does it), then run the tests again")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served(tmp_path):
    kb, docs = tmp_path / "kb", tmp_path / "docs"
    docs.mkdir()
    for name in ("pep-0484.rst", "pep-0544.rst", "pep-0604.rst"):
        shutil.copyfile(CORPUS / "peps" / name, docs / name)
    assert cli("init", kb)[0] == 0
    assert cli("add", docs, kb=kb, timeout=300)[0] == 0
    server = Server(kb)
    yield server, kb
    assert "Traceback" not in server.stop()


class Shots:
    def __init__(self, page, folder):
        self.page, self.folder = page, folder
        self.keep = os.environ.get("WIKISMITH_SCREENSHOTS")

    def __call__(self, name: str) -> None:
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path))
        assert path.stat().st_size > 5000
        if self.keep:
            os.makedirs(self.keep, exist_ok=True)
            shutil.copyfile(path, os.path.join(self.keep, f"{name}.png"))


def test_browse_search_ask_add_remove_and_undo_in_a_real_browser(browser, served, tmp_path):
    server, kb = served
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    shot = Shots(page, tmp_path)
    page.set_default_timeout(20_000)

    # browse: the index, then a wikilink to a summary, then one of its links to a concept with its backlinks
    page.goto(server.origin + "/")
    page.wait_for_selector("article h1:text('Index')")
    shot("home")
    page.click("article a[href='#/page/summaries/pep-0544']")
    page.wait_for_selector("article h1:text('Protocols: Structural subtyping')")
    assert page.locator("aside .outline li").count() > 2
    concept = page.locator("article a[href^='#/page/concepts/']").first
    target = concept.get_attribute("href")[len("#/page/"):]
    concept.click()
    page.locator("p.meta", has_text=f"wiki/{target}.md").wait_for()
    assert page.locator("aside .backlinks a[href='#/page/summaries/pep-0544']").count() == 1
    shot("page")

    # instant search while typing, then open a hit
    page.fill("#search", "structural subtyping")
    page.wait_for_selector("#instant li strong")
    assert page.locator("#instant li").count() >= 2
    shot("search")
    first = page.locator("#instant li strong").first.inner_text()
    page.locator("#instant li").first.click()
    page.locator("article h1", has_text=first).wait_for()

    # ask offline: the answer streams in, then shows with links to the pages it cites
    page.goto(server.origin + "/#/ask")
    page.fill("#question", "What is structural subtyping?")
    page.click("#ask-button")
    page.wait_for_selector("#answer a[href^='#/page/']")
    assert page.locator("#sources li").count() >= 1
    assert "structural" in page.inner_text("#answer").lower()
    shot("ask")

    # drop a file on the add view: per-file progress, then added
    page.goto(server.origin + "/#/add")
    page.wait_for_selector("#drop")
    page.evaluate("""([name, text]) => {
        const data = new DataTransfer();
        data.items.add(new File([text], name, { type: "text/markdown" }));
        document.querySelector("#drop").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
    }""", [CHAPTER.name, CHAPTER.read_text(encoding="utf-8")])
    page.wait_for_selector("#uploads .status-added", timeout=60_000)
    assert page.locator("#uploads progress").first.get_attribute("value") == "1"
    shot("add")
    doc = CHAPTER.stem
    assert doc in [d["id"] for d in listing(kb)["documents"]]

    # it appears among the documents; remove it with the plan shown first, then undo the removal
    page.goto(server.origin + "/#/documents")
    row = page.locator(f"tr[data-doc='{doc}']")
    row.wait_for()
    row.locator("button.remove").click()
    page.wait_for_selector("#dialog:not([hidden]) .plan li")
    assert f"wiki/summaries/{doc}.md" in page.inner_text("#dialog-body")
    shot("remove-plan")
    page.click("#dialog-ok")
    page.wait_for_selector("#undo-last")
    assert page.locator(f"tr[data-doc='{doc}']").count() == 0
    assert doc not in [d["id"] for d in listing(kb)["documents"]]
    page.click("#undo-last")
    page.wait_for_selector("#dialog:not([hidden]) .plan li")
    assert f"wiki/summaries/{doc}.md" in page.inner_text("#dialog-body")
    page.click("#dialog-ok")
    page.wait_for_selector(f"tr[data-doc='{doc}']")
    assert doc in [d["id"] for d in listing(kb)["documents"]]
    shot("documents")

    # the graph around a page, the lint view and the history
    page.goto(server.origin + "/#/graph/summaries/pep-0544")
    page.wait_for_selector("svg.graph circle.center")
    assert page.locator("svg.graph circle").count() > 3
    shot("graph")
    page.goto(server.origin + "/#/lint")
    page.wait_for_selector("h1:text('Lint')")
    assert "null" not in page.inner_text("#view") and "undefined" not in page.inner_text("#view")
    shot("lint")
    page.goto(server.origin + "/#/history")
    page.wait_for_selector("h1:text('History') + table.list tr")  # not the lint view's table, still shown
    assert "web undo" in page.inner_text("table.list")
    assert problems == []
    page.close()


def test_a_document_with_script_does_not_run_it_in_the_ui(browser, served, tmp_path):
    server, kb = served
    hostile = tmp_path / "hostile-page.md"
    hostile.write_text("# Hostile page\n\n<script>window.pwned = 1</script>\n\n<img src=x onerror=\"window.pwned=2\">\n\n"
                       "[[summaries/pep-0544|a link]] and <b>bold?</b>\n", encoding="utf-8")
    assert cli("add", hostile, kb=kb)[0] == 0
    page = browser.new_page()
    page.goto(server.origin + "/#/page/sources/hostile-page")
    page.wait_for_selector("article h1:text('Hostile page')")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in page.inner_text("article")
    assert page.locator("article script, article img, article b").count() == 0
    page.close()
