"""From Markdown or reStructuredText to prose blocks: what the extractive compiler reads.

Code blocks, tables, directives, front matter, page markers and link targets are dropped; headings, paragraphs
and list items are kept, with inline markup reduced to Markdown (`code` spans kept, links reduced to their text).
Line-based and linear, whatever the input.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from wikismith.markdown import BARE_IDENTIFIER, atx_heading, fence_closes, fence_opening, front_matter_end

MAX_CHARS = 600_000  # the analysis reads at most this much of a document: bounded cost for huge inputs


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading", "para", "item" or "author"
    text: str
    line: int


_HEADER_FIELD = re.compile(r"([A-Z][A-Za-z-]*):(?:[ \t]+(.*))?\Z")
_UNDERLINE = re.compile(r"([=\-~^\"'`*+#:._])\1{2,}[ \t]*\Z")
_SIMPLE_TABLE = re.compile(r"=+( +=+)+[ \t]*\Z")
_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:\s*\S")  # "[trait-objects]: ch18-02.md": a link's target, not prose
_TABLE_LINE = re.compile(r"[ \t]*(\||\+[-=+])")
_LIST = re.compile(r"([ \t]*)([-*+•‣◦▪]|\d{1,3}[.)]|#\.|\(?[a-zA-Z][.)]|\(\d{1,3}\))[ \t]+(?=\S)")
_DIRECTIVE = re.compile(r"([ \t]*)\.\.(?:[ \t]+([\w:-]+)::)?")
_PROSE_DIRECTIVES = {"note", "warning", "tip", "important", "attention", "caution", "danger", "error", "hint",
                     "seealso", "admonition", "topic", "sidebar", "versionadded", "versionchanged", "deprecated",
                     "rubric", "epigraph", "highlights", "pull-quote", "container"}
_CODEY = re.compile(r"^\s*(>>>|\.\.\. |\$ |def \w+\(|class \w+\s*[(:]|import [\w.]+\s*$|from [\w.]+ import |@\w+\s*$)"
                    r"|[{};]\s*$|\w\s*=\s*[\w\[({'\"]")
_INDENT = re.compile(r"[ \t]*")

_LITERAL = re.compile(r"``(.+?)``(?!`)")
_CODE = re.compile(r"`([^`]+)`(?!_)")
_ROLE = re.compile(r":(?:\w+:)?(\w[\w-]*):`([^`]+)`")
_RST_LINK = re.compile(r"`([^`<]*?)\s*(?:<[^`>]*>)?`__?")
_FOOTREF = re.compile(r"\s?\[(?:#?[\w.-]*|\*)\]_")
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
# Link text may hold escaped brackets: trafilatura writes a citation marker as [\[2\]](#cite_note-2).
_MD_LINK = re.compile(r"(?<!\[)\[((?:\\.|[^\[\]\n\\])+)\](\([^)\n]*\)|\[[^\]\n]*\])")
_CITATION = re.compile(r"\\?\[\s*(?:\d{1,4}|[a-z]|note \d+|citation needed|nb \d+)\s*\\?\]\Z", re.IGNORECASE)
_WIKILINK = re.compile(r"\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|<(?:https?|mailto):[^<>\s]*>")
_EMPH = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
_UNDERSCORE_EMPH = re.compile(r"(?<![\w`])(_{1,2})(?=[^\s_])([^_\n]+?)(?<=\S)\1(?!\w)")  # _file.md_, __bold__
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_CODE_ROLES = {"class", "func", "meth", "attr", "data", "mod", "obj", "exc", "const", "code", "samp", "file"}


def _link_text(m: re.Match) -> str:
    """A Markdown link's text; nothing for a citation or footnote marker ([2] pointing into the page)."""
    text, target = m.group(1), m.group(2)
    if target.startswith("(#") and _CITATION.match(text):
        return ""
    return text


def _code_span(inner: str) -> str:
    inner = inner.strip().replace("`", "'")
    return f"`{inner}`" if inner else ""


def clean_inline(s: str) -> str:
    """One line or paragraph of Markdown/RST inline markup reduced to plain text with `code` spans."""
    spans: list[str] = []

    def keep(code: str) -> str:
        spans.append(_code_span(code))
        return f"\x00{len(spans) - 1}\x00"

    def role(m: re.Match) -> str:
        name, body = m.group(1), m.group(2)
        target = re.match(r"(.*?)\s*<[^<>]*>\s*\Z", body, re.S)
        if name in ("pep", "rfc"):
            return target.group(1) if target else f"{name.upper()} {body.split('#')[0].strip()}"
        if name in _CODE_ROLES:
            return keep(body.lstrip("~!"))
        return target.group(1) if target else body

    s = s.replace("\x00", "").replace("\\ ", "")
    s = _LITERAL.sub(lambda m: keep(m.group(1)), s)  # first: a literal shows a role's text, it is not a role
    s = _ROLE.sub(role, s)
    s = _CODE.sub(lambda m: keep(m.group(1)), s)
    if "_" in s:  # a bare __dunder__ or _private name is an identifier, not emphasis: keep it, in code
        s = BARE_IDENTIFIER.sub(lambda m: m.group(1) or keep(m.group(2)), s)
    s = _RST_LINK.sub(lambda m: m.group(1), s)
    s = _FOOTREF.sub("", s)
    s = _MD_IMAGE.sub("", s)
    s = _WIKILINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), s)
    s = _MD_LINK.sub(_link_text, s)
    s = _TAG.sub("", s)
    s = _EMPH.sub(lambda m: m.group(2), s)
    s = _UNDERSCORE_EMPH.sub(lambda m: m.group(2), s)
    s = _ESCAPE.sub(lambda m: m.group(1), s)
    if "&" in s:
        s = html.unescape(s)
    s = " ".join(s.split())
    while "\x00" in s:  # a placeholder may hold another (a `code span` around a ``literal``)
        restored = _PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], s)
        if restored == s:
            return s.replace("\x00", "")
        s = restored
    return s


