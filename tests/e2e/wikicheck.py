"""Helpers for the `add` end-to-end tests: the corpus, a CLI runner usable from module fixtures, and a structural
check of a compiled wiki written independently of wikismith's own (wikismith/wiki/check.py), so that a bug shared
by the writer and its checker cannot hide.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from conftest import _run_cli  # tests/conftest.py: the runner behind the `run_cli` fixture

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
SPECIAL = {"AGENTS.md", "index.md", "log.md"}  # wiki/ files that are not pages
PAGE_FOLDERS = ("summaries", "sources", "concepts", "entities", "explorations", "reports")


def as_on_a_terminal() -> None:
    """In a child about to run wikismith: Ctrl-C at its default, as a terminal's foreground job has it, whatever the
    test run was started with (`make test &` from a script starts it, and so every child, with SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(*args, kb=None, env=None, cwd=None, timeout=120):
    """Same as the `run_cli` fixture (usable where a fixture cannot be: module-scoped fixtures)."""
    return _run_cli(*args, kb=kb, env=env, cwd=cwd, timeout=timeout)


def add(kb, *paths, env=None, timeout=120, extra=()):
    """`wikismith add --json PATHS`: (exit code, parsed JSON or None, stderr)."""
    code, out, err = cli("add", "--json", *extra, *paths, kb=kb, env=env, timeout=timeout)
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    return code, data, err


def listing(kb) -> dict:
    code, out, err = cli("list", "--pages", "--json", kb=kb)
    assert code == 0, err
    return json.loads(out)


def corpus_files(*folders: str) -> list[Path]:
    """Every non-hidden file under the given corpus folders, sorted."""
    found = []
    for folder in folders:
        for path in sorted((CORPUS / folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                found.append(path)
    return found


def tree_bytes(root, tops=("raw", "wiki")) -> dict[str, bytes]:
    """Every file under root/<top> for each top, by KB-relative path, with its bytes."""
    found = {}
    for top in tops:
        base = Path(root) / top
        for path in sorted(base.rglob("*")):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def all_files(root) -> set[str]:
    """Every file and symlink anywhere under root (relative paths), hidden ones included."""
    found = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


# --- reading pages, independently of wikismith.wiki -----------------------------------------------------------

def front_matter(text: str) -> tuple[dict, str]:
    """The YAML front matter (the simple subset: `key: scalar` and `key:` + `  - item` lists) and the body."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    assert end != -1, "front matter is not closed"
    meta: dict = {}
    key = None
    for line in text[4:end].splitlines():
        item = re.match(r"^\s+-\s+(.*)$", line)
        if item and key is not None:
            meta.setdefault(key, [])
            meta[key].append(_scalar(item.group(1)))
            continue
        m = re.match(r"^([A-Za-z_][\w-]*):\s*(.*)$", line)
        if m:
            key = m.group(1)
            meta[key] = _scalar(m.group(2)) if m.group(2) else []
    return meta, text[end + 5:]


def _scalar(raw: str):
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(item) for item in raw[1:-1].split(",") if item.strip()]
    if raw.startswith('"'):
        return json.loads(raw)  # the double-quoted strings wikismith writes are JSON-compatible
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    return raw


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")


def wiki_links(text: str) -> list[str]:
    """Targets of the [[wikilinks]] Obsidian would follow: outside fenced code and `code spans`; no #heading."""
    _meta, body = front_matter(text)
    targets = []
    fence = None
    for line in body.splitlines():
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
            fence = m.group(1)
            continue
        for link in _WIKILINK.finditer(_CODE_SPAN.sub("", line)):
            target = link.group(1).split("|", 1)[0].split("#", 1)[0].strip()
            targets.append(target)
    return targets


def section_ids(text: str) -> list[str]:
    """Document ids of the per-source sections of a concept/entity page, in order, repeats included."""
    return re.findall(r"^<!-- source:(\S+) -->\s*$", text, flags=re.MULTILINE)


def pages_on_disk(root) -> list[str]:
    """Every page under wiki/ (KB-relative, 'wiki/...md'), the special files and index shards excluded."""
    wiki = Path(root) / "wiki"
    return sorted(p.relative_to(root).as_posix() for p in wiki.rglob("*.md")
                  if p.relative_to(wiki).as_posix() not in SPECIAL and not p.relative_to(wiki).as_posix().startswith(
                      "index/"))


def catalogue(root) -> list[str]:
    """index.md and the shards it lists (KB-relative), following the links index.md makes to index/..."""
    wiki = Path(root) / "wiki"
    files = ["wiki/index.md"]
    for target in wiki_links((wiki / "index.md").read_text(encoding="utf-8")):
        if target.startswith("index/"):
            files.append(f"wiki/{target}.md")
    return files


def structural_problems(root, documents: list[dict] | None = None) -> list[str]:
    """Broken links, pages missing from index.md, documents without their pages, pages without front matter.

    `documents`: the `list --json` documents (each needs its summary, source and raw file on disk).
    """
    root = Path(root)
    problems = []
    pages = pages_on_disk(root)
    shards = catalogue(root)
    for rel in [*shards, *pages]:
        text = (root / rel).read_text(encoding="utf-8")
        for target in sorted(set(wiki_links(text))):
            dest = root / "wiki" / f"{target}.md"
            if not target or ".." in target.split("/") or not dest.is_file():
                problems.append(f"{rel}: broken link [[{target}]]")
    listed: dict[str, int] = {}
    for rel in shards:
        for target in wiki_links((root / rel).read_text(encoding="utf-8")):
            listed[target] = listed.get(target, 0) + 1
    for rel in pages:
        target = rel[len("wiki/"):-len(".md")]
        if target not in listed:
            problems.append(f"{rel}: not linked from wiki/index.md")
        elif listed[target] > 1:
            problems.append(f"{rel}: listed {listed[target]} times in the catalogue")
        meta, _ = front_matter((root / rel).read_text(encoding="utf-8"))
        for field in ("type", "title", "description", "sources"):
            if field not in meta:
                problems.append(f"{rel}: front matter has no {field!r}")
    for doc in documents or []:
        for folder in ("summaries", "sources"):
            if not (root / "wiki" / folder / f"{doc['id']}.md").is_file():
                problems.append(f"document {doc['id']}: wiki/{folder}/{doc['id']}.md is missing")
        if doc.get("raw_path") and not (root / doc["raw_path"]).is_file():
            problems.append(f"document {doc['id']}: {doc['raw_path']} is missing")
    return problems
