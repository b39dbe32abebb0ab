"""Slugs, front matter, wikilinks and page sections: what a user of the wiki would notice."""

from __future__ import annotations

import posixpath
import random
import time
import unicodedata
from pathlib import Path

import pytest

from wikismith import markdown
from wikismith.wiki import frontmatter, links, sections
from wikismith.wiki.slug import slugify, unique_slug

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
HOSTILE_TITLES = [
    "../../etc/passwd", "..", ".", "/", "\\", "..\\..\\windows", "a/../../b", "C:\\x", "con", "NUL", "", "   ",
    "\x00\x01\x1f", "\u202eevil\u202c", "foo\nbar", ".hidden", "trailing.", "-dash-", "日本語のタイトル",
    "नमस्ते दुनिया", "ﬁle ＰＥＰ ⅷ", "x" * 500, "é" * 300, "🙂" * 10, "a\u0301b",
]


def _check_slug(slug: str) -> None:
    assert slug and slug == slug.strip("-")
    assert "/" not in slug and "\\" not in slug and "." not in slug
    assert not any(unicodedata.category(ch).startswith(("C", "Z")) for ch in slug)
    assert unicodedata.normalize("NFC", slug) == slug
    assert len(slug.encode("utf-8")) <= 200
    path = posixpath.join("wiki/concepts", slug + ".md")
    assert posixpath.dirname(posixpath.normpath(path)) == "wiki/concepts"


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_slug_never_escapes_its_folder(title):
    _check_slug(slugify(title))


def test_slug_of_the_corpus_traversal_title():
    title = (CORPUS / "hostile" / "traversal-title.md").read_text().splitlines()[0].lstrip("# ")
    slug = slugify(title)
    _check_slug(slug)
    assert slug == "etc-passwd"


