"""`wikismith add` over the real corpus (../shared/corpus), through the CLI in a subprocess.

One KB gets office/, web/, text/, pdf/ and peps/ in a single `add` (module fixture, built once); the tests below
only read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from wikicheck import CORPUS, add, cli, corpus_files, front_matter, listing, section_ids, structural_problems, wiki_links

FOLDERS = ("office", "web", "text", "pdf", "peps")
ENCRYPTED = "libreoffice-writer-password.pdf"
GEOTOPO = "GeoTopo-komprimiert.pdf"
PEP_IDS = ("pep-0484", "pep-0526", "pep-0544", "pep-0585", "pep-0604", "pep-0612", "pep-3107")

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "kb"
    code, _, err = cli("init", root)
    assert code == 0, err
    code, report, err = add(root, *(CORPUS / folder for folder in FOLDERS), timeout=300)
    assert report is not None, err
    by_file = {os.path.realpath(o["path"]): o for o in report["files"]}
    return SimpleNamespace(root=root, code=code, report=report, stderr=err, by_file=by_file, listing=listing(root))


def _doc_id(corpus, name: str) -> str:
    [outcome] = [o for p, o in corpus.by_file.items() if os.path.basename(p) == name]
    return outcome["id"]


def test_every_corpus_file_is_added_and_only_the_encrypted_pdf_is_refused(corpus):
    expected = corpus_files(*FOLDERS)
    assert len(expected) >= 28
    assert sorted(corpus.by_file) == sorted(str(p.resolve()) for p in expected), "every file is reported once"
    for path in expected:
        outcome = corpus.by_file[str(path.resolve())]
        if path.name == ENCRYPTED:
            assert outcome["status"] == "failed"
            reason = outcome["detail"]
            assert "\n" not in reason and ENCRYPTED in reason and "encrypt" in reason.lower(), reason
        else:
            assert outcome["status"] == "added", (path.name, outcome)
            assert outcome["id"]
    assert corpus.code == 1, "a run where one file failed exits 1"
    assert corpus.report["counts"]["added"] == len(expected) - 1 and corpus.report["counts"]["failed"] == 1
    assert corpus.report["stopped"] is None


def test_list_shows_exactly_the_added_documents_with_their_original_bytes_in_raw(corpus):
    added = {o["id"]: path for path, o in corpus.by_file.items() if o["status"] == "added"}
    docs = corpus.listing["documents"]
    assert sorted(d["id"] for d in docs) == sorted(added)
    for doc in docs:
        original = Path(added[doc["id"]]).read_bytes()
        assert doc["name"] == os.path.basename(added[doc["id"]])
        assert doc["hash"] == hashlib.sha256(original).hexdigest()
        assert (corpus.root / doc["raw_path"]).read_bytes() == original
    assert not any(ENCRYPTED in name for name in os.listdir(corpus.root / "raw")), "the refused PDF left a trace"
    assert "libreoffice" not in (corpus.root / "wiki" / "index.md").read_text(encoding="utf-8").lower()


def test_doctor_finds_the_whole_corpus_kb_healthy(corpus):
    code, out, err = cli("doctor", "--json", kb=corpus.root)
    report = json.loads(out)
    assert report["findings"] == [], report["findings"]
    assert code == 0 and report["healthy"], err


def test_independent_structural_check_finds_no_broken_link_unindexed_page_or_pageless_document(corpus):
    assert structural_problems(corpus.root, corpus.listing["documents"]) == []
    # The registry and the disk agree about which pages exist.
    registered = {page["path"] for pages in corpus.listing["pages"].values() for page in pages}
    on_disk = {p.relative_to(corpus.root).as_posix() for p in (corpus.root / "wiki").rglob("*.md")}
    assert registered == on_disk - {"wiki/AGENTS.md", "wiki/index.md", "wiki/log.md"}
    # Concept and entity pages really were made (the wiki is interlinked, not just summaries).
    assert len(corpus.listing["pages"].get("concept", [])) >= 20
    assert len(corpus.listing["pages"].get("entity", [])) >= 10


def test_every_concept_and_entity_page_has_one_section_per_cited_source(corpus):
    for folder in ("concepts", "entities"):
        for page in sorted((corpus.root / "wiki" / folder).glob("*.md")):
            text = page.read_text(encoding="utf-8")
            meta, _ = front_matter(text)
            ids = section_ids(text)
            assert len(ids) == len(set(ids)), f"{page.name}: a document has two sections"
            assert sorted(ids) == sorted(meta["sources"]), page.name
            for doc_id in ids:
                assert f"summaries/{doc_id}" in wiki_links(text), f"{page.name}: section of {doc_id} cites nothing"


def test_the_log_has_one_add_line_per_document(corpus):
    log = (corpus.root / "wiki" / "log.md").read_text(encoding="utf-8")
    adds = [line for line in log.splitlines() if "**add**" in line]
    assert len(adds) == len(corpus.listing["documents"])


# --- the long document: GeoTopo-komprimiert.pdf (117 pages, 35-entry outline) --------------------------------

def _outline(path: Path) -> tuple[list[tuple[int, str, int | None]], int]:
    """(level from 0, title, 1-based page) of every bookmark, read with pypdfium2 directly; and the page count."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        entries = []
        for bookmark in pdf.get_toc():
            dest = bookmark.get_dest()
            entries.append((bookmark.level, bookmark.get_title(), dest.get_index() + 1 if dest else None))
        return entries, len(pdf)
    finally:
        pdf.close()


def _leaves(node):
    children = node.get("children") or []
    if not children:
        yield node
    for child in children:
        yield from _leaves(child)


