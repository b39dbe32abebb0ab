"""Synthetic knowledge bases and Mutations for the benches and tests: N pages, and a 15-file change."""

from __future__ import annotations

import functools
import hashlib
import random

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


@functools.cache
def vocabulary() -> tuple[list[str], list[float]]:
    """English's 20,000 commonest words (wordfreq, letters only) and the cumulative Zipf weights 1/rank."""
    import wordfreq

    words = [w for w in wordfreq.top_n_list("en", 20_000) if w.isalpha()]
    total, cumulative = 0.0, []
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


def varied_text(i: int, version: int = 0) -> str:
    """A page of 120 words drawn by Zipf's law, as words occur in real text: a word of rank r is on about 11/r of
    the pages (rank 100: one page in 9; rank 3,000: one in 260), so a search matches some pages, not all."""
    words, cumulative = vocabulary()
    rng = random.Random(i * 1000 + version)
    body = " ".join(rng.choices(words, cum_weights=cumulative, k=120))
    return f"---\ntype: concept\ntitle: Synthetic {i}\n---\n# Synthetic {i} (v{version})\n\n{body}\n"


def page_row(i: int, version: int = 0, doc: str = "synthetic-doc", text=page_text) -> PageRow:
    return PageRow(path=page_path(i), kind="concept", title=f"Synthetic {i}", updated_at=WHEN,
                   description=f"synthetic page {i}", body=text(i, version), sources=(doc,))


def doc_row(name: str) -> DocumentRow:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return DocumentRow(id=name, name=name, kind="markdown", hash=digest, origin=f"synthetic:{name}", added_at=WHEN)


def bulk_mutation(start: int, stop: int, text=page_text) -> Mutation:
    m = Mutation(label=f"synthetic pages {start}..{stop - 1}")
    m.put_documents.append(doc_row("synthetic-doc"))
    for i in range(start, stop):
        row = page_row(i, text=text)
        m.writes[page_path(i)] = row.body.encode()
        m.put_pages.append(row)
    return m


def build_kb(root: str, pages: int, chunk: int = 2000, text=page_text) -> KnowledgeBase:
    """A KB of `pages` pages whose text is text(i, version): page_text (26 words, every page alike) by default."""
    kb = KnowledgeBase.init(root)
    for start in range(0, pages, chunk):
        kb.apply(bulk_mutation(start, min(pages, start + chunk), text))
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


ADJECTIVES = ("durable atomic sparse lazy eager nested stable partial ordered shared private remote local cached "
              "signed sealed frozen mutable compact verbose silent hidden linear greedy").split()
NOUNS = ("buffer cursor ledger segment snapshot bitmap journal manifest checkpoint replica shard quota "
         "barrier latch fence queue heap trie bloom filter digest token lease epoch").split()


VERBS = ("guards", "feeds", "orders", "splits", "merges", "tracks", "limits", "wraps", "probes", "flushes", "pins",
         "drains", "seals", "routes", "scans", "trims", "ships", "checks", "stamps", "mirrors")


def generated_document(i: int) -> str:
    """A deterministic note of about 1.5 KB. Like real notes, it shares one popular topic with many others and
    two long-tail topics with a few (600 adjective-noun pairs), so concept pages have a realistic spread of sizes."""
    a = TOPICS[i % len(TOPICS)]
    b, c = (f"{ADJECTIVES[(i * k) % 24]} {NOUNS[(i * k // 24 + k) % 24]}" for k in (7, 13))
    n1, n2 = NAMES[i % len(NAMES)], f"Project{NOUNS[(i * 5) % 24].title()}{i % 40}"
    lines = [f"# Note {i}: {a.title()} and {b.title()}", ""]
    for j in range(6):
        v1, v2, v3 = (VERBS[(i * 3 + j * k) % len(VERBS)] for k in (1, 5, 11))
        lines.append(f"The {a} {v1} the {b} on {n1} in step {i}-{j}. A {c} {v2} the {a} "
                     f"whenever {n2} {v3} it. Later the {b} {v3} the {c} again.")
        lines.append("")
    return "\n".join(lines)
