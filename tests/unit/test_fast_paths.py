"""The one-pass fast paths over whole pages (headings, wikilinks, the defining line, passages, front matter) must
give exactly what the line-by-line code gives, on random texts built from the pieces that decide between them."""

from __future__ import annotations

import random

from wikismith import markdown as md
from wikismith.store import passages as P
from wikismith.wiki import frontmatter, merge

ROUNDS = 4000


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
        assert merge._defining_line(title, body) == merge._defining_line_slow(name, body), repr(body)


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
    for value in ("a", "b c", "yes", "1", 1, True, 1.0, None, "x\ny", ["a", 1, True, "no"]):
        rendered = frontmatter.render({"t": value})
        assert frontmatter.parse(rendered + "body")[0] == {"t": value}
