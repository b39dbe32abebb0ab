"""A docutils document tree written as Markdown (CommonMark with pipe tables and Obsidian callouts).

Sections become ATX headings (top-level sections `#`), literal blocks fenced code (with their language), lists,
tables, field lists and definition lists Markdown lists and tables, admonitions `> [!note]` callouts. References
to the web become links; references inside the document, footnote and citation markers become their text or
nothing; comments, targets, substitution definitions, system messages and the table of contents are dropped.
"""

from __future__ import annotations

import re

_ADMONITIONS = ("attention", "caution", "danger", "error", "hint", "important", "note", "tip", "warning")
_DROP = {"comment", "target", "substitution_definition", "system_message", "pending", "raw", "image", "decoration",
         "meta", "title", "subtitle", "colspec", "generated"}
_MARKERS = {"footnote_reference", "citation_reference"}  # dropped with the space before them
_IDENTIFIER = re.compile(r"(?<![\w`*])(__[A-Za-z0-9]\w*?__|_{1,2}[A-Za-z]\w*(?<!_))(?![\w`])")
_LINE_START = re.compile(r"([#>+\-=]|\d+[.)])(?=\s|$)")


def render(document) -> tuple[str, str | None]:
    """(Markdown, document title or None): the title of the only top-level section, when there is exactly one."""
    writer = _Writer()
    blocks = writer.blocks(document.children, 1)
    tops = [child for child in document.children if child.tagname == "section"]
    title = writer.inline(tops[0][0]) if len(tops) == 1 and len(tops[0]) and tops[0][0].tagname == "title" else None
    text = "\n\n".join(block for block in blocks if block.strip())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n", (" ".join(title.split()) or None) if title else None


class _Writer:
    def blocks(self, children, level: int) -> list[str]:
        out: list[str] = []
        for node in children:
            out.extend(self.block(node, level))
        return out

    def block(self, node, level: int) -> list[str]:
        tag = node.tagname
        if tag in _DROP or tag == "#text" and not node.astext().strip():
            return []
        if tag == "section":
            title = self.inline(node[0]) if len(node) and node[0].tagname == "title" else ""
            head = [f"{'#' * min(level, 6)} {' '.join(title.split())}"] if title.strip() else []
            return head + self.blocks(node.children, level + 1)
        if tag in ("paragraph", "#text", "inline", "strong", "emphasis", "literal", "reference"):
            text = self.inline(node)
            return [_guard_start(text)] if text.strip() else []
        if tag in ("literal_block", "doctest_block", "math_block"):
            return [_fence(node.astext(), _language(node, tag))]
        if tag == "bullet_list":
            return [self.items([("- ", item) for item in node.children], level)]
        if tag == "enumerated_list":
            start = int(node.get("start", 1))
            return [self.items([(f"{start + i}. ", item) for i, item in enumerate(node.children)], level)]
        if tag in ("definition_list", "field_list", "docinfo", "option_list"):
            return [self.pairs(node, level)]
        if tag in ("block_quote", "epigraph", "highlights", "pull_quote"):
            return [_quote(self.blocks(node.children, level))]
        if tag in _ADMONITIONS or tag == "admonition":
            return [self.callout(node, level)]
        if tag == "topic" and "contents" in node.get("classes", ()):
            return []
        if tag in ("topic", "sidebar"):
            title = self.inline(node[0]) if len(node) and node[0].tagname == "title" else ""
            return ([f"**{title}**"] if title else []) + self.blocks(node.children, level)
        if tag == "rubric":
            return [f"**{self.inline(node)}**"]
        if tag == "line_block":
            return ["\n".join(_guard_start(self.inline(line)) + "  " for line in node.findall(_is_line))]
        if tag == "transition":
            return ["* * *"]
        if tag == "table":
            return [self.table(node)]
        if tag in ("footnote", "citation"):
            body = self.blocks([child for child in node.children if child.tagname != "label"], level)
            return [_indent_item("- ", "\n\n".join(body))] if body else []
        if tag in ("figure", "legend", "caption", "compound", "container", "attribution", "line", "entry",
                   "definition", "field_body", "description"):
            return self.blocks(node.children, level)
        return self.blocks(node.children, level) if len(node.children) else []

    # -- lists, pairs, quotes, tables ----------------------------------------------------------------------------

    def items(self, marked, level: int) -> str:
        return "\n".join(_indent_item(marker, "\n\n".join(self.blocks(item.children, level)) or "")
                         for marker, item in marked)

    def pairs(self, node, level: int) -> str:
        """Definition lists, field lists and option lists as `- **term**: body` items."""
        out = []
        for item in node.children:
            if item.tagname in ("field", "definition_list_item", "option_list_item"):
                term = [child for child in item.children if child.tagname in ("field_name", "term", "classifier",
                                                                               "option_group")]
                rest = [child for child in item.children if child not in term]
                label = " ".join(self.inline(part) for part in term).strip()
                body = self.blocks(rest, level)
                if body and "\n" not in body[0] and not body[0].startswith(("- ", "```", ">", "|", "**")):
                    head, body = f"**{label}**: {body[0]}", body[1:]
                else:
                    head = f"**{label}**"
                out.append(_indent_item("- ", head + "".join("\n\n" + block for block in body)))
            else:
                out.append(_indent_item("- ", "\n\n".join(self.block(item, level))))
        return "\n".join(out)

    def callout(self, node, level: int) -> str:
        kind = node.tagname if node.tagname != "admonition" else "note"
        title = self.inline(node[0]) if len(node) and node[0].tagname == "title" else ""
        body = self.blocks(node.children, level)
        head = f"[!{kind}]" + (f" {title}" if title else "")
        return _quote([head + ("\n" + body[0] if body else "")] + body[1:])

    def table(self, node) -> str:
        rows = []
        header_rows = 0
        for group in node.findall(lambda n: n.tagname in ("thead", "tbody")):
            for row in group.children:
                cells = [" ".join(" ".join(self.blocks(entry.children, 1)).split()).replace("|", "\\|")
                         for entry in row.children]
                rows.append(cells)
                header_rows += group.tagname == "thead"
        if not rows:
            return ""
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        head = rows[0] if header_rows else [""] * width
        body = rows[1:] if header_rows else rows
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)

    # -- inline ---------------------------------------------------------------------------------------------------

    def inline(self, node) -> str:
        parts: list[str] = []
        for child in (node.children if node.tagname != "#text" else [node]):
            parts.append(self.span(child))
        return re.sub(r"\s*\x01", "", "".join(parts)).replace("\n", " ")

    def span(self, node) -> str:
        tag = node.tagname
        if tag == "#text":
            return _text(node.astext())
        if tag in _DROP:
            return ""
        if tag in _MARKERS:
            return "\x01"
        if tag in ("literal", "title_reference"):
            return _code(node.astext())
        if tag in ("emphasis", "strong"):
            inner = self.inline(node).strip()
            mark = "*" if tag == "emphasis" else "**"
            return f"{mark}{inner}{mark}" if inner else ""
        if tag == "math":
            return f"${node.astext()}$"
        if tag == "reference":
            text = self.inline(node)
            uri = node.get("refuri", "")
            if not uri.startswith(("http://", "https://", "mailto:")):
                return text
            if node.astext() == uri:
                return f"<{uri}>"
            return f"[{text}]({_uri(uri)})" if text.strip() else f"<{uri}>"
        if tag in ("paragraph", "line"):
            return self.inline(node) + " "
        return self.inline(node) if len(node.children) else _escape(node.astext())


