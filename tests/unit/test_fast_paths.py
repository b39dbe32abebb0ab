"""The one-pass fast paths over whole pages (headings, wikilinks, the defining line, passages, front matter) must
give exactly what the line-by-line code gives, on random texts built from the pieces that decide between them."""

from __future__ import annotations

import random
import re
from collections import Counter

from wikismith import markdown as md
from wikismith.store import pagememo
from wikismith.store import passages as P
from wikismith.store.db import link_targets
from wikismith.wiki import frontmatter, overview

ROUNDS = 4000
# The `^`-anchored line patterns the "\n"-anchored tests in markdown replace: the reference they must agree with.
FENCE_OR_UNDERLINE = re.compile(r"^(?:[^\n]{0,3}[`~]| {0,3}(?:=+|-+)[ \t]*$)", re.MULTILINE)
FENCE_LINE = re.compile(r"^[^\n]{0,3}[`~]", re.MULTILINE)


def _lines(rng, pieces, most):
    return [rng.choice(pieces) for _ in range(rng.randint(0, most))]


def test_headings_fast_path_equals_the_loop():
    rng = random.Random(2)
    pieces = ["# A", "## B c", "#nope", "###### six", "####### seven", "text", "", "---", "===", "  ---", "```",
              "~~~", "```py", " ```", "    ```", "- item", "# closed #", "#\t tab", "title", "\r", "# a\r", "x`y",
              "   ~~~", "...", "<!-- source:x -->", "=", "-"]
    for _ in range(ROUNDS):
        lines = _lines(rng, pieces, 12)
        if rng.random() < 0.3:
            lines = ["---", "title: x", "---"] + lines
        text = "\n".join(lines)
        split = text.split("\n")
        assert md.headings(text) == md._headings_slow(split, md.front_matter_end(split)), repr(text)


def test_wikilinks_fast_path_equals_the_loop():
    rng = random.Random(4)
    pieces = ["[[a]]", "[[b|c]]", "`[[x]]`", "```", "~~~", "text", "[[", "]]", "|", "`", "\n", "\r", "\u2028",
              "[[d#h|e]]", " ", "\n```\n", "  ~~~~\n"]
    for _ in range(ROUNDS):
        text = "".join(_lines(rng, pieces, 15))
        slow = []
        if "[[" in text:
            for in_code, line in md.code_lines(text.splitlines(keepends=True)):
                if not in_code and "[[" in line:
                    slow.extend(md.page_of(m.group(2)) for m in md._LINK.finditer(line) if m.group(2) is not None)
        assert md.wikilinks(text) == slow, repr(text)


def test_defining_line_fast_path_equals_the_loop():
    rng = random.Random(1)
    words = ["the", "a", "an", "crash", "recovery", "is", "are", "refers", "to", "`x`", "**b**", "- ", "s", "es",
             "Σ", "\r", "\u2028", "means", "crash recovery", "Crash Recovery"]
    for _ in range(ROUNDS):
        body = "\n".join(rng.choice(["- ", "", "**- ", "`- ", "-  "]) + " ".join(_lines(rng, words, 6))
                         for _ in range(rng.randint(0, 6)))
        title = rng.choice(["Crash Recovery", "crash", "`Crash` recovery", "", "a"])
        name = " ".join(title.replace("`", "").split()).lower()
        assert overview.defining_line(title, body) == overview.defining_line_slow(name, body), repr(body)


def _passages_uncached(text):
    _front, body = P.split_front_matter(text)
    body = P._OUR_MARK.sub("", body)
    lines = body.split("\n")
    cuts = [(h.line, P._plain(h.title)) for h in md.headings(body)]
    if not cuts or cuts[0][0] != 0:
        cuts.insert(0, (0, ""))
    out, page = [], None
    for i, (start, heading) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(lines)
        page = P._chunks(lines[start + 1 : end] if heading else lines[start:end], heading, page, out)
    return out


def test_remembered_sections_cut_as_the_loop_does():
    rng = random.Random(3)
    pieces = ["# A", "## B", "## B", "text words here", "", "<!-- page 3 -->", "x <!-- page 4 --> y <!-- page 5 -->",
              "<!-- source:d1 -->", "<!-- /source:d1 -->", "[[a|b]] c", " ".join(["w"] * 200), "#", "---"]
    for _ in range(ROUNDS):
        text = "\n".join(_lines(rng, pieces, 14))
        assert P.passages(text) == _passages_uncached(text), repr(text)


