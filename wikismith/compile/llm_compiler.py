"""The LLM compiler: the same kind of Draft as the extractive compiler, written by a model.

Calls per document are fixed (summary, plan, sections; plus one per tree node of a long document), and every
prompt is bounded: the document is cut to a fixed size, and the pages the KB already has reach the plan only as the
top full-text candidates for this document's phrases, never as the whole page list. So the cost of adding a
document does not grow with the KB. Overviews are refreshed once per page per `add`, after the documents.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from wikismith.compile import extract, prompts
from wikismith.compile.draft import Contribution, Draft, SourceInfo
from wikismith.compile.hygiene import clip, escape_markers, one_line, title_line
from wikismith.compile.lexicon import normalize

MAX_CONCEPTS = 10
MAX_ENTITIES = 8
MAX_CANDIDATES = 20

# candidates(phrases) -> [(kind, target, title)] of existing concept/entity pages, best first
Candidates = Callable[[list[str]], list[tuple[str, str, str]]]


def compile_document(doc, source: SourceInfo, client, *, candidates: Candidates, language: str = "en",
                     agents_md: str = "") -> Draft:
    title = doc.title.strip() or source.name
    sys = lambda kind, shape: prompts.system(kind, language, shape, agents_md)  # noqa: E731
    if not getattr(doc, "tree", None):
        return _compile_chain(doc, source, client, candidates, sys, title)
    with ThreadPoolExecutor(max_workers=1) as background:
        # The tree's node calls need nothing of the summary, plan and sections chain: they run beside it.
        tree = background.submit(_summarised_tree, doc, client, sys, title)
        draft = _compile_chain(doc, source, client, candidates, sys, title)
        draft.tree = tree.result()
    return draft


def _compile_chain(doc, source: SourceInfo, client, candidates: Candidates, sys, title: str) -> Draft:
    """Summary, then the plan (it needs the summary), then the sections (they need the plan)."""
    text = doc.markdown
    summary = client.complete_json("summary", sys("summary", prompts.SUMMARY_SHAPE),
                                   prompts.document_block(title, text), _summary)
    hints = _hint_names(text)
    found = candidates([normalize(h) for h in hints])[:MAX_CANDIDATES]
    targets = {target: (kind, name) for kind, target, name in found}
    plan = client.complete_json("plan", sys("plan", prompts.PLAN_SHAPE),
                                prompts.plan_user(summary["title"], summary["summary"], hints,
                                                  [(t, n) for t, (_k, n) in targets.items()]),
                                lambda obj: _plan(obj, targets))
    names = [item["name"] for item in plan["concepts"] + plan["entities"]]
    written = {}
    if names:
        written = client.complete_json("sections", sys("sections", prompts.SECTIONS_SHAPE),
                                       prompts.sections_user(summary["title"], names, text), _sections)["sections"]
    contributions = []
    for kind, items in (("concept", plan["concepts"]), ("entity", plan["entities"])):
        for item in items:
            section = written.get(item["name"]) or "\n".join(
                f"- {one_line(s)}" for s in extract.best_sentences_for(text, normalize(item["name"]), n=3))
            if not section.strip():
                continue
            # An existing page keeps its name: its key is its slug, which slugifies to itself.
            key = item["existing"].split("/", 1)[1] if item["existing"] else normalize(item["name"])
            contributions.append(Contribution(
                kind=kind, key=key or item["name"].lower(), title=title_line(item["name"]),
                section=escape_markers(section.strip()), description=clip(one_line(section.splitlines()[0]), 160),
                strong=True, overview=None))
    return Draft(
        source=source, title=title_line(summary["title"] or title), description=clip(one_line(summary["description"]), 160),
        key_points=[one_line(p) for p in summary["key_points"]], body=escape_markers(summary["summary"]),
        source_markdown=escape_markers(text), outline=[(e.level, one_line(e.title), e.page) for e in doc.outline],
        tree=None, contributions=contributions, warnings=list(doc.warnings), page_count=getattr(doc, "page_count", None),
    )


def hints_for(text: str) -> list[str]:
    """The normalised phrases whose existing pages a plan is shown: what `candidates` is asked for. A parallel add
    looks them up in the owner's KB and ships the answer to the worker with the document."""
    return [normalize(h) for h in _hint_names(text)]


def _hint_names(text: str) -> list[str]:
    return [p.display for p in extract.key_phrases(text, limit=15)] + [e.display for e in extract.entities(text, limit=10)]