def _walk(node):
    yield node
    for child in node.get("children") or []:
        yield from _walk(child)


@pytest.fixture(scope="module")
def geotopo(corpus):
    doc_id = _doc_id(corpus, GEOTOPO)
    tree_file = corpus.root / "wiki" / "sources" / f"{doc_id}.tree.json"
    assert tree_file.is_file(), "a 117-page PDF gets a tree index beside its source page"
    outline, page_count = _outline(CORPUS / "pdf" / GEOTOPO)
    return SimpleNamespace(id=doc_id, tree=json.loads(tree_file.read_text(encoding="utf-8")), outline=outline,
                           pages=page_count)


def test_geotopo_tree_top_levels_follow_the_pdf_outline(geotopo):
    assert len(geotopo.outline) == 35 and geotopo.pages == 117
    top = geotopo.tree["children"]
    level1 = [(title, page) for level, title, page in geotopo.outline if level == 0]
    # Pages before the first chapter may get one leading node of their own; nothing else may be invented.
    if top and top[0]["first_page"] < level1[0][1]:
        assert top[0]["last_page"] == level1[0][1] - 1
        top = top[1:]
    assert [n["title"] for n in top] == [title for title, _ in level1]
    assert [n["first_page"] for n in top] == [page for _, page in level1]
    # The second level follows the outline too: each chapter's sections, in order.
    children_of = {}
    current = None
    for level, title, page in geotopo.outline:
        if level == 0:
            current = title
            children_of[current] = []
        elif level == 1:
            children_of[current].append(title)
    for node in top:
        got = [c["title"] for c in node.get("children", []) if c["title"] not in ("Introduction", "Front matter")]
        assert got == children_of[node["title"]], node["title"]


def test_geotopo_tree_covers_pages_1_to_117_exactly_once(geotopo):
    tree = geotopo.tree
    assert (tree["first_page"], tree["last_page"]) == (1, 117)
    covered = [0] * 118
    for leaf in _leaves(tree):
        assert 1 <= leaf["first_page"] <= leaf["last_page"] <= 117, leaf
        for page in range(leaf["first_page"], leaf["last_page"] + 1):
            covered[page] += 1
    assert covered[1:] == [1] * 117, [p for p in range(1, 118) if covered[p] != 1]
    ids = [node["id"] for node in _walk(tree)]
    assert len(ids) == len(set(ids)), "node ids are unique"
    for node in _walk(tree):  # children partition their parent's range
        kids = node.get("children") or []
        if kids:
            assert kids[0]["first_page"] == node["first_page"] and kids[-1]["last_page"] == node["last_page"]
            for a, b in zip(kids, kids[1:]):
                assert b["first_page"] == a["last_page"] + 1, (a["id"], b["id"])


def test_geotopo_summary_page_renders_the_tree_with_page_ranges(corpus, geotopo):
    text = (corpus.root / "wiki" / "summaries" / f"{geotopo.id}.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    position = 0
    for node in list(_walk(geotopo.tree))[1:]:
        first, last = node["first_page"], node["last_page"]
        pages = rf"{first}\s*[-–]\s*{last}" if last != first else rf"{first}"
        wanted = re.compile(re.escape(node["title"]) + r"\W{0,4}\s*\(p{1,2}\.\s*" + pages + r"\)")
        for index in range(position, len(lines)):
            if wanted.search(lines[index]):
                position = index + 1
                break
        else:
            pytest.fail(f"summary page does not show {node['title']!r} with pages {first}-{last} (in tree order)")


# --- the seven typing PEPs share concept pages ---------------------------------------------------------------

def test_the_typing_peps_share_concept_pages_with_a_section_for_each(corpus):
    ids = {_doc_id(corpus, f"{pep}.rst") for pep in PEP_IDS}
    assert ids == set(PEP_IDS)
    shared = {}
    for page in sorted((corpus.root / "wiki" / "concepts").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        meta, _ = front_matter(text)
        peps = sorted(set(meta.get("sources") or []) & ids)
        if len(peps) >= 2:
            shared[page.stem] = peps
            sections = section_ids(text)
            for pep in peps:
                assert sections.count(pep) == 1, f"{page.name}: {sections.count(pep)} sections for {pep}"
                summary = corpus.root / "wiki" / "summaries" / f"{pep}.md"
                # A PEP about the concept links it from its summary; one that only mentions it does not.
                mentions = f"## Mentioned in [[summaries/{pep}|" in text
                assert mentions or f"## From [[summaries/{pep}|" in text, (page.name, pep)
                assert (f"concepts/{page.stem}" in wiki_links(summary.read_text(encoding="utf-8"))) != mentions, \
                    f"{pep}'s summary links to {page.stem} if and only if its section there is not a mention"
    assert len(shared) >= 3, shared
    assert max(len(peps) for peps in shared.values()) >= 3, shared
    assert set().union(*shared.values()) == ids, "every typing PEP shares at least one concept with another"
    # The shared vocabulary the corpus README promises shows up (annotations, type hints, generics, protocols).
    themes = ("annotation", "type-hint", "type-checker", "generic", "protocol")
    assert sum(any(theme in slug for slug in shared) for theme in themes) >= 2, sorted(shared)


def test_shift_jis_csv_is_decoded_with_a_warning(corpus):
    outcome = next(o for p, o in corpus.by_file.items() if p.endswith("test_mskanji.csv"))
    assert outcome["warnings"], "a non-UTF-8 file is added with a warning"
    source = (corpus.root / "wiki" / "sources" / f"{outcome['id']}.md").read_text(encoding="utf-8")
    assert "佐藤太郎" in source and "名古屋" in source