def test_front_matter_reads_and_writes_as_before():
    rng = random.Random(5)
    pieces = ["---", "...", "---\r", "title: x", "sources:", "  - a", "  - 1", "  - true", "  - [a, b]",
              '  - "q\\"x"', "  - 'y'", "k: [1, 2]", "# c", "", "\r", "x: 1.5", "x: .inf", "body", "  -", "- z"]
    for _ in range(ROUNDS):
        text = "\n".join(["---"] + _lines(rng, pieces, 10)) + rng.choice(["", "\n", "\nrest\n"])
        meta, body = frontmatter.parse(text)
        if not text.startswith(("---\n", "---\r\n")):
            assert (meta, body) == ({}, text)
            continue
        # the reference: the closing line found line by line
        start = text.index("\n") + 1
        pos, closed = start, None
        while True:
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            if line.rstrip("\r") in ("---", "..."):
                closed = (frontmatter._parse_block(text[start:pos]), "" if end < 0 else text[end + 1 :])
                break
            if end < 0:
                break
            pos = end + 1
        assert (meta, body) == (closed or ({}, text)), repr(text)
    for value in ("a", "b c", "yes", "1", 1, True, 1.0, None, "x\ny", ["a", 1, True, "no"], ["d1", "yes", "x y"],
                  ["note-1"]):
        rendered = frontmatter.render({"t": value})
        assert frontmatter.parse(rendered + "body")[0] == {"t": value}


def test_atx_only_passages_equal_the_loop():
    """The piece-by-piece path (bodies with ATX headings only) against the line-by-line cut, with the pieces that
    decide between them: "#" lines that are no heading, headings whose plain text is empty, front-matter-like and
    fence lines (which must send the body down the line path), adjacent headings, trailing newlines."""
    rng = random.Random(6)
    pieces = ["# A", "## From [[summaries/d1|D one]]", "#nope", "#", "# [[x| ]]", "####### seven", "# closed #",
              "text words here", "", "<!-- source:d1 -->", "<!-- /source:d1 -->", "<!-- overview -->",
              "<!-- page 2 -->", "- the thing is a thing", " ".join(["w"] * 170), "#\ttab", "---\r", "\t---",
              "```", "~~~", "===", "x # y", "\r"]
    for _ in range(ROUNDS * 2):
        lines = _lines(rng, pieces, 16)
        if rng.random() < 0.5:  # mostly bodies the fast path takes
            lines = [x for x in lines if x not in ("---\r", "\t---", "```", "~~~", "===")]
        text = "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
        if rng.random() < 0.2:
            text = "---\ntitle: x\n---\n" + text
        assert P.passages(text) == _passages_uncached(text), repr(text)


def test_wikilink_pages_are_the_set_of_wikilinks():
    rng = random.Random(7)
    pieces = ["[[a]]", "[[b|c]]", "`[[x]]`", "```", "text", "[[", "]]", "|", "`", "\n", "\r", "[[d#h|e]]", " ",
              "[[ a ]]", "[[#h]]", "[[a#]]", "\n```\n"]
    for _ in range(ROUNDS):
        text = "".join(_lines(rng, pieces, 15))
        assert md.wikilink_pages(text) == set(md.wikilinks(text)), repr(text)


def _parse_block_by_line(block):
    """frontmatter._parse_block as it was, a pattern match per line: the reference for its run-of-items path."""
    meta, current = {}, None
    for raw in block.splitlines():
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = frontmatter._ITEM.match(line)
        if item and current is not None:
            if meta.get(current) is None:
                meta[current] = []
            if isinstance(meta[current], list):
                meta[current].append(frontmatter._value(item.group(1) or ""))
            continue
        m = frontmatter._LINE.match(line)
        if not m or line[0].isspace():
            continue
        key, rest = m.group(1), m.group(2) or ""
        current = key if not rest else None
        meta[key] = frontmatter._value(rest) if rest else None
    return meta


