"""What a reader sees of the offline compiler, through the CLI on real corpus documents: authors are entity pages,
everyday words are no entities, one page per thing with its other names as `aliases`, overviews that say what a
thing is, sentences kept whole across initials, and the same wiki whatever order the documents came in.
(The figures against the frozen labels are bench/quality.py's job, not a test's.)
"""

from __future__ import annotations

import json

import pytest

from wikicheck import CORPUS, add, front_matter, tree_bytes

CHAPTERS = [CORPUS / "book" / f for f in ("ch15-00-smart-pointers.md", "ch15-04-rc.md",
                                         "ch15-05-interior-mutability.md", "ch11-00-testing.md",
                                         "ch03-02-data-types.md")]
PEPS = [CORPUS / "peps" / f for f in ("pep-0484.rst", "pep-0604.rst")]
EVERYDAY = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "ok", "pm", "am", "chapter", "listing", "hello", "pep"}


def _pages(kb, folder: str) -> dict[str, tuple[dict, str]]:
    return {p.stem: front_matter(p.read_text(encoding="utf-8")) for p in sorted((kb / "wiki" / folder).glob("*.md"))}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality") / "kb"
    from wikicheck import cli

    assert cli("init", root)[0] == 0
    code, report, err = add(root, *PEPS, *CHAPTERS)
    assert code == 0, err
    return root


def test_authors_from_the_header_are_entity_pages_and_never_concepts(kb):
    entities, concepts = _pages(kb, "entities"), _pages(kb, "concepts")
    by_title = {meta["title"]: meta for meta, _ in entities.values()}
    for name, pep in (("Guido van Rossum", "pep-0484"), ("Jukka Lehtosalo", "pep-0484"), ("Łukasz Langa", "pep-0484"),
                      ("Philippe PRADOS", "pep-0604"), ("Maggie Moss", "pep-0604")):
        assert name in by_title, sorted(by_title)
        assert pep in by_title[name]["sources"]
    person_names = {"guido van rossum", "jukka lehtosalo", "łukasz langa", "philippe prados", "maggie moss"}
    assert not person_names & {meta["title"].lower() for meta, _ in concepts.values()}


def test_everyday_words_are_no_entities(kb):
    titles = {meta["title"].lower() for meta, _ in _pages(kb, "entities").values()}
    assert not titles & EVERYDAY, sorted(titles & EVERYDAY)


def test_one_page_per_thing_with_its_other_names_as_aliases(kb):
    entities, concepts = _pages(kb, "entities"), _pages(kb, "concepts")
    # `Box<T>` and `Box`, `typing.Union` and `Union`: one entity page each, never a twin.
    assert "box" in entities and "box-t" not in entities
    assert "union" in entities and "typing-union" not in entities
    # No thing is both a concept and an entity page.
    assert not set(entities) & set(concepts), sorted(set(entities) & set(concepts))
    # "Smart Pointers" (ch15-00) and "Smart Pointer" (ch15-05) are one page; the other spelling is an alias.
    meta, body = concepts["smart-pointer"]
    assert {"ch15-00-smart-pointers", "ch15-05-interior-mutability"} <= set(meta["sources"])
    assert {meta["title"], *meta.get("aliases", [])} == {"Smart Pointer", "Smart Pointers"}


def test_an_overview_says_what_the_thing_is(kb):
    concepts = _pages(kb, "concepts")
    for slug, start in (("vector", "A vector is"), ("tuple", "A tuple is"), ("stub-file", "Stub files are")):
        meta, body = concepts[slug]
        overview = body.split("<!-- overview -->", 1)[1].split("<!-- /overview -->", 1)[0]
        assert start in overview, overview
        assert meta["description"].startswith(start), meta["description"]


def test_a_sentence_is_not_split_after_an_initial(kb):
    _, body = _pages(kb, "summaries")["ch11-00-testing"]
    assert "Edsger W. Dijkstra said that" in " ".join(body.split())


def _added_one_by_one(root, order) -> dict[str, bytes]:
    """The wiki (log.md aside) of a new KB at `root` after `wikismith add` of each path of `order` in turn."""
    from wikicheck import cli

    assert cli("init", root)[0] == 0
    for path in order:
        assert add(root, path)[0] == 0
    return _wiki(root)


