"""Conversion as a reader of the wiki sees it: each defect of issue 10's Conversion section, through the CLI.

One KB (module fixture) gets real corpus files (PEPs in reStructuredText, Rust book chapters written for mdBook,
PDFs) and two small documents written here for what the corpus lacks: a Wikipedia-style page with citation markers,
footnotes and navigation, and an RST document that uses Sphinx roles in its prose.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from wikicheck import CORPUS, add, cli, front_matter, listing

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")

CORPUS_FILES = ("peps/pep-0484.rst", "peps/pep-0604.rst", "peps/pep-0612.rst", "book/ch04-01-what-is-ownership.md",
                "book/ch01-02-hello-world.md", "pdf/RECEIPT-2024-TXN-98765_retail_purchase.pdf",
                "pdf/pdflatex-outline.pdf")

WIKIPEDIA = """<!DOCTYPE html><html><head><title>Rain barrel - Wikipedia</title></head><body>
<nav id="mw-navigation"><ul><li><a href="/wiki/Main_Page">Main page</a></li>
<li><a href="/wiki/Special:Random">Random article</a></li></ul></nav>
<div id="content"><h1 id="firstHeading">Rain barrel</h1>
<div id="toc" class="toc"><h2>Contents</h2><ul><li><a href="#Uses">1 Uses</a></li></ul></div>
<p>A <b>rain barrel</b> is a water tank used to collect and store rainwater runoff from rooftops.<sup id="cite_ref-2"
class="reference"><a href="#cite_note-2">[2]</a></sup> Rain barrels are tools to manage stormwater runoff.<sup
class="reference"><a href="#cite_note-auto-119">[3]</a></sup> A rain barrel is cheap to build, see <a href="#Uses">the
uses</a>.</p>
<h2><span class="mw-headline" id="Uses">Uses</span><span class="mw-editsection">[<a
href="/w/index.php?action=edit">edit</a>]</span></h2>
<p>Rain barrels reduce the demand on municipal water.<sup><a href="#cite_note-4">[4]</a></sup> A rain barrel needs a
screen against mosquitoes. Rain barrel water is used in gardens, as <a href="https://example.org/garden">gardeners
report</a>.</p>
<h2><span class="mw-headline" id="References">References</span></h2>
<div class="reflist"><ol class="references"><li id="cite_note-2"><span class="mw-cite-backlink"><a
href="#cite_ref-2">^</a></span> <span class="reference-text">Smithson, J. (2010). Waterworks. Press.</span></li></ol>
</div>
<div class="navbox"><table><tr><th>Water</th><td><a href="/wiki/Cistern">Cistern</a></td></tr></table></div>
</div><footer id="footer"><ul><li><a href="/wiki/Privacy">Privacy policy</a></li></ul></footer></body></html>
"""

ROLES = """\
Event loops
===========

The :mod:`asyncio` module runs an event loop; :class:`~asyncio.AbstractEventLoop` describes it and
:func:`asyncio.run` starts one. :pep:`3156` proposed it, :pep:`Tulip <3156#abstract>` was its name, and
:rfc:`2616` is older. See `the docs <https://docs.python.org/3/library/asyncio.html>`_ and the tutorial_.

.. _tutorial: https://example.org/tutorial

.. versionadded:: 3.4
   The event loop policy.

.. code-block:: python

   loop = asyncio.new_event_loop()

Fields:

:Owner: The loop's thread.
:Stops: When ``stop()`` is called.

=======  ============
Method   Meaning
=======  ============
run      Run a coroutine
sleep    Wait a while
=======  ============

.. toctree::

   other-page
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    base = tmp_path_factory.mktemp("conversion")
    root = base / "kb"
    (base / "rain-barrel.html").write_text(WIKIPEDIA, encoding="utf-8")
    (base / "event-loops.rst").write_text(ROLES, encoding="utf-8")
    code, _, err = cli("init", root)
    assert code == 0, err
    code, report, err = add(root, *(CORPUS / name for name in CORPUS_FILES), base / "rain-barrel.html",
                            base / "event-loops.rst", timeout=300)
    assert code == 0, err
    ids = {o["path"].rsplit("/", 1)[-1]: o["id"] for o in report["files"]}
    return SimpleNamespace(root=root, ids=ids, docs={d["id"]: d for d in listing(root)["documents"]})


def page(kb, folder: str, name: str) -> tuple[dict, str]:
    return front_matter((kb.root / "wiki" / folder / f"{kb.ids[name]}.md").read_text(encoding="utf-8"))


def every_page(kb) -> dict[str, str]:
    wiki = kb.root / "wiki"
    return {p.relative_to(wiki).as_posix(): p.read_text(encoding="utf-8") for p in sorted(wiki.rglob("*.md"))}


def prose(text: str) -> str:
    """`text` without fenced code and code spans: where markup leaking from a source would show."""
    text = re.sub(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$", "", text, flags=re.S | re.M)
    return re.sub(r"(`+)[^`]+?\1", "", text)


def h1_count(body: str) -> int:
    """ATX and setext level-1 headings outside fenced code."""
    count, fence = 0, None
    lines = body.split("\n")
    for index, line in enumerate(lines):
        m = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if fence:
            fence = None if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) else fence
            continue
        if m:
            fence = m.group(1)
        elif re.match(r"# \S", line):
            count += 1
        elif (line.strip() and index + 1 < len(lines) and re.fullmatch(r" {0,3}=+\s*", lines[index + 1])
              and (index == 0 or not lines[index - 1].strip())):
            count += 1
    return count