def test_front_matter_item_runs_read_as_the_loop():
    rng = random.Random(8)
    pieces = ["sources:", "aliases:", "title: x", "  - a", "  - 1", "  - true", "  - [a, b]", '  - "q\\"x"',
              "  - 'y'", "  - ", "  -   spaced  \t", "  - a\r", "  - # not a comment", "  -x", " - z", "- z", "",
              "# c", "  # c", "sources: [a]", "  - null", "  - 1.5", "  - \u2028b", "k:", "  - \tt",
              "  - note-001", "  - note-002", "  - yes", "  - True", "  - NULL", "  - a.b", "  - é-x", "  - x1_",
              "  - a b", "  - _a", "  - 9a", "  - a\u00b2"]
    for _ in range(ROUNDS):
        block = "\n".join(_lines(rng, pieces, 14))
        assert frontmatter._parse_block(block) == _parse_block_by_line(block), repr(block)


def test_newline_anchored_scans_equal_the_line_patterns():
    """The "\\n"-anchored scans (faster on big pages) find what the `^`/`$` MULTILINE patterns find."""
    rng = random.Random(9)
    pieces = ["```", "~~~", "   ~", "    `", "a`b", "===", "---", " -- ", "   ==\t", "- x", "\n", "\r", "\u2028",
              "\x0b", "text", "# h", "<!-- source:d1 -->", "<!-- /source:d1 -->", "<!-- overview -->", " ", "\t",
              "<!-- links -->", "<!-- source:a b -->", "é"]
    for _ in range(ROUNDS * 2):
        text = "".join(_lines(rng, pieces, 14))
        assert md.has_fence_or_underline(text) == bool(FENCE_OR_UNDERLINE.search(text)), repr(text)
        assert md.has_fence_line(text) == bool(FENCE_LINE.search(text)), repr(text)
        assert md.has_other_breaks(text) == bool(md._OTHER_BREAKS.search(text)), repr(text)
        assert P._without_our_marks(text) == P._OUR_MARK.sub("", text), repr(text)
        lines = text.split("\n")
        start = md.front_matter_end(lines)
        offset = sum(len(line) + 1 for line in lines[:start])
        assert md.has_fence_or_underline(text, offset) == bool(FENCE_OR_UNDERLINE.search(text, offset))


def test_new_section_fast_path_equals_the_general_path():
    """upsert_section's insertion of a new section (the "\\n"-anchored marker scans) gives what the general,
    block-by-block path gives, whenever it answers at all; and it answers on well-formed sorted pages."""
    from wikismith.wiki import sections

    rng = random.Random(10)
    ids = ["a1", "b2", "c3", "d4", "e5"]
    answered = 0
    for _ in range(ROUNDS):
        chosen = sorted(rng.sample(ids, rng.randint(0, 4)))
        if rng.random() < 0.2:
            rng.shuffle(chosen)
        parts = [rng.choice(["# T", "", "notes"])]
        if rng.random() < 0.7:
            parts.append("<!-- overview -->\nOver.\n<!-- /overview -->")
        for doc in chosen:
            parts.append(rng.choice([f"<!-- source:{doc} -->\n## From {doc}\n\ntext\n<!-- /source:{doc} -->",
                                     f"<!-- source:{doc} -->  \nx\n<!-- /source:{doc} -->\t",
                                     f"<!-- source:{doc} -->\n<!-- /source:{doc} -->"]))
            if rng.random() < 0.1:
                parts.append(rng.choice(["<!-- overview -->\nx\n<!-- /overview -->", f"<!-- /source:{doc} -->",
                                         "my own note", f" <!-- source:{doc} -->"]))
        body = rng.choice(["\n\n", "\n"]).join(parts) + rng.choice(["", "\n", "\n\n"])
        new = rng.choice(ids + ["0z", "zz"])
        fast = sections._insert_new_section(body, new, "New text.")
        if fast is None:
            continue
        answered += 1
        assert fast == sections._replace_or_insert(body, new, "New text."), repr(body)
    assert answered > ROUNDS // 4