def _indent(line: str) -> int:
    return len(_INDENT.match(line).group(0).expandtabs(4))


def _header(lines: list[str], out: list[Block]) -> int:
    """Consume an RFC 822 style header (as PEPs have); return the first line after it."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    start, fields = i, []
    while i < len(lines) and lines[i].strip():
        m = _HEADER_FIELD.match(lines[i].rstrip())
        if m:
            fields.append([m.group(1).lower(), m.group(2) or "", i])
        elif lines[i][:1] in " \t" and fields:
            fields[-1][1] += " " + lines[i].strip()
        else:
            return 0
        i += 1
    if len(fields) < 2:
        return 0
    for name, value, line in fields:
        if name in ("title", "subject"):
            out.append(Block("title", clean_inline(value), line))
        elif name in ("author", "authors"):
            for person in re.sub(r"<[^<>]*>|\([^()]*\)", "", value).split(","):
                if person.strip():
                    out.append(Block("author", " ".join(person.split()), line))
    return i if i > start else 0


def _front_matter(lines: list[str], out: list[Block]) -> int:
    """The "title" and "author" blocks of a YAML front matter (`title`, `authors` as a list or `author`), as a
    converted PEP header has them. Returns 0: the lines were consumed already."""
    from wikismith.wiki.frontmatter import parse

    meta, _ = parse("\n".join(lines) + "\n")
    if isinstance(meta.get("title"), str) and meta["title"].strip():
        out.append(Block("title", clean_inline(meta["title"]), 0))
    for key in ("authors", "author"):
        value = meta.get(key)
        for person in value if isinstance(value, list) else [value] if isinstance(value, str) else []:
            if str(person).strip():
                out.append(Block("author", " ".join(str(person).split()), 0))
    return 0


def blocks(text: str) -> list[Block]:
    """The prose blocks of a Markdown or reStructuredText document, in order."""
    lines = text[:MAX_CHARS].splitlines()
    out: list[Block] = []
    i = front_matter_end(lines)
    i += _header(lines[i:], out) if i == 0 else _front_matter(lines[:i], out)
    para: list[str] = []
    para_kind, para_line, para_indent = "para", 0, 0
    skip_indent = -1  # skipping an indented block (literal block, directive) deeper than this indent
    fence = ""
    table = False
    in_comment = False

    def flush() -> None:
        nonlocal para, skip_indent
        if para:
            joined = " ".join(para)
            if joined.endswith("::"):
                skip_indent = para_indent if para_kind == "para" else para_indent - 1
                joined = joined[:-2].rstrip() + (":" if not joined[:-2].endswith(" ") else "")
            if not (para_kind == "para" and _looks_like_code(para)):
                cleaned = clean_inline(joined)
                if cleaned:
                    out.append(Block(para_kind, cleaned, para_line))
        para = []

    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        i += 1
        if in_comment:
            in_comment = "-->" not in line
            continue
        if fence:
            if fence_closes(line, fence):
                fence = ""
            continue
        if skip_indent >= 0:
            if not stripped or _indent(line) > skip_indent:
                continue
            skip_indent = -1
        if table:
            table = not (_SIMPLE_TABLE.match(stripped) and (i >= n or not lines[i].strip()))
            continue
        if not stripped:
            flush()
            continue
        if stripped.startswith("<!--"):
            flush()
            in_comment = "-->" not in stripped
            continue
        opened = fence_opening(line)
        if opened and len(para) == 1 and stripped == opened and len(stripped) >= max(4, len(para[0])):
            opened = None  # an RST heading underlined with ` or ~, not a code fence
        if opened:
            flush()
            fence = opened
            continue
        heading = atx_heading(line)
        if heading:
            flush()
            out.append(Block("heading", clean_inline(heading[1]), i - 1))
            continue
        if _SIMPLE_TABLE.match(stripped) and not para:
            table = True
            continue
        if _UNDERLINE.match(stripped):
            if len(para) == 1 and para_kind == "para":
                out.append(Block("heading", clean_inline(para[0]), para_line))
                para = []
            else:
                flush()
            continue
        if _TABLE_LINE.match(line) or (not para and _LINK_DEFINITION.match(line)):
            flush()
            continue
        m = _DIRECTIVE.match(line)
        if m and (len(stripped) == 2 or stripped[2:3] in (" ", "\t")):
            flush()
            if m.group(2) not in _PROSE_DIRECTIVES:
                skip_indent = _indent(line)
            continue
        indent = _indent(line)
        m = _LIST.match(line)
        if m:
            flush()
            para, para_kind, para_line = [stripped[m.end() - len(m.group(1)) :].strip()], "item", i - 1
            para_indent = len(m.group(0).expandtabs(4))
            continue
        if stripped.startswith(">") and not stripped.startswith(">>>"):
            stripped = stripped.lstrip("> ").strip()
        if para and (indent < para_indent - (4 if para_kind == "item" else 0)
                     or (indent > para_indent and para_kind == "para" and len(para) == 1)):
            flush()
        if not para:
            para_kind, para_line, para_indent = "para", i - 1, indent
        para.append(stripped)
    if not fence:
        flush()
    return out


def _looks_like_code(lines: list[str]) -> bool:
    if lines[0].startswith(">>>"):
        return True
    hits = sum(1 for line in lines if _CODEY.search(line))
    return hits * 2 > len(lines)
