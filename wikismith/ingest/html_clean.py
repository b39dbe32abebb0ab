"""What a web page holds besides its text: navigation, citation markers, footnotes and reference lists.

`strip_apparatus` removes them from the HTML before the main content is extracted; `unlink_local` turns what is
left of in-page and site-relative links in the extracted Markdown into their text (a citation marker into nothing),
so that none of it becomes a link in the wiki: `(#cite_note-2)` never appears.
"""

from __future__ import annotations

import re

# Elements that are never content, by tag, id or class (Wikipedia/MediaWiki, Pandoc, Sphinx and blog themes).
_TAGS = ("nav", "footer")
_CLASSES = ("reference", "references", "reflist", "mw-references-wrap", "mw-editsection", "mw-cite-backlink",
            "navbox", "vertical-navbox", "noprint", "toc", "footnotes", "footnote-ref", "footnote-backref",
            "citation", "mw-jump-link", "catlinks", "printfooter", "sidebar", "breadcrumb", "breadcrumbs",
            "navigation", "skip-link", "headerlink")
_IDS = ("toc", "mw-navigation", "footer", "catlinks", "references", "footnotes", "siteSub", "jump-to-nav")
_APPARATUS = re.compile(r"(references|notes|footnotes|citations|bibliography|external links|further reading|"
                        r"sources|works cited|notes and references)\Z", re.IGNORECASE)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_CITATION_TEXT = re.compile(r"\\?\[\s*(?:\d{1,4}|[a-z]|note \d+|nb \d+|citation needed)\s*\\?\]|\^|↑|citation needed"
                            r"|\d{1,4}", re.IGNORECASE)
_MD_LINK = re.compile(r"(?<!!)\[((?:\\.|[^\[\]\\])*)\]\(([^()\s]*)(?:\s+\"[^\"\n]*\")?\)")  # text may wrap


def strip_apparatus(data: bytes) -> bytes:
    """The page without navigation, citation markers, footnotes, reference lists and their headings."""
    import lxml.html

    try:
        document = lxml.html.document_fromstring(data)
    except Exception:  # no elements at all: nothing to strip
        return data
    doomed = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        classes = set((element.get("class") or "").split())
        if (element.tag in _TAGS or element.get("role") == "navigation" or element.get("id") in _IDS
                or classes.intersection(_CLASSES) or _is_marker(element)):
            doomed.append(element)
        elif element.tag in _HEADINGS and _APPARATUS.match(" ".join(element.text_content().replace("[edit]", "")
                                                                    .split())):
            doomed.extend(_section_of(element))
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    return lxml.html.tostring(document, encoding="utf-8")


def _is_marker(element) -> bool:
    """A `<sup>` that only links into the page: a citation or footnote marker."""
    if element.tag != "sup":
        return False
    links = element.findall(".//a")
    return bool(links) and all((a.get("href") or "").startswith("#") for a in links)


def _section_of(heading) -> list:
    """A reference-list heading and the siblings after it, up to the next heading of its level or higher."""
    anchor = heading
    parent = heading.getparent()
    if parent is not None and parent.tag == "div" and "mw-heading" in (parent.get("class") or ""):
        anchor = parent  # MediaWiki wraps headings in <div class="mw-heading">
    level = int(heading.tag[1])
    out = [anchor]
    for sibling in anchor.itersiblings():
        inner = sibling if sibling.tag in _HEADINGS else next(iter(sibling.iter(*_HEADINGS)), None) \
            if isinstance(sibling.tag, str) and "mw-heading" in (sibling.get("class") or "") else None
        if inner is not None and int(inner.tag[1]) <= level:
            break
        out.append(sibling)
    return out


def unlink_local(markdown: str) -> str:
    """Markdown links that point into the page (`#...`) or into the site (relative) become their text; a citation
    marker (`[2]`, `^`) becomes nothing. Links to the web stay links."""
    def plain(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        if re.match(r"(?:https?|mailto|ftp):", target):
            return match.group(0)
        return "" if _CITATION_TEXT.fullmatch(text.strip()) and target.startswith("#") else text

    markdown = _MD_LINK.sub(plain, markdown)
    return re.sub(r"<sup>\s*</sup>", "", markdown)
