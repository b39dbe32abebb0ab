"""reStructuredText → Markdown through docutils, the reference parser.

A PEP's RFC 822 header (`PEP:`, `Title:`, `Author:` ... before the first blank line) is not RST: it is cut off
first and becomes YAML front matter (see `pep_metadata`). The rest is parsed by docutils with file insertion and
raw output disabled (a document never reads another file), quietly (no message reaches stderr), and written as
Markdown by `wikismith.ingest.rst_markdown`.

Sphinx's roles and directives are unknown to plain docutils. Every role and directive name a document uses that
docutils does not know is registered before parsing: code-like roles (`:class:`, `:func:` ...) become code spans,
`:pep:`/`:rfc:` become "PEP 484", any other role its text; code directives keep their code, version notes and
"see also" keep their prose, the rest (`toctree`, `index`, `canonical-doc` ...) are dropped. Nothing ever shows as
a placeholder or as raw markup.
"""

from __future__ import annotations

import io
import re

from wikismith.ingest.headings import clean_title

_HEADER_LINE = re.compile(r"([A-Z][A-Za-z0-9-]*):[ \t]*(.*)\Z")
_ROLE_USE = re.compile(r"(?<![\w`]):((?:[A-Za-z0-9]+[-.+:])*[A-Za-z0-9]+):`")
_DIRECTIVE_USE = re.compile(r"^[ \t]*\.\.[ \t]+((?:[A-Za-z0-9]+[-._+:])*[A-Za-z0-9]+)[ \t]*::", re.M)
_EXPLICIT = re.compile(r"(.*?)\s*<([^<>]*)>\s*\Z", re.S)

CODE_ROLES = {"class", "func", "meth", "attr", "data", "mod", "obj", "exc", "const", "code", "samp", "file",
              "envvar", "option", "program", "command", "kbd", "keyword", "type", "var", "member", "macro",
              "function", "method", "attribute", "module", "exception", "decorator", "token"}
CODE_DIRECTIVES = {"code-block", "sourcecode", "doctest", "testcode", "testoutput", "productionlist", "prompt"}
PROSE_DIRECTIVES = {"versionadded": "Added in version", "versionchanged": "Changed in version",
                    "versionremoved": "Removed in version", "deprecated": "Deprecated since version",
                    "seealso": "See also", "todo": "To do", "glossary": "", "only": "", "centered": "", "hlist": "",
                    "describe": "", "function": "", "class": "", "method": "", "attribute": "", "data": "",
                    "exception": "", "decorator": "", "object": "", "tab": "", "card": ""}
_SETTINGS = {"report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
             "doctitle_xform": False, "docinfo_xform": False, "sectsubtitle_xform": False, "syntax_highlight": "none",
             "smart_quotes": False, "pep_references": False, "rfc_references": False, "input_encoding": "unicode",
             "character_level_inline_markup": False, "auto_id_prefix": "id", "language_code": "en",
             "traceback": True}
_registered: set[str] = set()
_components = None  # (parser, reader, settings), made on first use


def rst_to_markdown(text: str) -> tuple[str, str | None]:
    """(Markdown, document title or None). A PEP header becomes front matter; its title is the document title."""
    from wikismith.ingest import rst_markdown
    from wikismith.wiki import frontmatter

    header, body = split_header(text)
    _register_unknown(body)
    document = _parse(body)
    markdown, title = rst_markdown.render(document)
    meta = pep_metadata(header) if header else {}
    if meta:
        markdown = frontmatter.render(meta) + "\n" + markdown
    return markdown, meta.get("title") or title


def split_header(text: str) -> tuple[list[tuple[str, str]], str]:
    """([(field, value)] of an RFC 822 header at the very top, the text after it). No header: ([], text)."""
    lines = text.split("\n")
    fields: list[list[str]] = []
    index = 0
    while index < len(lines) and lines[index].strip():
        line = lines[index]
        match = _HEADER_LINE.match(line.rstrip())
        if match and not line[:1].isspace():
            fields.append([match.group(1), match.group(2).strip()])
        elif line[:1] in " \t" and fields:
            fields[-1][1] = (fields[-1][1] + " " + line.strip()).strip()
        else:
            return [], text
        index += 1
    if len(fields) < 2 or not any(name.lower() in ("title", "pep", "author") for name, _ in fields):
        return [], text
    return [(name, value) for name, value in fields], "\n" * index + "\n".join(lines[index:])


# -- the header as metadata -----------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}
_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})\Z")
_RST_LINK = re.compile(r"`([^`<]*?)\s*(?:<[^`>]*>)?`_{1,2}")
_PERSON_KEYS = {"sponsor", "bdfl_delegate", "pep_delegate"}
_LIST_KEYS = {"post_history", "requires", "replaces", "superseded_by"}
_RENAMED = {"type": "pep_type", "author": "authors"}
_DROPPED = {"content_type"}


def pep_metadata(header: list[tuple[str, str]]) -> dict:
    """A PEP header as front-matter fields: `title`, `authors` (a list of names), `status`, `created` (ISO date when
    it is a date), then every other field in header order, named in lower case with `_` for `-` (`Type` becomes
    `pep_type`, so as not to clash with a page's `type`); `pep` is a number, `post_history` a list of dates."""
    raw: dict = {}
    for name, value in header:
        key = name.lower().replace("-", "_")
        key = _RENAMED.get(key, key)
        if key in _DROPPED or key in raw:
            continue
        value = _plain(value)
        if key == "authors":
            raw[key] = people(value)
        elif key in _PERSON_KEYS:
            raw[key] = ", ".join(people(value))
        elif key in _LIST_KEYS:
            raw[key] = [_iso_date(item) for item in (part.strip() for part in value.split(",")) if item]
        elif key == "pep" and value.isdigit():
            raw[key] = int(value)
        elif key == "title":
            raw[key] = clean_title(value)
        else:
            raw[key] = _iso_date(value)
    first = [key for key in ("title", "authors", "status", "created") if key in raw]
    return {key: raw[key] for key in first + [k for k in raw if k not in first] if raw[key] not in ("", [])}