def test_slug_random_hostile_strings():
    rng = random.Random(7)
    alphabet = "./\\-_ :\x00\n\t\u202e\u200bÄß日🙂aZ09" + "".join(chr(c) for c in range(0x300, 0x310))
    for _ in range(2000):
        _check_slug(slugify("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))))


def test_slug_shape():
    assert slugify("Type Hints") == "type-hints"
    assert slugify("typing.Protocol") == "typing-protocol"
    assert slugify("ﬁle ＰＥＰ 484") == "file-pep-484"
    assert slugify("Übersicht der Räume") == "übersicht-der-räume"
    assert slugify("नमस्ते") == "नमस्ते"  # combining vowel signs stay with their letters
    assert slugify("") == "untitled"
    assert slugify("???").startswith("untitled-") and slugify("???") == slugify("???")
    assert slugify("???") != slugify("!!!")
    assert slugify("con") == "con-page"
    long = slugify("word " * 100, max_len=30)
    assert len(long) <= 30 and not long.endswith("-")


def test_unique_slug():
    assert unique_slug("a", set()) == "a"
    assert unique_slug("a", {"a"}) == "a-2"
    assert unique_slug("a", {"a", "a-2", "a-3"}) == "a-4"


TRICKY = [
    "", " ", "plain", "Type Hints", "key: value", "a #comment", "#hash", "- dash", "? question", ": colon",
    "'single'", '"double"', "it's", 'say "hi"', "back\\slash", "\\n literal", "line\nbreak", "tab\there", "\r\n",
    "trailing space ", " leading", "yes", "No", "ON", "off", "null", "~", "true", "False", "y", "n", "123", "-5",
    "1.5", "1e3", ".inf", "0x1F", "0o17", "12:30:00", "2024-01-01", "[list]", "{map}", "&anchor", "*alias",
    "!tag", "|", ">", "%directive", "@at", "`tick`", "---", "...", "Übersicht", "日本語", "emoji 🙂", "\u2028",
    "\x85nel", "\x00nul", "\x07bell", "\u200bzero", "\ufeffbom", "\ud7ff", "\ue000", "a: b: c", "x,y", "[[link]]",
    "=", "<<", "- ", "a - b", "end:", "Guido van Rossum",
]


def test_frontmatter_round_trips_tricky_strings():
    for s in TRICKY:
        meta = {"title": s, "sources": [s, "x"]}
        text = frontmatter.render(meta) + "body\n"
        assert frontmatter.parse(text) == (meta, "body\n"), s


def test_frontmatter_is_valid_yaml_with_the_same_values():
    yaml = pytest.importorskip("yaml")
    rng = random.Random(3)
    pool = "ab :#'\"\\\n\t-?[]{},&*!|>%@`~=<ü日🙂\x85\u2028\x00\x1b"
    values = TRICKY + ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(500)]
    for s in values:
        meta = {"type": "concept", "title": s, "n": 3, "f": 2.5, "big": 1e20, "flag": True, "none": None,
                "sources": [s, "summaries/a"], "empty": []}
        rendered = frontmatter.render(meta)
        assert rendered.startswith("---\n") and rendered.endswith("\n---\n")
        assert yaml.safe_load(rendered[4:-4]) == meta, repr(s)
        assert frontmatter.parse(rendered)[0] == meta, repr(s)


def test_frontmatter_scalars_and_order():
    meta = {"type": "entity", "title": "PEP 484", "count": -7, "score": 0.1, "ok": False, "x": None}
    text = frontmatter.render(meta)
    assert text.splitlines()[1:3] == ["type: entity", "title: PEP 484"]
    assert frontmatter.render(meta) == text  # deterministic
    parsed, body = frontmatter.parse(text)
    assert list(parsed) == list(meta) and parsed == meta and body == ""


def test_frontmatter_parse_edge_cases():
    assert frontmatter.parse("# no front matter\n") == ({}, "# no front matter\n")
    assert frontmatter.parse("---\nnever closed\n") == ({}, "---\nnever closed\n")
    hand = "---\ntitle: 'It''s'\ntags: [a, \"b, c\", 3]\naliases:\n- x\n- y\nweird line\n---\nrest"
    assert frontmatter.parse(hand) == ({"title": "It's", "tags": ["a", "b, c", 3], "aliases": ["x", "y"]}, "rest")
    with pytest.raises(ValueError):
        frontmatter.render({"bad key": 1})
    with pytest.raises(TypeError):
        frontmatter.render({"k": {"nested": 1}})


def test_find_links():
    text = "See [[concepts/type-hint]] and [[entities/pep-484|PEP 484]], [[a#Heading|x]].\n`[[not/a/link]]`\n"
    assert markdown.wikilinks(text) == ["concepts/type-hint", "entities/pep-484", "a"]
    fenced = "```\n[[inside/code]]\n```\n[[after]]\n~~~~\n[[x]]\n~~~~\n"
    assert markdown.wikilinks(fenced) == ["after"]
    assert markdown.wikilinks("Callable[[int], str] and Callable[[], int]") == []


def test_link_makes_safe_links():
    assert links.link("concepts/type-hint") == "[[concepts/type-hint]]"
    assert links.link("concepts/x", "A | B [c]\nd") == "[[concepts/x|A / B (c) d]]"
    assert links.link("concepts/x", "concepts/x") == "[[concepts/x]]"
    for bad in ["", "a]]b", "a|b", "../x", "a/../b", "/abs", "a\nb", " x"]:
        with pytest.raises(ValueError):
            links.link(bad)
    for label in ["]]", "[[x]]", "a|b"]:
        assert markdown.wikilinks(links.link("p", label)) == ["p"]


def test_unlink_unknown_leaves_no_broken_link():
    text = "A [[concepts/a|Alpha]] B [[concepts/gone|Gone]] C [[concepts/gone]] D [[concepts/a#sec]] `[[x]]`"
    out = links.unlink_unknown(text, {"concepts/a"})
    assert out == "A [[concepts/a|Alpha]] B Gone C concepts/gone D [[concepts/a#sec]] `[[x]]`"
    assert set(markdown.wikilinks(out)) <= {"concepts/a"}
    assert links.unlink_unknown(text, {"concepts/a", "concepts/gone"}) == text


def test_links_are_linear_time_on_hostile_input():
    many = (CORPUS / "hostile" / "many-links.md").read_text()
    start = time.perf_counter()
    found = markdown.wikilinks(many)
    out = links.unlink_unknown(many, {"concepts/c1"})
    assert len(found) == 50_000 and markdown.wikilinks(out) == ["concepts/c1"]
    for hostile in ("[[" * 200_000, "`" * 200_000 + "[[a]]", "[[a|" * 100_000, "[[a" + "]" * 200_000):
        links.unlink_unknown(hostile, set())
        markdown.wikilinks(hostile)
    assert time.perf_counter() - start < 3.0


PAGE = """# Type Hint

<!-- overview -->
Old overview.
<!-- /overview -->

My own note before the sections.

<!-- source:pep-0484 -->
## From [[summaries/pep-0484]]

What 484 says.
<!-- /source:pep-0484 -->

<!-- source:pep-0604 -->
What 604 says.
<!-- /source:pep-0604 -->

A note *between* sections, kept as typed.  

<!-- source:pep-3107 -->
What 3107 says.
<!-- /source:pep-3107 -->

## My notes
- keep me
"""


def _outside(body: str, doc_id: str) -> str:
    """The body with the block of `doc_id` cut out: what an edit of that section must not touch."""
    start = body.index(f"<!-- source:{doc_id} -->")
    end = body.index(f"<!-- /source:{doc_id} -->") + len(f"<!-- /source:{doc_id} -->")
    return body[:start] + body[end:]


def test_upsert_replaces_exactly_one_section():
    body = sections.upsert_section(PAGE, "pep-0604", "New 604 text.\n\nTwo paragraphs.")
    assert _outside(body, "pep-0604") == _outside(PAGE, "pep-0604")
    assert sections.parse_page(body).sections["pep-0604"] == "New 604 text.\n\nTwo paragraphs."


@pytest.mark.parametrize("doc_id", ["aaa", "pep-0526", "pep-0999", "zzz"])
def test_upsert_new_then_remove_is_byte_identical(doc_id):
    body = sections.upsert_section(PAGE, doc_id, "New text.")
    assert _outside(body, doc_id).replace("\n", "") == PAGE.replace("\n", "")  # only a separator added
    ids = sections.section_ids(body)
    assert ids == sorted(ids) and doc_id in ids
    assert sections.remove_section(body, doc_id) == PAGE


def test_remove_keeps_the_others_and_user_text():
    body = sections.remove_section(PAGE, "pep-0604")
    assert sections.section_ids(body) == ["pep-0484", "pep-3107"]
    for kept in ("My own note before the sections.", "A note *between* sections, kept as typed.  \n",
                 "## My notes\n- keep me\n", "What 484 says.", "What 3107 says."):
        assert kept in body
    assert sections.remove_section(body, "pep-0604") == body  # absent: unchanged
    empty = body
    for doc_id in ("pep-0484", "pep-3107"):
        empty = sections.remove_section(empty, doc_id)
    assert sections.section_ids(empty) == [] and "## My notes\n- keep me\n" in empty


def test_parse_render_round_trip():
    page = sections.PageBody("Type Hint", "An overview.", {"b": "B text", "a": "A\n\ntext"}, "notes")
    text = sections.render_page(page)
    assert sections.section_ids(text) == ["a", "b"]
    again = sections.parse_page(text)
    assert again == sections.PageBody("Type Hint", "An overview.", {"a": "A\n\ntext", "b": "B text"}, "notes")
    parsed = sections.parse_page(PAGE)
    assert parsed.title == "Type Hint" and parsed.overview == "Old overview."
    assert list(parsed.sections) == ["pep-0484", "pep-0604", "pep-3107"]
    assert "keep me" in parsed.notes and "between" in parsed.notes


def test_set_overview_and_sections_on_empty_pages():
    body = sections.set_overview(PAGE, "New overview.")
    assert sections.parse_page(body).overview == "New overview."
    assert body.replace("New overview.", "Old overview.") == PAGE
    fresh = sections.upsert_section("# Title\n", "doc", sections.make_section("doc", "Text.", "Doc | Title"))
    assert sections.parse_page(fresh).sections["doc"].startswith("## From [[summaries/doc|Doc / Title]]")
    assert sections.section_ids(sections.upsert_section("", "doc", "x")) == ["doc"]


def test_broken_markers_are_refused_not_guessed():
    for broken in ("<!-- source:a -->\nx\n", "x\n<!-- /source:a -->\n",
                   "<!-- source:a -->\n<!-- /source:a -->\n<!-- source:a -->\n<!-- /source:a -->\n",
                   "<!-- source:a -->\n<!-- source:b -->\n<!-- /source:b -->\n<!-- /source:a -->\n"):
        with pytest.raises(sections.SectionError):
            sections.upsert_section(broken, "c", "text")
    with pytest.raises(ValueError):
        sections.upsert_section(PAGE, "bad id -->", "x")
