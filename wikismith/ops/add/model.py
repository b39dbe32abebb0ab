"""The LLM side of one `add` command: the client, per-document usage, and the pages whose overviews to refresh."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from wikismith import clock
from wikismith.errors import WikismithError

MAX_REMAINING_SECTIONS = 5  # what a refresh after a removal reads of a page: bounded, however many sources it has


class Model:
    def __init__(self, client, language: str):
        self.client = client
        self.language = language
        self.touched: dict[str, list[str]] = {}

    @classmethod
    def for_config(cls, cfg: dict, env: dict[str, str], *, connect: bool = True) -> "Model | None":
        """None for the offline compiler; without connect (a dry run), no client and no key are needed."""
        if str(cfg.get("model", "offline")) == "offline":
            return None
        if not connect:
            return cls(None, str(cfg.get("language", "en")))
        from wikismith.llm import client_for

        return cls(client_for(cfg, env), str(cfg.get("language", "en")))

    @staticmethod
    def estimate(size: int) -> dict:
        """An upper bound before any call: three bounded document calls, and an overview call per page it may touch
        (tree-node calls of long documents come on top)."""
        from wikismith.compile import llm_compiler, prompts

        document = min(size, prompts.MAX_DOCUMENT_CHARS) // 4 + 500
        pages = llm_compiler.MAX_CONCEPTS + llm_compiler.MAX_ENTITIES
        return {"estimated": True, "calls": 3 + pages, "tokens_in": 3 * document + pages * 1500,
                "tokens_out": 3 * 800 + pages * 200}

    def compile(self, store, doc, source):
        from wikismith.compile import llm_compiler

        before = self.client.usage.snapshot()
        view = store.view()
        draft = llm_compiler.compile_document(doc, source, self.client, candidates=view.candidates,
                                              language=self.language, agents_md=view.read("wiki/AGENTS.md") or "")
        return draft, usage_since(self.client.usage, before)

    def note_sections(self, draft, mutation) -> None:
        from wikismith.wiki import pages
        from wikismith.wiki.slug import slugify

        for c in draft.contributions:
            path = pages.page_path(c.kind, slugify(c.key))
            if path in mutation.writes:
                self.touched.setdefault(path, []).append(c.section)

    def refresh_remaining(self, store, paths: list[str]) -> dict:
        """After a removal: each page's overview rewritten from the sections it has left (the first few)."""
        from wikismith.wiki import frontmatter, sections

        view = store.view()
        for path in paths:
            text = view.read(path)
            if text is not None:
                page = sections.parse_page(frontmatter.parse(text)[1])
                self.touched[path] = [page.sections[d] for d in sorted(page.sections)][:MAX_REMAINING_SECTIONS]
        return self.refresh_overviews(store, remaining=True)

    def refresh_overviews(self, store, *, remaining: bool = False) -> dict:
        """One model call per touched page, from bounded input; then one transaction that sets them all."""
        from wikismith.compile.llm_compiler import refresh_overview
        from wikismith.wiki import frontmatter, sections
        from wikismith.wiki.merge import build_overview_mutation

        before = self.client.usage.snapshot()
        view = store.view()
        fresh: dict[str, str] = {}

        def refresh(path: str) -> None:
            text = view.read(path)
            if text is not None:
                meta, body = frontmatter.parse(text)
                current = sections.parse_page(body).overview
                fresh[path] = refresh_overview(self.client, title=str(meta.get("title", "")), overview=current,
                                               sections=self.touched[path], language=self.language,
                                               remaining=remaining)

        try:
            with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
                list(pool.map(refresh, sorted(self.touched)))  # the client caps calls in flight
            store.change(lambda view: build_overview_mutation(view, fresh, when=clock.now_iso()))
        except WikismithError as exc:
            return {"pages": 0, "failed": str(exc), "usage": usage_since(self.client.usage, before)}
        return {"pages": len(fresh), "usage": usage_since(self.client.usage, before)}


def usage_since(usage, before) -> dict:
    now = usage.snapshot()
    cost = None if now.cost is None else round(now.cost - (before.cost or 0.0), 6)
    return {"calls": now.calls - before.calls, "tokens_in": now.tokens_in - before.tokens_in,
            "tokens_out": now.tokens_out - before.tokens_out, "cost": cost}
