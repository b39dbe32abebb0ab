"""The wiki of a slice of the shared corpus opens as an Obsidian vault: read by `obsidiantools`, an independent
reader of Obsidian vaults, every note has front matter and no link points to a missing note.

obsidiantools names a note by its file name (by its path when two notes share a name) and so reports our
folder-path links (`[[concepts/type-hint]]`) as "nonexistent notes"; Obsidian itself resolves them by path. The
test resolves them the same way: each must be a file of the vault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wikicheck import CORPUS, add, cli

pytestmark = [pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}"),
              pytest.mark.slow]

# A representative slice: every kind of source the corpus has, and enough pages of one kind (more than 150
# concepts) that the catalogue is split into pages under wiki/index/.
SLICE = ("peps", "web", "office/test.docx", "pdf/test.pdf", "pdf/pdflatex-outline.pdf",
         "pdf/RECEIPT-2024-TXN-98765_retail_purchase.pdf")
BOOK_CHAPTERS = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06")


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    obsidiantools = pytest.importorskip("obsidiantools.api")
    root = tmp_path_factory.mktemp("vault") / "kb"
    code, _, err = cli("init", root)
    assert code == 0, err
    chapters = sorted(p for p in (CORPUS / "book").glob("ch*.md") if p.name[:4] in BOOK_CHAPTERS)
    code, report, err = add(root, *(CORPUS / name for name in SLICE), *chapters, timeout=600)
    assert code == 0 and report["counts"]["failed"] == 0, err
    wiki = root / "wiki"
    return wiki, obsidiantools.Vault(wiki).connect()


def test_every_note_of_the_wiki_has_front_matter_with_type_title_and_description(vault):
    wiki, connected = vault
    notes = {path.relative_to(wiki).as_posix() for path in wiki.rglob("*.md")}
    read = {connected.md_file_index[name].as_posix(): name for name in connected.md_file_index}
    assert set(read) == notes  # obsidiantools sees every Markdown file as a note
    for special in ("index.md", "log.md", "AGENTS.md"):
        assert special in read
    shards = [rel for rel in notes if rel.startswith("index/")]
    if any(len(list((wiki / folder).glob("*.md"))) > 150 for folder in ("concepts", "entities", "sources")):
        assert shards, "a kind of more than 150 pages is catalogued through pages under wiki/index/"
    for rel, name in sorted(read.items()):
        meta = connected.get_front_matter(name)
        assert meta, f"{rel}: no front matter"
        assert meta.get("type") and meta.get("title") and "description" in meta, (rel, meta)
    assert connected.get_front_matter(read["index.md"])["type"] == "index"
    assert all(connected.get_front_matter(read[rel])["type"] == "index" for rel in shards)


def test_no_link_points_to_a_missing_note_once_folder_paths_are_resolved(vault):
    wiki, connected = vault
    unresolved = sorted(name for name in connected.nonexistent_notes if not (wiki / f"{name}.md").is_file())
    assert unresolved == []
    # The resolution is not vacuous: the wiki is interlinked through folder paths, and they all land on files.
    linked = set(connected.nonexistent_notes)
    assert len(linked) > 50 and any(name.startswith("concepts/") for name in linked)
    assert Path(wiki / "index.md").read_text(encoding="utf-8").startswith("---\ntype: index\n")
