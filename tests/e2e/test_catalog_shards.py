"""The catalogue is a tree (index.md and small pages under wiki/index/): `lint` and `doctor` report every page that
is not listed exactly once across it, and a KB as wikismith writes it has none."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from tests.conftest import _run_cli

BOOK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus", "book")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def book_kb(tmp_path_factory):
    """The Rust book's 112 chapters added offline: 429 concept pages, so concepts are split into shards."""
    root = tmp_path_factory.mktemp("book") / "kb"
    code, _, err = _run_cli("init", root)
    assert code == 0, err
    code, _, err = _run_cli("add", BOOK, kb=root, timeout=600)
    assert code == 0, err
    return root


@pytest.fixture
def kb(book_kb, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(book_kb, copy)
    return copy


def lint(kb) -> tuple[int, set[tuple[str, str]]]:
    code, out, err = _run_cli("lint", "--no-llm", "--json", kb=kb)
    assert code in (0, 1), err
    return code, {(f["kind"], f["page"]) for f in json.loads(out)["findings"]}


def doctor(kb) -> tuple[int, str]:
    code, out, err = _run_cli("doctor", kb=kb)
    return code, out + err


INDEX_KINDS = {"missing-from-index", "listed-twice", "index-without-page"}


def shard_lines(kb, folder: str = "concepts") -> dict[str, list[str]]:
    """Each leaf shard of a kind (one that lists pages, not only other shards) and its page lines."""
    out = {}
    for name in sorted(os.listdir(kb / "wiki" / "index" / folder)):
        text = (kb / "wiki" / "index" / folder / name).read_text()
        lines = [line for line in text.splitlines() if line.startswith(f"- [[{folder}/")]
        if lines:
            out[name] = lines
    return out


def test_a_fresh_kb_and_a_sharded_one_list_every_page_exactly_once(tmp_kb, book_kb):
    for root in (tmp_kb, book_kb):
        code, found = lint(root)
        assert not {f for f in found if f[0] in INDEX_KINDS}, found
        code, said = doctor(root)
        assert code == 0, said
    assert len(shard_lines(book_kb)) > 5, "the book's concepts are split into shards"
    index = (book_kb / "wiki" / "index.md").read_text()
    assert "[[index/concepts/" in index and "- [[concepts/" not in index, "index.md lists shards, not 429 pages"


def test_a_page_dropped_from_its_shard_is_reported_and_lint_fix_lists_it_again(kb):
    name, lines = next(iter(shard_lines(kb).items()))
    shard = kb / "wiki" / "index" / "concepts" / name
    page = re.match(r"- \[\[([^|\]]+)", lines[0]).group(1)
    shard.write_text(shard.read_text().replace(lines[0] + "\n", ""))

    code, found = lint(kb)
    assert code == 1 and ("missing-from-index", f"wiki/{page}.md") in found
    code, said = doctor(kb)
    assert code == 1 and f"wiki/{page}.md: missing from wiki/index.md and its shards" in said

    code, out, err = _run_cli("lint", "--no-llm", "--fix", kb=kb)
    assert lines[0] in shard.read_text()
    code, found = lint(kb)
    assert not {f for f in found if f[0] in INDEX_KINDS}, found
    assert doctor(kb)[0] == 0


def test_a_page_listed_in_two_shards_is_reported(kb):
    shards = list(shard_lines(kb).items())
    (first, lines), (second, _) = shards[0], shards[1]
    page = re.match(r"- \[\[([^|\]]+)", lines[0]).group(1)
    other = kb / "wiki" / "index" / "concepts" / second
    other.write_text(other.read_text() + lines[0] + "\n")  # the same page, listed again in another shard

    code, found = lint(kb)
    assert code == 1 and ("listed-twice", f"wiki/{page}.md") in found
    code, said = doctor(kb)
    assert code == 1 and f"wiki/{page}.md: listed 2 times in the catalogue" in said

    _run_cli("lint", "--no-llm", "--fix", kb=kb)
    assert lines[0] not in other.read_text()
    assert not {f for f in lint(kb)[1] if f[0] in INDEX_KINDS}
    assert doctor(kb)[0] == 0
