"""Synthetic knowledge bases and Mutations for the benches and tests: N pages, and a 15-file change."""

from __future__ import annotations

import hashlib

from wikismith.kb import KnowledgeBase
from wikismith.store.mutation import DocumentRow, Mutation, PageRow

WHEN = "2026-01-01T00:00:00Z"
WORDS = ("archive ledger quorum lattice harbor signal vector prism canopy ember fjord glacier meadow orbit "
         "pylon quartz relay summit tundra umbra vertex willow zenith beacon cobalt delta").split()


def page_path(i: int) -> str:
    return f"wiki/concepts/synthetic-{i:05d}.md"


def page_text(i: int, version: int = 0) -> str:
    words = " ".join(WORDS[(i * 7 + j + version) % len(WORDS)] for j in range(120))
    return f"---\ntype: concept\ntitle: Synthetic {i}\n---\n# Synthetic {i} (v{version})\n\n{words}\n"


def page_row(i: int, version: int = 0, doc: str = "synthetic-doc") -> PageRow:
    text = page_text(i, version)
    return PageRow(path=page_path(i), kind="concept", title=f"Synthetic {i}", updated_at=WHEN,
                   description=f"synthetic page {i}", body=text, sources=(doc,))


def doc_row(name: str) -> DocumentRow:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return DocumentRow(id=name, name=name, kind="markdown", hash=digest, origin=f"synthetic:{name}", added_at=WHEN)


def bulk_mutation(start: int, stop: int) -> Mutation:
    m = Mutation(label=f"synthetic pages {start}..{stop - 1}")
    m.put_documents.append(doc_row("synthetic-doc"))
    for i in range(start, stop):
        m.writes[page_path(i)] = page_text(i).encode()
        m.put_pages.append(page_row(i))
    return m


def build_kb(root: str, pages: int, chunk: int = 2000) -> KnowledgeBase:
    kb = KnowledgeBase.init(root)
    for start in range(0, pages, chunk):
        kb.apply(bulk_mutation(start, min(pages, start + chunk)))
    return kb


def change_mutation(pages: int, seed: int = 0) -> Mutation:
    """Write 10 new pages, rewrite 5, delete 3 (when the KB has them) and append to log.md: 15 files written."""
    doc = f"change-{seed}"
    m = Mutation(label=f"synthetic change {seed}")
    m.put_documents.append(doc_row(doc))
    base = 1_000_000 + seed * 100
    for i in range(base, base + 10):
        m.writes[page_path(i)] = page_text(i, seed).encode()
        m.put_pages.append(page_row(i, seed, doc))
    if pages:
        rewrite = sorted({(seed * 37 + j * 11) % pages for j in range(5)})
        delete = [i for i in ((seed * 53 + 5 + j * 13) % pages for j in range(pages)) if i not in rewrite]
        delete = list(dict.fromkeys(delete))[:3]
        for i in rewrite:
            m.writes[page_path(i)] = page_text(i, seed + 1).encode()
            m.put_pages.append(page_row(i, seed + 1, doc))
        for i in delete:
            m.deletes.add(page_path(i))
            m.drop_pages.add(page_path(i))
    m.appends["wiki/log.md"] = f"- {WHEN} **synthetic** change {seed}\n".encode()
    return m


TOPICS = ("crash recovery", "write-ahead log", "atomic rename", "hard link", "page cache", "file system",
          "transaction journal", "lock file", "checksum", "backup folder", "power failure", "fsync call",
          "commit point", "rollback step", "staging area", "registry table", "full-text index", "schema version")
NAMES = ("SQLite", "POSIX", "Linux", "ext4", "XFS", "Btrfs", "NTFS", "APFS", "ZFS", "WAL", "FTS5", "JSON")


def generated_document(i: int) -> str:
    """A deterministic note that shares concepts with its neighbours, about 1.5 KB."""
    a, b, c = (TOPICS[(i * k) % len(TOPICS)] for k in (1, 3, 7))
    n1, n2 = NAMES[i % len(NAMES)], NAMES[(i * 5 + 1) % len(NAMES)]
    lines = [f"# Note {i}: {a.title()} and {b.title()}", ""]
    for j in range(6):
        lines.append(f"The {a} interacts with the {b} on {n1} in case {i}-{j}. A careful {c} keeps the {a} "
                     f"consistent when {n2} reports an error. Engineers measure the {b} before they trust the {c}.")
        lines.append("")
    return "\n".join(lines)