def _is_line(node) -> bool:
    return node.tagname == "line"


def _language(node, tag: str) -> str:
    if tag == "doctest_block":
        return "pycon"
    if tag == "math_block":
        return "math"
    language = node.get("language") or ""
    classes = [c for c in node.get("classes", ()) if c != "code"]
    return (language or (classes[0] if classes else "")).split()[0] if (language or classes) else ""


def _fence(code: str, language: str) -> str:
    runs = [len(m) for m in re.findall(r"`{3,}", code)]
    fence = "`" * max([3] + [run + 1 for run in runs])
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


def _code(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    ticks = "`" * (max([0] + [len(m) for m in re.findall(r"`+", text)]) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _text(text: str) -> str:
    """Plain text as Markdown: bare identifiers (`__init__`, `_private`) in code spans, markup characters escaped."""
    parts = _IDENTIFIER.split(text)
    return "".join(_code(part) if index % 2 else _escape(part) for index, part in enumerate(parts))


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("`", "\\`").replace("*", "\\*")
    text = text.replace("[", "\\[").replace("]", "\\]")
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def _guard_start(text: str) -> str:
    """A paragraph whose first characters Markdown would read as a heading, quote or list marker, escaped."""
    text = text.strip()
    match = _LINE_START.match(text)
    if not match:
        return text
    marker = match.group(1)
    return "\\" + text if not marker[0].isdigit() else marker[:-1] + "\\" + text[len(marker) - 1:]


def _uri(uri: str) -> str:
    return f"<{uri}>" if re.search(r"[\s()<>]", uri) else uri


def _indent_item(marker: str, body: str) -> str:
    pad = " " * len(marker)
    lines = body.split("\n")
    return marker + lines[0] + "".join("\n" + (pad + line if line.strip() else "") for line in lines[1:])


def _quote(blocks: list[str]) -> str:
    text = "\n\n".join(block for block in blocks if block.strip())
    return "\n".join("> " + line if line.strip() else ">" for line in text.split("\n"))
