"""The LLM side of one `add` command: the client, per-document usage, and the pages whose overviews to refresh."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from wikismith import clock
from wikismith.errors import WikismithError

MAX_REMAINING_SECTIONS = 5  # what a refresh after a removal reads of a page: bounded, however many sources it has


class Model:
    def __init__(self, client, language: str):
        self.client = client
        self.language = language
        self.touched: dict[str, list[str]] = {}
        self._early: dict[str, Future] = {}  # page -> (inputs, answer) of an overview asked ahead of the batch
        self._early_pool: ThreadPoolExecutor | None = None
        self._early_usage = None

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
        for c, path in zip(draft.contributions, page_paths(draft)):
            if path in mutation.writes:
                self.touched.setdefault(path, []).append(c.section)

    def refresh_early(self, view, paths) -> None:
        """Ask now, in the background, for the overviews of these pages (ones no document still to apply will touch)
        from the KB as it is. The batch after the documents takes an answer only if its inputs are still the same,
        so this changes when calls are made, never what is written."""
        def ask(path: str, written: tuple) -> tuple:
            inputs = self._inputs(view, path, False, written)
            return inputs, None if inputs is None else self._ask(inputs)

        if self._early_pool is None:
            self._early_pool = ThreadPoolExecutor(max_workers=self.client.settings.concurrency)
            self._early_usage = self.client.usage.snapshot()  # these calls are the batch's
        for path in paths:
            self._early[path] = self._early_pool.submit(ask, path, tuple(self.touched[path]))

    def close(self) -> None:
        """Drop overview calls asked ahead and not begun (the command stopped before its batch)."""
        if self._early_pool is not None:
            self._early_pool.shutdown(wait=False, cancel_futures=True)

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
        from wikismith.wiki.merge import build_overview_mutation

        before = self._early_usage or self.client.usage.snapshot()
        view = store.view()
        fresh: dict[str, str] = {}

        def refresh(path: str) -> None:
            inputs = self._inputs(view, path, remaining, tuple(self.touched[path]))
            if inputs is not None:
                asked, answer = self._early[path].result() if path in self._early else (None, None)
                fresh[path] = answer if asked == inputs else self._ask(inputs)

        try:
            with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
                list(pool.map(refresh, sorted(self.touched)))  # the client caps calls in flight
            store.change(lambda view: build_overview_mutation(view, fresh, when=clock.now_iso()))
        except WikismithError as exc:
            return {"pages": 0, "failed": str(exc), "usage": usage_since(self.client.usage, before)}
        return {"pages": len(fresh), "usage": usage_since(self.client.usage, before)}

    @staticmethod
    def _inputs(view, path: str, remaining: bool, written: tuple) -> tuple | None:
        """What an overview call for `path` is asked from: the page's title and overview now, and `written`, the
        sections this command gave it. None when the page is gone."""
        from wikismith.wiki import frontmatter, sections

        text = view.read(path)
        if text is None:
            return None
        meta, body = frontmatter.parse(text)
        return str(meta.get("title", "")), sections.parse_page(body).overview, written, remaining

    def _ask(self, inputs: tuple) -> str:
        from wikismith.compile.llm_compiler import refresh_overview

        title, overview, written, remaining = inputs
        return refresh_overview(self.client, title=title, overview=overview, sections=list(written),
                                language=self.language, remaining=remaining)


def page_paths(draft) -> list[str]:
    """The page each of the draft's contributions goes to."""
    from wikismith.wiki import pages
    from wikismith.wiki.slug import slugify

    return [pages.page_path(c.kind, slugify(c.key)) for c in draft.contributions]


def usage_since(usage, before) -> dict:
    now = usage.snapshot()
    cost = None if now.cost is None else round(now.cost - (before.cost or 0.0), 6)
    return {"calls": now.calls - before.calls, "tokens_in": now.tokens_in - before.tokens_in,
            "tokens_out": now.tokens_out - before.tokens_out, "cost": cost}
