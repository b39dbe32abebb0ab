"""The layers of the code: front ends -> kb -> operations -> parts -> store -> leaves; nothing calls back up.

Every module is imported (so each one loads on its own), and every import statement in it, including the lazy ones
inside functions, is checked against the layer table below. Front ends reach the KB only through kb.py; only
store/ runs SQL.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil

import wikismith

# Lowest first. A module may import from its own layer and the layers below it, never above.
LAYERS = [
    ("leaf", ("wikismith.errors", "wikismith.clock", "wikismith.config", "wikismith.envfile", "wikismith.retry",
              "wikismith.markdown")),
    ("store", ("wikismith.store",)),
    ("parts", ("wikismith.ingest", "wikismith.llm", "wikismith.compile", "wikismith.wiki")),
    ("ops", ("wikismith.ops", "wikismith.ask")),
    ("kb", ("wikismith.kb",)),
    ("front", ("wikismith.cli", "wikismith.web", "wikismith.mcp", "wikismith.__main__")),
]
FRONT_MAY_IMPORT = {"front", "kb", "leaf"}


def layer_of(module: str) -> str | None:
    if module == "wikismith":
        return "leaf"  # the package itself holds only __version__
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


def rank(layer: str) -> int:
    return [name for name, _ in LAYERS].index(layer)


def all_modules() -> list[str]:
    found = ["wikismith"]
    for info in pkgutil.walk_packages(wikismith.__path__, "wikismith."):
        found.append(info.name)
    return sorted(found)


def source_of(module: str) -> tuple[str, bool]:
    """(source text, is a package) of a module."""
    spec = importlib.util.find_spec(module)
    with open(spec.origin, encoding="utf-8") as fh:
        return fh.read(), bool(spec.submodule_search_locations)


def imports_of(module: str, source: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(imported wikismith module, line) for every import in the module's source, lazy ones included."""
    tree = ast.parse(source)
    package = module if is_package else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("wikismith")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("wikismith"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    out.append((full if importlib.util.find_spec(base).submodule_search_locations
                                and _is_module(full) else base, node.lineno))
    return out


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_every_module_has_a_layer_and_imports_on_its_own():
    for module in all_modules():
        assert layer_of(module) is not None, f"{module} has no layer in tests/unit/test_layers.py"
        if module != "wikismith.__main__":  # that one runs the CLI when imported
            importlib.import_module(module)


def upward_imports(module: str, source: str, is_package: bool = False) -> list[str]:
    own = layer_of(module)
    upward = []
    for target, line in imports_of(module, source, is_package):
        theirs = layer_of(target)
        if theirs is None:
            upward.append(f"{module}:{line} imports {target}, which has no layer")
        elif rank(theirs) > rank(own):
            upward.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
        elif own == "front" and theirs not in FRONT_MAY_IMPORT:
            upward.append(f"{module}:{line}: a front end imports {target} ({theirs}); it must go through kb")
    return upward


def test_no_module_imports_from_a_layer_above_it():
    upward = [problem for module in all_modules() for problem in upward_imports(module, *source_of(module))]
    assert not upward, "\n".join(upward)


def test_only_the_store_runs_sql_and_front_ends_never_touch_the_store():
    found = []
    for module in all_modules():
        tree = ast.parse(source_of(module)[0])
        own = layer_of(module)
        for node in ast.walk(tree):
            if own != "store" and isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany",
                                                                                     "executescript"):
                found.append(f"{module}:{node.lineno} runs SQL (.{node.attr})")
            if own != "store" and isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "sqlite3" in names:
                    found.append(f"{module}:{node.lineno} imports sqlite3")
            if own == "front" and isinstance(node, ast.Attribute) and node.attr in ("store", "conn"):
                found.append(f"{module}:{node.lineno} reaches .{node.attr} past the KB API")
    assert not found, "\n".join(found)


def test_the_checker_sees_upward_imports_lazy_and_relative_ones_included():
    lazy = "def f():\n    from wikismith.ops.add import add\n"
    assert upward_imports("wikismith.store.txn", lazy) == ["wikismith.store.txn:2 (store) imports wikismith.ops.add (ops)"]
    assert upward_imports("wikismith.store.txn", "from ..kb import KnowledgeBase\n")
    assert upward_imports("wikismith.cli.common", "import wikismith.store.txn\n")  # past the KB API
    assert not upward_imports("wikismith.ops.doctor", "from wikismith.store import fs\nfrom . import inspect\n")


# The worker side of a parallel add runs on other processes and other machines, which hold no KB: it must not reach
# the store, nor the parts of the add that do (the applier's merge and commit), lazily or not.
WORKER_SIDE = ("wikismith.ops.add.prepare",)
WORKER_MAY_NOT_IMPORT = ("wikismith.store", "wikismith.kb", "wikismith.ops.add.local", "wikismith.ops.add.parallel",
                         "wikismith.wiki.merge")


def test_the_worker_side_of_a_parallel_add_never_reaches_the_kb():
    found = []
    for module in WORKER_SIDE:
        for target, line in imports_of(module, source_of(module)[0]):
            if any(target == p or target.startswith(p + ".") for p in WORKER_MAY_NOT_IMPORT):
                found.append(f"{module}:{line} imports {target}")
    assert not found, "\n".join(found)
