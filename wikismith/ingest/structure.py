"""The outline and the tree of a converted document.

When a document gets a tree:
- a PDF of at least `limits.long_document_pages` pages: from its outline when it has one, else fixed windows;
- a PDF whose outline is deep (>= 12 entries or >= 3 levels, see `tree.is_deep`), whatever its length;
- any other document whose headings are deep by the same rule. Its "pages" are then heading sections numbered
  1..n: the text before the first heading (when there is any) is section 1, and every heading opens the next one.
  `ConvertedDocument.sections` holds their markdown and `tree_unit` says "section".
"""

from __future__ import annotations

from wikismith.ingest.document import ConvertedDocument, Limits, OutlineEntry
from wikismith.ingest.headings import Heading, find_headings
from wikismith.ingest.summary import plain_text, summarize
from wikismith.ingest.tree import is_deep, tree_from_outline, tree_from_windows

_SUMMARY_PAGES = 3  # a node's summary reads at most its first three pages


def add_structure(doc: ConvertedDocument, limits: Limits) -> ConvertedDocument:
    if doc.pages is not None:
        _paged(doc, limits)
    else:
        _sectioned(doc)
    return doc


def _paged(doc: ConvertedDocument, limits: Limits) -> None:
    pages = doc.pages or []
    count = len(pages)
    doc.page_count = count
    if count == 0:
        return

    def summary_for(first: int, last: int, title: str) -> str:
        return summarize("\n".join(pages[first - 1:min(last, first + _SUMMARY_PAGES - 1)]), after=title or None)

    long_doc = count >= limits.long_document_pages
    usable = any(entry.page is not None for entry in doc.outline)  # bookmarks that point nowhere cannot place pages
    if usable and (long_doc or is_deep([entry.level for entry in doc.outline])):
        entries = [(entry.level, entry.title, entry.page) for entry in doc.outline]
        doc.tree = tree_from_outline(entries, count, doc.title, summary_for)
    elif long_doc:
        doc.tree = tree_from_windows(count, doc.title, summary_for)
    if doc.tree is not None:
        doc.tree_unit = "page"


def _sectioned(doc: ConvertedDocument) -> None:
    headings = find_headings(doc.markdown)
    if not doc.outline:
        doc.outline = [OutlineEntry(heading.level, heading.title, None) for heading in headings]
    if not headings or not is_deep([heading.level for heading in headings]):
        return
    sections, numbers = split_sections(doc.markdown, headings)

    def summary_for(first: int, last: int, title: str) -> str:
        return summarize(plain_text("\n".join(sections[first - 1:last][:_SUMMARY_PAGES * 4])))

    entries = [(heading.level, heading.title, number) for heading, number in zip(headings, numbers)]
    doc.tree = tree_from_outline(entries, len(sections), doc.title, summary_for, split_big_leaves=False)
    doc.tree_unit = "section"
    doc.sections = sections


def split_sections(markdown: str, headings: list[Heading]) -> tuple[list[str], list[int]]:
    """Cut `markdown` at every heading: (sections' markdown, the 1-based section number of each heading)."""
    lines = markdown.split("\n")
    sections: list[str] = []
    preamble = "\n".join(lines[: headings[0].line])
    if preamble.strip():
        sections.append(preamble)
    numbers = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].line if index + 1 < len(headings) else len(lines)
        sections.append("\n".join(lines[heading.line:end]))
        numbers.append(len(sections))
    return sections, numbers