def test_a_pep_header_becomes_front_matter_with_its_authors_as_a_list(kb):
    meta, body = page(kb, "sources", "pep-0604.rst")
    assert meta["title"] == "Allow writing union types as X | Y"
    assert meta["authors"] == ["Philippe PRADOS", "Maggie Moss"]  # names only, no e-mail addresses
    assert (meta["status"], meta["created"], meta["pep"], meta["pep_type"]) == (
        "Final", "2019-08-28", "604", "Standards Track")
    assert meta["type"] == "source" and meta["post_history"] == ["2019-08-28", "2020-08-05"]
    assert "PEP: 604" not in body and "Author:" not in body  # the header is metadata, not text
    summary, _ = page(kb, "summaries", "pep-0604.rst")
    assert summary["title"] == "Allow writing union types as X | Y"


def test_reStructuredText_becomes_markdown_with_headings_and_fenced_code(kb):
    _, body = page(kb, "sources", "pep-0604.rst")
    assert "\n## Abstract\n" in body and "\n## Specification\n" in body and "\n### Simplified Syntax\n" in body
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```$", body, re.S | re.M)
    assert any("def f(list: List[int | str], param: int | None) -> float | str:" in code for code in fenced)
    assert "Abstract\n========" not in body and "::\n" not in body
    _, body = page(kb, "sources", "pep-0612.rst")  # `.. code-block::` directives keep their code, fenced
    assert "code-block" not in body
    assert any("def add_logging(f: Callable[P, R]) -> Callable[P, Awaitable[R]]:" in code
               for code in re.findall(r"^```[^\n]*\n(.*?)^```$", body, re.S | re.M))


def test_roles_render_as_text_or_code_and_no_rst_markup_leaks(kb):
    _, body = page(kb, "sources", "event-loops.rst")
    assert "The `asyncio` module runs an event loop; `AbstractEventLoop` describes it and `asyncio.run` starts" in body
    assert "PEP 3156 proposed it, Tulip was its name, and RFC 2616 is older." in body
    assert "See [the docs](https://docs.python.org/3/library/asyncio.html) and the [tutorial](https://example.org/t" in body
    assert "*Added in version 3.4:* The event loop policy." in body
    assert "```python\nloop = asyncio.new_event_loop()\n```" in body
    assert "- **Owner**: The loop's thread." in body and "- **Stops**: When `stop()` is called." in body
    assert "| Method | Meaning |\n|---|---|\n| run | Run a coroutine |" in body
    assert "other-page" not in body and "toctree" not in body
    for rel, text in every_page(kb).items():
        for leak in (":pep:`", ":mod:`", ":class:`", ":func:`", ":rfc:`", ":ref:`", ".. code-block",
                     ".. versionadded", "canonical-doc", "canonical-typing-spec"):
            assert leak not in text, (rel, leak)
    for doc in ("pep-0484.rst", "pep-0604.rst", "pep-0612.rst", "event-loops.rst"):
        for folder in ("sources", "summaries"):
            text = prose(page(kb, folder, doc)[1])
            assert not re.search(r"`[^`\n]*`__?(?!\w)", text), (folder, doc)  # `text <url>`_ and `name`_
            assert not re.search(r"(?<![\w\\])[A-Za-z][\w-]*(?<!_)_(?=[\s.,;:)])", text), (folder, doc)  # name_


def test_mdbook_include_directives_leave_the_prose_and_code_blocks_keep_their_code(kb):
    meta, body = page(kb, "sources", "ch04-01-what-is-ownership.md")
    assert meta["title"] == "What Is Ownership?"  # the heading that opens the chapter, not the file name
    assert '```rust\nlet s = "hello";\n```' in body
    assert "```rust\n```" not in body  # a block that held only an include is gone, not left empty
    for rel, text in every_page(kb).items():
        assert "{{#" not in text and "rustdoc_include" not in text, rel


def test_html_citations_footnotes_and_navigation_are_dropped_never_links(kb):
    meta, body = page(kb, "sources", "rain-barrel.html")
    body = " ".join(body.split())
    assert meta["title"] == "Rain barrel"
    assert "A **rain barrel** is a water tank used to collect and store rainwater runoff from rooftops. Rain" in body
    assert "see the uses." in body and "[gardeners report](https://example.org/garden)" in body
    for rel, text in every_page(kb).items():
        for leak in ("cite_note", "cite_ref", "(#", "Smithson", "Random article", "Privacy policy", "[edit]",
                     "Cistern", "\\[2\\]"):
            assert leak not in text, (rel, leak)


def test_every_source_page_carries_exactly_one_h1(kb):
    for doc_id in kb.docs:
        text = (kb.root / "wiki" / "sources" / f"{doc_id}.md").read_text(encoding="utf-8")
        meta, body = front_matter(text)
        assert h1_count(body) == 1, doc_id
        assert body.lstrip().startswith("# "), doc_id


def test_a_pdf_is_titled_by_its_first_heading_before_its_file_name(kb):
    meta, _ = page(kb, "summaries", "RECEIPT-2024-TXN-98765_retail_purchase.pdf")
    assert meta["title"] == "TECHMART ELECTRONICS"
    assert kb.docs[kb.ids["RECEIPT-2024-TXN-98765_retail_purchase.pdf"]]["name"].startswith("RECEIPT")


def test_page_numbers_only_for_documents_that_have_pages(kb):
    _, pep = page(kb, "summaries", "pep-0484.rst")
    assert "## Structure" in pep and "**Abstract**" in pep  # a tree over its sections...
    assert not re.search(r"\(p\. \d", pep)  # ...with no page numbers: a PEP has no pages
    _, chapter = page(kb, "summaries", "ch04-01-what-is-ownership.md")
    assert not re.search(r"\(p\. \d", chapter)
    _, pdf = page(kb, "summaries", "pdflatex-outline.pdf")
    assert re.search(r"\(p\. \d", pdf)  # a PDF's outline keeps its pages
