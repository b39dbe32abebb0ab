"""Tree indexes: built from outlines, headings and windows, and always a partition of the pages."""

from __future__ import annotations

import random

from wikismith.ingest import ConvertedDocument, Limits, TreeNode, check_tree
from wikismith.ingest.structure import add_structure
from wikismith.ingest.summary import summarize
from wikismith.ingest.tree import tree_from_outline, tree_from_windows


def _shape(node: TreeNode) -> list:
    return [(c.id, c.title, c.first_page, c.last_page, _shape(c)) for c in node.children]


def test_outline_tree_with_front_matter_and_nesting():
    entries = [(1, "One", 3), (2, "One.A", 3), (2, "One.B", 5), (1, "Two", 8), (2, "Two.A", 9)]
    tree = tree_from_outline(entries, 10, "Doc")
    assert check_tree(tree, 10) == []
    assert _shape(tree) == [
        ("0001", "Front matter", 1, 2, []),
        ("0002", "One", 3, 7, [("0002.0001", "One.A", 3, 4, []), ("0002.0002", "One.B", 5, 7, [])]),
        ("0003", "Two", 8, 10, [("0003.0001", "Introduction", 8, 8, []), ("0003.0002", "Two.A", 9, 10, [])]),
    ]


def test_siblings_on_one_page_share_a_node_and_out_of_order_entries_are_sorted():
    entries = [(1, "A", 1), (1, "B", 1), (1, "C", 3), (1, "D", 2), (1, "E", None), (2, "E.1", 99)]
    tree = tree_from_outline(entries, 4, "Doc")
    assert check_tree(tree, 4) == []
    # E has no page: it takes the page of the entry before it (D).
    assert [(n.title, n.first_page, n.last_page) for n in tree.children] == [
        ("A / B", 1, 1), ("D / E", 2, 2), ("C", 3, 4)]
    assert tree.children[1].children[0].title == "E.1"  # page 99 is clamped into its parent's range


def test_big_leaves_are_split_into_windows():
    tree = tree_from_outline([(1, "Only", 1)], 45, "Doc")
    assert check_tree(tree, 45) == []
    assert [(c.first_page, c.last_page) for c in tree.children[0].children] == [(1, 10), (11, 20), (21, 30),
                                                                                (31, 40), (41, 45)]


def test_window_trees_group_when_long():
    assert [c.title for c in tree_from_windows(25, "Doc").children] == ["Pages 1–10", "Pages 11–20", "Pages 21–25"]
    tree = tree_from_windows(1234, "Doc")
    assert check_tree(tree, 1234) == []
    assert len(tree.children) == 13 and tree.children[0].last_page == 100
    assert len(tree.children[0].children) == 10
    assert check_tree(tree_from_windows(1, "Doc"), 1) == []


def test_random_outlines_always_partition():
    rng = random.Random(7)
    for _ in range(300):
        count = rng.randint(1, 60)
        entries = [(rng.randint(1, 4), f"t{i}", rng.choice([None, rng.randint(-3, count + 3)]))
                   for i in range(rng.randint(0, 30))]
        tree = tree_from_outline(entries, count, "Doc")
        assert check_tree(tree, count) == [], entries
        assert len({node.id for node in tree.walk()}) == len(list(tree.walk()))


def test_check_tree_reports_gaps_overlaps_and_bad_roots():
    good = TreeNode("root", "D", 1, 6, children=[TreeNode("0001", "a", 1, 3), TreeNode("0002", "b", 4, 6)])
    assert check_tree(good, 6) == []
    assert any("root spans" in p for p in check_tree(good, 7))
    gap = TreeNode("root", "D", 1, 6, children=[TreeNode("0001", "a", 1, 2), TreeNode("0002", "b", 4, 6)])
    assert any("not covered: 3" in p for p in check_tree(gap, 6))
    overlap = TreeNode("root", "D", 1, 6, children=[TreeNode("0001", "a", 1, 4), TreeNode("0001", "b", 3, 6)])
    problems = check_tree(overlap, 6)
    assert any("more than once: 3-4" in p for p in problems) and any("used twice" in p for p in problems)
    short = TreeNode("root", "D", 1, 6, children=[TreeNode("0001", "a", 1, 5)])
    assert any("end at 5" in p for p in check_tree(short, 6))
    empty = TreeNode("root", "D", 1, 1, children=[TreeNode("0001", "a", 2, 1)])
    assert check_tree(empty, 1)


def _markdown_doc(markdown: str) -> ConvertedDocument:
    return add_structure(ConvertedDocument(title="T", kind="markdown", markdown=markdown), Limits())


def test_markdown_with_deep_headings_gets_a_section_tree():
    doc = _markdown_doc("Intro text here.\n\n# A\n\nSome words.\n\n## A.1\n\n### A.1.x\n\ntext\n\n# B\n\nmore\n")
    assert [(e.level, e.title, e.page) for e in doc.outline] == [(1, "A", None), (2, "A.1", None),
                                                                  (3, "A.1.x", None), (1, "B", None)]
    assert doc.tree_unit == "section" and len(doc.sections) == 5
    assert check_tree(doc.tree, 5) == []
    assert [(n.title, n.first_page, n.last_page) for n in doc.tree.children] == [
        ("Front matter", 1, 1), ("A", 2, 4), ("B", 5, 5)]
    assert doc.sections[1].startswith("# A")


def test_shallow_markdown_gets_no_tree_and_code_comments_are_not_headings():
    doc = _markdown_doc("# Title\n\n```python\n# not a heading\n```\n\n  # indented, not one\n\n## Part\n\ntext\n")
    assert [e.title for e in doc.outline] == ["Title", "Part"]
    assert doc.tree is None


def test_twelve_headings_make_a_tree():
    doc = _markdown_doc("".join(f"## H{i}\n\nBody {i}.\n\n" for i in range(12)))
    assert doc.tree is not None and len(doc.tree.children) == 12


def test_long_pdf_without_outline_gets_windows_and_short_one_none():
    pages = [f"Page {i} says something long enough to be a sentence here." for i in range(1, 26)]
    doc = ConvertedDocument(title="P", kind="pdf", markdown="", pages=pages, page_count=25)
    add_structure(doc, Limits())
    assert doc.tree_unit == "page" and [c.last_page for c in doc.tree.children] == [10, 20, 25]
    assert doc.tree.children[1].summary.startswith("Page 11 says")
    short = ConvertedDocument(title="P", kind="pdf", markdown="", pages=pages[:5], page_count=5)
    assert add_structure(short, Limits()).tree is None


def test_summaries_are_extractive_and_bounded():
    text = "Chapter 2\nIntro\nThe first real sentence is right here. A second one follows it nicely.\n" * 20
    summary = summarize(text)
    assert summary.startswith("The first real sentence is right here. A second one follows it nicely. The")
    assert len(summary) <= 300 and "Chapter" not in summary and "Intro" not in summary
    assert len(summarize("word " * 500)) <= 300 and summarize("word " * 500).endswith("…")
    assert summarize("") == ""
    assert summarize("Skip this line entirely.\n2.1 Target\nHere the section really starts, at last.",
                     after="2.1 Target") == "Here the section really starts, at last."
