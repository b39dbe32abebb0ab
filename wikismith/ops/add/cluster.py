"""The prepare stage of an add on a Dask cluster (`add --cluster tcp://HOST:8786`, extra wikismith[distributed]).

Each task carries a document's bytes (and, with a model, its candidate pages and the KB's settings without any key);
the KB itself never leaves this machine. A worker reads a model key from its own environment, so no key is ever part
of the task graph, where the scheduler and its dashboard would show it. A task that fails, or whose workers keep
dying (Dask gives up with KilledWorker), fails that document only. Model calls share one budget across the cluster:
a Dask Semaphore of `concurrency` leases, and a Dask Variable holding the time before which, after a 429, no worker
sends anything.
"""

from __future__ import annotations

import contextlib
import uuid

from wikismith.errors import UsageError
from wikismith.llm.gate import Gate
from wikismith.ops.add.prepare import Prepared, Task, run

CONNECT_TIMEOUT = 10  # seconds to reach the scheduler
DAEMON_HINT = ("start the Dask workers with DASK_DISTRIBUTED__WORKER__DAEMON=False: converting a PDF or an Office "
               "file needs a child process")


class ClusterPool:
    def __init__(self, address: str, cfg: dict):
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise UsageError("--cluster needs Dask distributed: pip install 'wikismith[distributed]'") from None
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info().get("workers", {}).values())
        self.jobs = max(1, threads)
        self.gate = None
        if str(cfg.get("model", "offline")) != "offline":
            self.gate = DaskGate(int(cfg.get("concurrency", 4)), f"wikismith-{uuid.uuid4().hex}", self.client)
        self.waiting = as_completed([], loop=self.client.loop, with_results=False)
        self.tasks: dict = {}  # future -> Task

    def __enter__(self) -> ClusterPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, task: Task, *, first: bool = False) -> None:
        future = self.client.submit(_prepare, task, self.gate, pure=False, priority=1 if first else 0,
                                    key=f"wikismith-prepare-{task.stage}-{task.index}-{uuid.uuid4().hex[:8]}")
        self.tasks[future] = task
        self.waiting.add(future)

    def results(self, timeout: float | None = None) -> list[Prepared]:
        """What is prepared: wait for at least one unless timeout is 0."""
        if not self.tasks:
            return []
        out = []
        for future in self.waiting.next_batch(block=timeout != 0):
            task = self.tasks.pop(future)
            try:
                out.append(future.result())
            except Exception as exc:  # KilledWorker, a cancelled or lost task: this document fails, the rest go on
                out.append(Prepared(task.index, task.stage,
                                    error=f"{task.label}: the cluster could not prepare it ({type(exc).__name__}: "
                                          f"{' '.join(str(exc).split())[:300]})"))
            future.release()
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for future in list(self.tasks):
                future.cancel()
            self.client.close()


def _prepare(task: Task, gate) -> Prepared:
    """What a Dask worker runs (bytes in, draft out); the worker's own environment holds any key."""
    if gate is not None:
        gate.bind()
    out = run(task, gate)
    if out.error and "daemonic processes are not allowed to have children" in out.error:
        out.error = f"{task.label}: cannot convert it on this worker; {DAEMON_HINT}"
    return out


class DaskGate(Gate):
    """The shared budget of model calls on a cluster: a Dask Semaphore, and a Dask Variable for the pause."""

    def __init__(self, concurrency: int, name: str, client=None):
        from distributed import Semaphore, Variable

        self.name = name
        bound = {"scheduler_rpc": client.scheduler, "loop": client.loop} if client is not None else {}
        self._slots = Semaphore(max_leases=max(1, concurrency), name=f"{name}-slots", **bound)
        self._until = Variable(f"{name}-pause", client=client)
        self._until.set(0.0)

    def bind(self) -> None:
        """Find this worker's scheduler now, from the task's own thread: the Semaphore and the Variable look it up
        on first use and keep it, and a thread the task starts (a long document's tree calls) cannot find it."""
        self._slots.scheduler  # noqa: B018
        self._until.client  # noqa: B018

    def _paused_until(self) -> float:
        return float(self._until.get())

    def _pause_until(self, when: float) -> None:
        if when > self._paused_until():  # last writer wins: at worst a pause a little shorter than asked
            self._until.set(when)