def people(value: str) -> list[str]:
    """The names in an Author-style field: `Ann Lee <ann@x.org>, bob@x.org (Bob Stone)` → [Ann Lee, Bob Stone]."""
    out = []
    for part in re.split(r",(?![^<>()]*[>)])", value):
        part = part.strip()
        named = re.fullmatch(r"\S+@\S+\s*\(([^()]+)\)", part)
        name = named.group(1) if named else re.sub(r"<[^<>]*>|\([^()]*\)", "", part)
        name = " ".join(name.split()).strip(" ,")
        if name:
            out.append(name)
    return out


def _plain(value: str) -> str:
    value = _RST_LINK.sub(lambda m: m.group(1), value)
    return " ".join(value.replace("``", "").split())


def _iso_date(value: str) -> str:
    match = _DATE.match(value.strip())
    if not match or match.group(2).lower() not in _MONTHS:
        return value
    return f"{match.group(3)}-{_MONTHS[match.group(2).lower()]:02d}-{int(match.group(1)):02d}"


# -- parsing --------------------------------------------------------------------------------------------------------

def _parse(body: str):
    """The document tree of `body`: docutils' parser and the standard reader's transforms (references resolved),
    with settings built once per process (building them costs more than parsing a short document)."""
    from docutils import utils

    global _components
    if _components is None:
        from docutils import frontend
        from docutils.parsers.rst import Parser
        from docutils.readers.standalone import Reader

        settings = frontend.get_default_settings(Parser, Reader)
        settings.__dict__.update(_SETTINGS)
        _components = (Parser(), Reader(), settings)
    parser, reader, settings = _components
    settings.warning_stream = io.StringIO()
    document = utils.new_document("<rst>", settings)
    parser.parse(body, document)
    document.transformer.populate_from_components((reader, parser))
    document.transformer.apply_transforms()
    return document


def _register_unknown(text: str) -> None:
    """Register a role or directive for every name `text` uses that docutils does not know (once per process)."""
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.languages import en

    for name in {m.group(1).lower() for m in _ROLE_USE.finditer(text)} - _registered:
        _registered.add(name)
        if name in ("pep", "rfc") or name not in en.roles:
            roles.register_local_role(name, _role(name))
    for name in {m.group(1).lower() for m in _DIRECTIVE_USE.finditer(text)} - _registered:
        _registered.add(name)
        if name not in en.directives:
            directives.register_directive(name, _directive(name))


def _role(name: str):
    from docutils import nodes
    from docutils.utils import unescape

    short = name.rsplit(":", 1)[-1]

    def role(role_name, rawtext, text, lineno, inliner, options=None, content=None):
        text = unescape(text)
        explicit = _EXPLICIT.match(text)
        title = explicit.group(1).strip() if explicit and explicit.group(1).strip() else None
        if short in ("pep", "rfc"):
            number = (explicit.group(2) if explicit else text).split("#")[0].strip()
            return [nodes.Text(title or f"{short.upper()} {number}")], []
        if short in CODE_ROLES:
            shown = title or text.lstrip("!")
            if shown.startswith("~"):
                shown = shown[1:].rsplit(".", 1)[-1]
            return [nodes.literal(rawtext, shown)], []
        if short == "abbr":
            return [nodes.Text(re.sub(r"\s*\([^()]*\)\s*\Z", "", text))], []
        return [nodes.Text(title or text)], []

    return role


def _directive(name: str):
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class AnyOption(dict):
        def __missing__(self, key):
            return lambda value: value

    short = name.rsplit(":", 1)[-1]

    class Unknown(Directive):
        optional_arguments = 1
        final_argument_whitespace = True
        has_content = True
        option_spec = AnyOption()

        def run(self):
            argument = self.arguments[0] if self.arguments else ""
            if short in CODE_DIRECTIVES:
                code = "\n".join(self.content)
                block = nodes.literal_block(code, code)
                block["language"] = argument.split()[0] if argument and short != "productionlist" else ""
                return [block]
            if short not in PROSE_DIRECTIVES:
                return []
            container = nodes.container()
            label = PROSE_DIRECTIVES[short]
            if label.endswith(" version") and argument:  # `.. versionadded:: 3.4 text`: a version, then prose
                version, rest = (argument.split(None, 1) + [""])[:2]
                lead = nodes.paragraph()
                lead += nodes.emphasis(text=f"{label} {version}" + (":" if rest.strip() else "."))
                if rest.strip():
                    lead += nodes.Text(" ")
                    lead += self.state.inline_text(" ".join(rest.split()), self.lineno)[0]
                container += lead
            elif label or argument:
                lead = nodes.paragraph()
                lead += nodes.emphasis(text=f"{label}{':' if argument else '.'}") if label else nodes.literal(text=argument)
                if label and argument:
                    lead += nodes.Text(" ")
                    lead += self.state.inline_text(" ".join(argument.split()), self.lineno)[0]
                container += lead
            self.state.nested_parse(self.content, self.content_offset, container)
            return [container]

    return Unknown
