"""The crash bench's workloads, by name. Later features add theirs here."""

from __future__ import annotations

from bench import synthetic
from bench.crashkit import Workload
from wikismith.kb import KnowledgeBase


def _apply_change(pages: int, seed: int):
    def step(root: str) -> None:
        kb = KnowledgeBase.open(root)
        try:
            kb.apply(synthetic.change_mutation(pages, seed))
        finally:
            kb.close()
    return step


def store_change_1000() -> Workload:
    return Workload("store-change-1000-pages", lambda root: synthetic.build_kb(root, 1000).close(),
                    [_apply_change(1000, 1)])


def store_change_empty() -> Workload:
    return Workload("store-change-empty-kb", lambda root: synthetic.build_kb(root, 0).close(),
                    [_apply_change(0, 1)])


def store_two_changes() -> Workload:
    return Workload("store-two-changes", lambda root: synthetic.build_kb(root, 40).close(),
                    [_apply_change(40, 1), _apply_change(40, 2)])


WORKLOADS = {
    "store-change-1000-pages": store_change_1000,
    "store-change-empty-kb": store_change_empty,
    "store-two-changes": store_two_changes,
}