def test_remembered_section_names_equal_a_fresh_scan(monkeypatch):
    """Bodies made by inserting a section or setting the overview are entered into the names memo as made: over
    chains of such edits (sections and overviews that bring marker lines of their own included), what the memo
    says of each body, and every body made, equal what a fresh scan with nothing remembered gives."""
    from wikismith.wiki import sections

    monkeypatch.setattr(sections, "_NAMES_SMALLEST", 0)  # these bodies are small: remember them all the same

    rng = random.Random(12)
    contents = ["New text."] * 6 + ["- a line"] * 6 + ["<!-- /source:a1 -->", "x\n<!-- source:q9 -->\ny",
                                                      "<!-- overview -->"]
    overviews = ["Over.", "**T** is discussed in 3 sources."] * 6 + ["<!-- /overview -->", "a\n<!-- source:b2 -->"]
    checked = 0
    for _ in range(ROUNDS // 4):
        sections.forget_names()
        body = "# T\n\n<!-- overview -->\nOver.\n<!-- /overview -->\n"
        reference = body
        for _step in range(8):
            if rng.random() < 0.6:
                doc, content = f"{rng.choice('abcdefgh')}{rng.randint(1, 9)}", rng.choice(contents)

                def edit(b):
                    return sections.upsert_section(b, doc, content)
            else:
                text = rng.choice(overviews)

                def edit(b):
                    return sections.set_overview(b, text)
            try:
                body = edit(body)
            except sections.SectionError:
                body = None
            saved = dict(sections._NAMES)
            sections.forget_names()
            try:
                reference = edit(reference)
            except sections.SectionError:
                reference = None
            assert body == reference
            if body is None:
                break
            sections.forget_names()
            fresh = sections._sorted_names("\n" + body, body)
            sections.forget_names()
            for known, names in saved.items():
                sections._remember_names(known, names)
            if body in saved:
                checked += 1
                assert saved[body] == fresh, repr(body)
    assert checked > ROUNDS // 3


def test_description_from_the_overview_pass_equals_a_second_pass():
    """_write_section takes the description from the line it found for the overview when only a quiet overview
    changed; that must be what a pass over the new body finds."""
    from wikismith.wiki import sections

    rng = random.Random(11)
    title = "Crash Recovery"
    lines = ["- The crash recovery is a step.", "- crash recovery means x", "- other thing", "text", "",
             "- **Crash** recovery refers to y", "<!-- source:zz -->", "# Heading", "- `crash recovery` are z"]
    reused = 0
    for _ in range(ROUNDS):
        text = "\n".join(_lines(rng, lines, 3)) or "Plain."
        parts = [rng.choice(["# Crash Recovery", ""]), f"<!-- overview -->\n{text}\n<!-- /overview -->"]
        for doc in sorted(rng.sample(["a1", "b2", "c3"], rng.randint(0, 3))):
            body_lines = "\n".join(_lines(rng, lines[:6], 4))
            parts.append(f"<!-- source:{doc} -->\n## From {doc}\n\n{body_lines}\n<!-- /source:{doc} -->")
        body = "\n\n".join(parts) + "\n"
        before = sections.overview_text(body)
        line = overview.defining_line(title, body) or overview.first_line(body)
        derived = overview.overview_of(title, line, 3, 50)
        after = sections.set_overview(body, derived)
        if before is not None and overview.quiet_overview(title, before) and overview.quiet_overview(title, derived):
            reused += 1
            assert overview.description_of(line) == overview.derived_description(after, title), repr(body)
    assert reused > ROUNDS // 10


def _random_page(seed, sections, pieces, overview, title):
    """A page as wikismith writes one: title, overview, then a section per document (some with page markers,
    "#" lines that are no heading, empty headings); each document's section drawn from its own seed, so that a
    section stays the same when others come or go."""
    lines = ["---", "title: T", "sources:", *[f"  - d{k}" for k in sections], "---", title, "", "<!-- overview -->",
             overview, "<!-- /overview -->", ""]
    for k in sections:
        rng = random.Random(seed * 100 + k)
        lines += [f"<!-- source:d{k} -->", rng.choice([f"## From [[summaries/d{k}|D{k}]]", "#", "# ", "#nope"]),
                  *_lines(rng, pieces, 4), f"<!-- /source:d{k} -->", ""]
    return "\n".join(lines)


def test_recut_equals_a_whole_cut():
    """Re-cutting only what changed (passages.recut) gives exactly the cut of the whole new text, and the runs it
    says it kept are equal in both; on random pages edited the ways pages are: a section added, removed or
    changed anywhere, the overview or the title changed, a line put in anywhere."""
    rng = random.Random(11)
    pieces = ["text words here", "", "<!-- page 2 -->", "x <!-- page 7 --> y", "#nope", "# [[x| ]]",
              "## Sub", " ".join(["w"] * 170), "- the thing is a thing", "#\ttab", "see [[#Top]] and [[b#c|d]]",
              "[[concepts/x]]"]
    overviews = ["T is a thing.", "T (2 sources)", "<!-- page 3 -->", "## Also", "x <!-- page 9 -->"]
    titles = ["# T", "#  ", "x"]
    kept_some = refused = 0
    for seed in range(ROUNDS // 2):
        ids = sorted(rng.sample(range(40), rng.randint(0, 12)))
        overview, title = rng.choice(overviews), rng.choice(titles)
        old_text = _random_page(seed, ids, pieces, overview, title)
        edit = rng.random()
        new_ids = list(ids)
        if edit < 0.4 or not ids:
            new_ids = sorted(set(ids) | {rng.randrange(40)})
        elif edit < 0.6:
            new_ids.remove(rng.choice(ids))
        if rng.random() < 0.3:
            overview = rng.choice(overviews)
        if rng.random() < 0.1:
            title = rng.choice(titles)
        new_text = _random_page(seed, new_ids, pieces, overview, title)
        if edit > 0.8:
            lines = new_text.split("\n")
            at = rng.randrange(len(lines))
            lines[at:at] = [rng.choice(pieces + ["# Heading", "```", "~~~", "===", "---", "#`x"])]
            new_text = "\n".join(lines)
        old = P.cut(old_text)
        whole = P.cut(new_text)
        if old is None:
            continue
        if whole is None:  # a fence or an underline came in: the piece-by-piece cut must refuse it
            assert P.recut(old, new_text) is None, new_text
            refused += 1
            continue
        assert old.passages == P.passages(old_text) and whole.passages == P.passages(new_text)
        got, kept, assembly = P.recut(old, new_text)
        assert got == whole, (old_text, new_text)
        gone, came = assembly.changed_pieces()  # what a diff of the pieces would say changed
        assert Counter(old.pieces) - Counter(gone) == Counter(whole.pieces) - Counter(came)
        # Each old passage is kept at most once, in order: the store gives a kept passage its old row.
        for (a1, _b1, n1), (a2, _b2, _n2) in zip(kept, kept[1:]):
            assert a2 >= a1 + n1
        # The page's links, counted piece by piece and recounted from what changed, are what the store reads.
        if pagememo.countable(old_text) and pagememo.countable(new_text):
            before = pagememo.Remembered(old_text, old, [], frozenset(), pagememo.count_links(old_text))
            assert set(pagememo.count_links(new_text)) == link_targets(new_text)
            assert pagememo.recount_links(before, new_text, gone, came) == pagememo.count_links(new_text)
        for at_old, at_new, length in kept:
            assert [p[1:] for p in old.passages[at_old:at_old + length]] == \
                [p[1:] for p in got.passages[at_new:at_new + length]]
        kept_some += bool(kept)
    assert kept_some > ROUNDS // 4 and refused > 20  # the test reaches both the keeping and the refusing code


def test_recut_keeps_each_old_section_once_among_equal_sections():
    """Equal sections (the same piece several times) could be matched from the start and from the end at once:
    a passage must never be kept twice (its one row would stand for two)."""
    same = "# A\n" + "word " * 300
    def page(count):
        return "\n".join(["# Top", "t", *[same] * count, "# B", "z", "not heading", "w"])
    for before, after in ((3, 5), (5, 3), (2, 6), (4, 4), (1, 3)):
        old = P.cut(page(before))
        got, kept, _assembly = P.recut(old, page(after))
        assert got == P.cut(page(after))
        for (a1, _b1, n1), (a2, _b2, _n2) in zip(kept, kept[1:]):
            assert a2 >= a1 + n1, (before, after, kept)