def test_the_wiki_is_the_same_whatever_order_the_documents_came_in(tmp_path):
    assert _added_one_by_one(tmp_path / "forward", CHAPTERS[:4]) == \
        _added_one_by_one(tmp_path / "backward", CHAPTERS[:4][::-1])


# -- other names a document declares, for the whole KB ----------------------------------------------------------------

DECLARING = CORPUS / "peps" / "pep-0526.rst"  # ":pep:`484` introduced type hints, a.k.a. type annotations"
OTHERS = [CORPUS / "peps" / "pep-0484.rst", CORPUS / "peps" / "pep-0585.rst", CORPUS / "book" / "ch03-02-data-types.md"]


def _wiki(root) -> dict[str, bytes]:
    return {k: v for k, v in tree_bytes(root, tops=("wiki",)).items() if not k.endswith("log.md")}


def test_an_other_name_one_document_declares_is_one_page_for_every_document(tmp_path):
    """PEP 526 says "type hints, a.k.a. type annotations"; PEP 484, PEP 585 and a Rust chapter write "type
    annotation" without knowing it. With PEP 526 in the KB, first, last or in the middle of a parallel add, there is
    one page, holding every one of them, with the other name as an alias, and every summary links it; recompiling
    changes nothing; removing PEP 526 gives back the two pages exactly, and undo brings the one page back."""
    from wikicheck import cli

    trees = {name: _added_one_by_one(tmp_path / name, order)
             for name, order in (("declared-last", [*OTHERS, DECLARING]), ("declared-first", [DECLARING, *OTHERS]))}
    inbox = tmp_path / "inbox"  # a folder, prepared by two workers: the declaring document comes third
    inbox.mkdir()
    for path in (DECLARING, *OTHERS):
        (inbox / path.name).write_bytes(path.read_bytes())
    parallel = tmp_path / "parallel"
    assert cli("init", parallel)[0] == 0
    assert add(parallel, inbox, extra=("--jobs", "2"))[0] == 0
    trees["parallel"] = _wiki(parallel)
    assert trees["declared-last"] == trees["declared-first"] == trees["parallel"]
    root = tmp_path / "declared-last"
    concepts = _pages(root, "concepts")
    assert "type-annotation" not in concepts
    meta, body = concepts["type-hint"]
    assert set(meta["sources"]) == {"pep-0484", "pep-0526", "pep-0585", "ch03-02-data-types"}
    assert "Type Annotation" in meta.get("aliases", [])
    for doc in meta["sources"]:
        summary = (root / "wiki" / "summaries" / f"{doc}.md").read_text(encoding="utf-8")
        assert "[[concepts/type-hint|" in summary and "concepts/type-annotation" not in summary, doc
    code, out, err = cli("recompile", "--all", "-y", "--json", kb=root)
    assert code == 0, err
    assert {d["status"] for d in json.loads(out)["documents"]} == {"unchanged"}
    assert _wiki(root) == trees["declared-last"]

    without = tmp_path / "without"
    assert cli("init", without)[0] == 0
    for path in OTHERS:
        assert add(without, path)[0] == 0
    assert {"type-hint", "type-annotation"} <= set(_pages(without, "concepts"))
    assert cli("remove", "-y", "pep-0526", kb=root)[0] == 0
    assert _wiki(root) == _wiki(without)
    assert cli("undo", "-y", kb=root)[0] == 0
    assert _wiki(root) == trees["declared-last"]


# -- mentions: a chapter that uses a page's name joins the page ----------------------------------------------------

MENTIONING = [CORPUS / "book" / f for f in ("ch05-03-method-syntax.md", "ch18-01-what-is-oo.md")]
TRAITS = CORPUS / "book" / "ch10-00-generics.md"  # makes "Trait" a topic; the two above only use the word


