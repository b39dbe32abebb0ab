"""Where each kind of page lives, how a link names it, and how summary and source pages are written."""

from __future__ import annotations

import json
from functools import lru_cache

from wikismith.markdown import code_identifiers, headings
from wikismith.wiki import frontmatter, scaffold
from wikismith.wiki.links import link

FOLDER_OF_KIND = {"source": "sources", "summary": "summaries", "concept": "concepts", "entity": "entities",
                  "exploration": "explorations", "report": "reports"}
KIND_ORDER = ("summary", "concept", "entity", "source", "exploration", "report")
KIND_HEADINGS = {"summary": "Summaries", "concept": "Concepts", "entity": "Entities", "source": "Sources",
                 "exploration": "Explorations", "report": "Reports"}


def page_path(kind: str, slug: str) -> str:
    """KB-relative file path of a page: wiki/concepts/type-hint.md."""
    return f"wiki/{FOLDER_OF_KIND[kind]}/{slug}.md"


def target_of(path: str) -> str:
    """The wikilink target of a page path: wiki/concepts/type-hint.md -> concepts/type-hint."""
    assert path.startswith("wiki/") and path.endswith(".md"), path
    return path[len("wiki/") : -len(".md")]


def path_of(target: str) -> str:
    return f"wiki/{target}.md"


def tree_path(doc_id: str) -> str:
    return f"wiki/sources/{doc_id}.tree.json"


def heading(title: str) -> str:
    """A page's H1: its title, with identifiers in code so that Markdown shows their underscores."""
    return f"# {code_identifiers(title)}"


def with_front_matter(meta: dict, body: str) -> str:
    return frontmatter.render(meta) + "\n" + body.lstrip("\n")


SOURCE_KEYS = ("type", "title", "description", "sources", "origin")


def render_source(doc_id: str, title: str, description: str, origin: str, markdown: str) -> str:
    """The converted document under one front matter and one H1: the document's own front matter (a PEP's header)
    joins the page's, a heading that repeats the title goes, and the document's headings move down a level when it
    has H1s of its own."""
    meta = {"type": "source", "title": title, "description": description, "sources": [doc_id], "origin": origin}
    own, body = frontmatter.parse(markdown) if markdown.startswith("---") else ({}, markdown)
    meta.update((key, value) for key, value in own.items() if key not in SOURCE_KEYS and _plain_value(value))
    return with_front_matter(meta, f"{heading(title)}\n\n{one_h1(body, title).strip()}\n")


def _plain_value(value) -> bool:
    items = value if isinstance(value, list) else [value]
    return all(item is None or isinstance(item, (str, int, float, bool)) for item in items)


def one_h1(markdown: str, title: str) -> str:
    """`markdown` with no H1 left: a first heading that repeats `title` dropped, then every heading one level
    deeper (at most 6) when an H1 remains."""
    from wikismith.ingest.headings import clean_title

    found = headings(markdown)
    lines = markdown.split("\n")
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if found and found[0].line == first and clean_title(found[0].title).casefold() == clean_title(title).casefold():
        del lines[first:first + found[0].lines]
        found = headings("\n".join(lines))
    if not any(h.level == 1 for h in found):
        return "\n".join(lines)
    for h in reversed(found):
        lines[h.line:h.line + h.lines] = [f"{'#' * min(h.level + 1, 6)} {h.title}"]
    return "\n".join(lines)


def render_tree_json(tree: dict) -> str:
    return json.dumps(tree, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def render_tree(node: dict, depth: int = 0, paged: bool = True) -> list[str]:
    """A long document's tree as nested bullets, with page ranges when the document has pages (a tree over the
    heading sections of a text shows none: its "pages" are section numbers)."""
    lines = []
    pages = f"p. {node['first_page']}" + (f"-{node['last_page']}" if node["last_page"] != node["first_page"] else "")
    summary = f" - {node['summary']}" if node.get("summary") else ""
    lines.append(f"{'  ' * depth}- **{node['title']}**{f' ({pages})' if paged else ''}{summary}")
    for child in node.get("children", []):
        lines.extend(render_tree(child, depth + 1, paged))
    return lines


def render_summary(doc_id: str, draft, linked: dict[str, list[tuple[str, str]]], when: str) -> str:
    """The summary page: description, key points, outline or tree, and links to the pages it touches."""
    src = draft.source
    meta = {"type": "summary", "title": draft.title, "description": draft.description, "sources": [doc_id],
            "origin": src.origin, "kind": src.kind, "hash": src.hash, "updated": when}
    out = [heading(draft.title), "", draft.description, ""]
    if draft.body.strip():
        out += [draft.body.strip(), ""]
    if draft.key_points:
        out += ["## Key points", ""] + [f"- {point}" for point in draft.key_points] + [""]
    if draft.tree:
        out += ["## Structure", ""]
        roots = draft.tree.get("children") or [draft.tree]
        for node in roots:
            out += render_tree(node, paged=draft.page_count is not None)
        out.append("")
    elif draft.outline:
        out += ["## Outline", ""]
        for level, entry, page in draft.outline:
            where = f" (p. {page})" if page else ""
            out.append(f"{'  ' * max(0, level - 1)}- {entry}{where}")
        out.append("")
    out += [link_block(linked), ""]
    out += ["## Source", "", f"- Converted text: {link(f'sources/{doc_id}', draft.title)}",
            f"- Origin: `{src.origin}`" if "`" not in src.origin else f"- Origin: {src.origin}", ""]
    return with_front_matter(meta, "\n".join(out))


LINKS_OPEN, LINKS_CLOSE = "<!-- links -->", "<!-- /links -->"


def link_block(linked: dict[str, list[tuple[str, str]]]) -> str:
    """A summary's links to the concept and entity pages its document feeds, between markers, so that the block
    alone can be written again when a page comes or goes. linked: kind -> [(target, label)]."""
    out = [LINKS_OPEN]
    for kind, section in (("concept", "Concepts"), ("entity", "Entities")):
        if linked.get(kind):
            out += [f"## {section}", "", ", ".join(link(target, label) for target, label in linked[kind]), ""]
    out.append(LINKS_CLOSE)
    return "\n".join(out)


def replace_link_block(text: str, block: str) -> str | None:
    """`text` with its link block replaced; None when it has none (a summary written before there were blocks)."""
    start, end = text.find(LINKS_OPEN + "\n"), text.find("\n" + LINKS_CLOSE)
    if start < 0 or end < start:
        return None
    return text[:start] + block + text[end + 1 + len(LINKS_CLOSE):]


@lru_cache(maxsize=16384)  # a catalogue node lists up to 150 pages and is rewritten whenever one of them changes
def index_line(path: str, title: str, desc: str) -> str:
    line = f"- {link(target_of(path), title)}"
    return f"{line} - {' '.join(desc.split())}" if desc else line
