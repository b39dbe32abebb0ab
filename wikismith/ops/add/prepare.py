"""The slow half of adding one file, as a plain function a worker runs (a local process or a Dask worker).

A Task carries everything the worker needs and nothing of the KB: the file (its path for a local worker, its bytes
for a cluster worker), the limits, and with a model its settings (never the key: each worker reads the key from its
own environment) and the candidate pages the owner looked up for it. The answer is a Prepared value: a Draft, or
after the convert stage of a model add the converted document and its hints, or the reason it failed. A worker never
opens the KB, never counts fault checkpoints and writes nothing but its own scratch files.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

from wikismith.errors import WikismithError

# Crash bench and tests: "K" kills (SIGKILL) the worker preparing the K-th document, on its first attempt, after
# appending a line to the file KILL_MARK_ENV names (if set), so that the bench knows the kill happened.
KILL_ENV = "WIKISMITH_WORKER_KILL"
KILL_MARK_ENV = "WIKISMITH_WORKER_KILL_MARK"


@dataclass
class Task:
    index: int  # the document's place in the input order (1-based)
    label: str  # the path as the user named it
    source: object  # SourceInfo
    limits: object  # ingest.Limits
    stage: str = "compile"  # "compile" (offline: convert and compile) | "convert" | "model" (model add, 2 stages)
    data: bytes | None = None  # the file's bytes, for a worker that cannot read the path (a cluster)
    doc: object | None = None  # the converted document, for the "model" stage
    candidates: list = field(default_factory=list)  # [(kind, target, title)] the owner found for it
    agents_md: str = ""
    model: dict | None = None  # the KB's settings (no key)
    env_root: str | None = None  # a local worker also reads the KB's .env; a cluster worker only its environment
    attempt: int = 1


@dataclass
class Prepared:
    index: int
    stage: str
    draft: object | None = None
    doc: object | None = None
    hints: list[str] = field(default_factory=list)
    usage: dict | None = None
    error: str | None = None
    seconds: float = 0.0


def run(task: Task, gate=None) -> Prepared:
    """Prepare one document; every failure of this document becomes its `error`, never an exception."""
    started = time.perf_counter()
    out = Prepared(task.index, task.stage)
    try:
        _maybe_die(task)
        if task.stage == "model":
            out.draft, out.usage = _compile_with_model(task, gate)
        else:
            doc = _convert(task)
            if task.stage == "convert":
                from wikismith.compile.llm_compiler import hints_for

                out.doc, out.hints = doc, hints_for(doc.markdown)
            else:
                from wikismith.compile.extractive import compile_document

                out.draft = compile_document(doc, task.source)
    except WikismithError as exc:
        out.error = str(exc)
    except Exception as exc:  # a bug or a library's failure on this document fails this document only
        out.error = f"{task.label}: preparing it failed ({type(exc).__name__}: {exc})"
    out.seconds = time.perf_counter() - started
    return out


def warm(model: dict | None = None, env_root: str | None = None) -> None:
    """Load in this process what every worker would otherwise load for itself on its first document (the phrase
    tables and wordfreq; with `model`, the settings a worker is sent, the OpenAI library and the worker's client,
    not yet connected: over a second of CPU in all), so that forked workers inherit it and N workers do not pay it
    N times at once on a machine with fewer cores."""
    from wikismith.compile.commonness import zipf
    from wikismith.compile.llm_compiler import hints_for

    hints_for("Warm up: the Python Language Reference describes `asyncio` event loops.")
    zipf("buffer0")  # a word that is not plain lower-case letters goes through wordfreq itself (0.8 s to import)
    if model is not None:
        _client_for(model, env_root)._connect()


def worker_settings(cfg: dict) -> dict:
    """The KB's settings as a worker gets them: without the key."""
    return {k: v for k, v in cfg.items() if k != "api_key"}


def _convert(task: Task):
    from wikismith.ingest import ConversionError, convert

    if task.data is None:
        return convert(task.label, task.limits)
    folder = tempfile.mkdtemp(prefix="wikismith-prepare-")
    try:
        copy = os.path.join(folder, os.path.basename(task.label) or "document")
        with open(copy, "wb") as fh:
            fh.write(task.data)
        try:
            return convert(copy, task.limits)
        except ConversionError as exc:
            raise ConversionError(task.label, exc.reason) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_clients: dict = {}  # one client per worker process and model settings, so connections are reused


def _client(task: Task, gate):
    client = _client_for(task.model, task.env_root)
    client.gate = gate
    return client


def _client_for(model: dict, env_root: str | None):
    from wikismith import envfile
    from wikismith.llm import client_for

    key = (tuple(sorted((k, str(v)) for k, v in model.items())), env_root)
    client = _clients.get(key)
    if client is None:
        env = envfile.environment(env_root) if env_root else dict(os.environ)
        client = _clients[key] = client_for(model, env)
    return client


def _compile_with_model(task: Task, gate):
    from wikismith.compile import llm_compiler
    from wikismith.ops.add.model import usage_since

    client = _client(task, gate)
    before = client.usage.snapshot()
    draft = llm_compiler.compile_document(task.doc, task.source, client, candidates=lambda _hints: task.candidates,
                                          language=str(task.model.get("language", "en")), agents_md=task.agents_md)
    return draft, usage_since(client.usage, before)


def _maybe_die(task: Task) -> None:
    wanted = os.environ.get(KILL_ENV)
    if wanted and task.attempt == 1 and task.stage != "model" and int(wanted) == task.index:
        mark = os.environ.get(KILL_MARK_ENV)
        if mark:
            with open(mark, "a", encoding="utf-8") as fh:
                fh.write(f"{task.index}\n")
        os.kill(os.getpid(), signal.SIGKILL)