def test_a_page_gathers_the_documents_that_mention_it_in_any_order_and_loses_them_with_it(tmp_path):
    from wikicheck import cli

    trees = {name: _added_one_by_one(tmp_path / name, order)
             for name, order in (("mentions-first", [*MENTIONING, TRAITS]), ("topic-first", [TRAITS, *MENTIONING]))}
    assert trees["mentions-first"] == trees["topic-first"]
    root = tmp_path / "mentions-first"
    meta, body = _pages(root, "concepts")["trait"]
    assert meta["sources"] == ["ch05-03-method-syntax", "ch10-00-generics", "ch18-01-what-is-oo"]
    assert "## From [[summaries/ch10-00-generics|" in body
    for doc in ("ch05-03-method-syntax", "ch18-01-what-is-oo"):
        assert f"## Mentioned in [[summaries/{doc}|" in body
        summary = (root / "wiki" / "summaries" / f"{doc}.md").read_text(encoding="utf-8")
        assert "[[concepts/trait|" not in summary, doc  # a mention is not one of the document's pages
    summary = (root / "wiki" / "summaries" / "ch10-00-generics.md").read_text(encoding="utf-8")
    assert "[[concepts/trait|" in summary
    # The description quotes the chapter about traits, not the first chapter by id that only mentions them.
    about = body.split("<!-- source:ch10-00-generics -->")[1].split("<!-- /source:ch10-00-generics -->")[0]
    assert "trait" in meta["description"].lower() and meta["description"] in about
    code, out, err = cli("remove", "-y", "ch10-00-generics", kb=root)
    assert code == 0, err
    assert not (root / "wiki" / "concepts" / "trait.md").exists()
    assert _wiki(root) == _added_one_by_one(tmp_path / "mentions-only", MENTIONING)


SERVER = [CORPUS / "book" / f for f in ("ch21-00-final-project-a-web-server.md", "ch21-01-single-threaded.md")]


def test_a_two_word_name_said_once_joins_its_page_in_either_order(tmp_path):
    # The chapter introducing the project says "TCP connections" once; the next chapter is about them.
    trees = {name: _added_one_by_one(tmp_path / name, order)
             for name, order in (("intro-first", SERVER), ("intro-last", SERVER[::-1]))}
    assert trees["intro-first"] == trees["intro-last"]
    meta, body = _pages(tmp_path / "intro-first", "concepts")["tcp-connection"]
    assert meta["sources"] == ["ch21-00-final-project-a-web-server", "ch21-01-single-threaded"]
    assert "## Mentioned in [[summaries/ch21-00-final-project-a-web-server|" in body
    assert "TCP connections" in body.split("## Mentioned in")[1]


OOP = [CORPUS / "book" / f for f in ("ch18-00-oop.md", "ch18-01-what-is-oo.md")]


def test_a_chapter_writing_only_an_acronym_joins_the_page_the_acronym_was_defined_for_in_either_order(tmp_path):
    # ch18-00 writes "Object-oriented programming (OOP)"; ch18-01 never spells it out, only "OOP".
    trees = {name: _added_one_by_one(tmp_path / name, order)
             for name, order in (("defined-first", OOP), ("defined-last", OOP[::-1]))}
    assert trees["defined-first"] == trees["defined-last"]
    concepts = _pages(tmp_path / "defined-last", "concepts")
    assert "oop" not in concepts
    meta, body = concepts["object-oriented-programming"]
    assert meta["sources"] == ["ch18-00-oop", "ch18-01-what-is-oo"]
    assert "OOP" in body.split("## Mentioned in [[summaries/ch18-01-what-is-oo|")[1]


def test_a_chapter_naming_a_page_only_in_a_heading_joins_it_with_that_section_s_opening(kb):
    # ch15-04 says "smart pointer" only in its heading "`Rc<T>`, the Reference-Counted Smart Pointer".
    meta, body = _pages(kb, "concepts")["smart-pointer"]
    assert "ch15-04-rc" in meta["sources"]
    section = body.split("## Mentioned in [[summaries/ch15-04-rc|")[1].split("<!-- /source:ch15-04-rc -->")[0]
    assert "In the majority of cases, ownership is clear" in section


def test_a_word_the_chapter_names_once_in_italics_is_its_topic(kb):
    # ch03-02: "This is called _destructuring_ because it breaks the single tuple into three parts."
    meta, body = _pages(kb, "concepts")["destructuring"]
    assert meta["sources"] == ["ch03-02-data-types"]
    assert "This is called destructuring because it breaks the single tuple into three parts." in body
