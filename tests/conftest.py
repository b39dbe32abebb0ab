import os
import subprocess
import sys

import pytest

# Tests import bench/ helpers (synthetic KBs, the crash engine) as the package `bench`.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

# One fixed clock for every KB a test builds, so that two KBs built alike are byte-identical.
EPOCH = "1767225600"


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.delenv("WIKISMITH_FAULTS", raising=False)
    monkeypatch.delenv("WIKISMITH_KB", raising=False)


@pytest.fixture
def tmp_kb(tmp_path, fixed_clock):
    """A fresh, empty knowledge base (its root path); made through the API."""
    from wikismith.kb import KnowledgeBase

    root = tmp_path / "kb"
    KnowledgeBase.init(str(root)).close()
    return root


def _run_cli(*args, kb=None, env=None, cwd=None, timeout=120):
    """Run `python -m wikismith [--kb KB] ARGS` in a subprocess; returns (exit code, stdout, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
    clean.update({"SOURCE_DATE_EPOCH": EPOCH}, **(env or {}))
    argv = [sys.executable, "-m", "wikismith", *(["--kb", str(kb)] if kb is not None else []), *map(str, args)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=clean, cwd=cwd, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def run_cli():
    return _run_cli