def refresh_overview(client, *, title: str, overview: str, sections: list[str], language: str = "en",
                     remaining: bool = False) -> str:
    answer = client.complete_json("overview", prompts.system("overview", language, prompts.OVERVIEW_SHAPE),
                                  prompts.overview_user(title, overview, sections, remaining=remaining), _overview)
    return escape_markers(one_line(answer["overview"]))


def check_page(client, *, title: str, body: str, language: str = "en") -> list[dict]:
    """A model's reading of one page for contradictions between its sources, stale claims and gaps."""
    answer = client.complete_json("lint", prompts.system("lint", language, prompts.LINT_SHAPE),
                                  f"Page: {title}\n\n{body}", _lint)
    return answer["findings"]


def _summarised_tree(doc, client, sys, title: str) -> dict:
    """Node summaries bottom-up, one bounded call per node, siblings (top-level ones too) in parallel."""
    tree = doc.tree.to_dict()
    pages = doc.pages or doc.sections or []

    def text_of(node: dict) -> str:
        return "\n".join(pages[node["first_page"] - 1 : node["last_page"]])[: prompts.MAX_NODE_CHARS]

    def summarise_all(nodes: list[dict]) -> None:
        with ThreadPoolExecutor(max_workers=min(4, len(nodes))) as pool:
            list(pool.map(summarise, nodes))

    def summarise(node: dict) -> None:
        children = node.get("children", [])
        if children:
            summarise_all(children)
        answer = client.complete_json("node", sys("node", prompts.NODE_SHAPE),
                                      prompts.node_user(title, text_of(node), [c["summary"] for c in children]), _node)
        node["summary"] = clip(one_line(answer["summary"]), 400)

    summarise_all(tree.get("children", []) or [tree])
    return tree


# -- validation: every field a model returns is checked before it reaches a page ------------------------------------

def _text(obj: dict, key: str, limit: int = 20_000) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string")
    return value.strip()[:limit]


def _summary(obj) -> dict:
    if not isinstance(obj, dict):
        raise ValueError("expected an object")
    points = obj.get("key_points")
    if not isinstance(points, list) or not all(isinstance(p, str) and p.strip() for p in points):
        raise ValueError("'key_points' must be a list of strings")
    return {"title": _text(obj, "title", 200), "description": _text(obj, "description", 400),
            "summary": _text(obj, "summary"), "key_points": [p.strip() for p in points[:10]]}


def _plan(obj, targets: dict[str, tuple[str, str]]) -> dict:
    if not isinstance(obj, dict):
        raise ValueError("expected an object")
    plan = {}
    for field, kind, cap in (("concepts", "concept", MAX_CONCEPTS), ("entities", "entity", MAX_ENTITIES)):
        items = obj.get(field, [])
        if not isinstance(items, list):
            raise ValueError(f"{field!r} must be a list")
        seen, chosen = set(), []
        for item in items:
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
                raise ValueError(f"every item of {field!r} needs a name")
            name = " ".join(item["name"].split())[:80]
            existing = item.get("existing")
            # A page the model names must be one it was shown, of the right kind; anything else is a new page.
            existing = existing if isinstance(existing, str) and targets.get(existing, ("",))[0] == kind else None
            if name.lower() not in seen:
                seen.add(name.lower())
                chosen.append({"name": name, "existing": existing})
        plan[field] = chosen[:cap]
    return plan


def _sections(obj) -> dict:
    sections = obj.get("sections") if isinstance(obj, dict) else None
    if not isinstance(sections, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sections.items()):
        raise ValueError("'sections' must map names to markdown strings")
    return {"sections": {" ".join(k.split())[:80]: v[:6000] for k, v in sections.items()}}


def _node(obj) -> dict:
    if not isinstance(obj, dict):
        raise ValueError("expected an object")
    return {"summary": _text(obj, "summary", 2000)}


def _lint(obj) -> dict:
    items = obj.get("findings") if isinstance(obj, dict) else None
    if not isinstance(items, list):
        raise ValueError("'findings' must be a list")
    found = []
    for item in items[:10]:
        if not isinstance(item, dict) or item.get("kind") not in ("contradiction", "stale", "gap"):
            raise ValueError("each finding needs a kind: contradiction, stale or gap")
        found.append({"kind": item["kind"], "detail": one_line(_text(item, "detail", 400))})
    return {"findings": found}


def _overview(obj) -> dict:
    if not isinstance(obj, dict):
        raise ValueError("expected an object")
    return {"overview": _text(obj, "overview", 2000)}
