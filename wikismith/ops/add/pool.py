"""N worker processes on this machine, each preparing one document at a time (ops/add/prepare.run).

Workers are forked from the command's process, one pipe each. A worker that dies (killed, out of memory) is
replaced; the document it held is handed out once more, and fails when its second worker dies too. Workers ignore
Ctrl-C (the command stops them), leave fault injection off (checkpoints are counted in the applier only), and die
with the command: a `kill -9` of it leaves no worker behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque

from wikismith.ops.add.prepare import Prepared, Task, run

RETRIES_AFTER_DEATH = 1


class LocalPool:
    def __init__(self, jobs: int, gate=None):
        import multiprocessing

        self.ctx = multiprocessing.get_context("fork")
        self.gate = gate
        self.jobs = max(1, jobs)
        self.queue: deque[Task] = deque()
        self.workers: list[_Worker] = []
        self.done: list[Prepared] = []

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, task: Task, *, first: bool = False) -> None:
        (self.queue.appendleft if first else self.queue.append)(task)
        self._hand_out()

    def results(self, timeout: float | None = None) -> list[Prepared]:
        """Wait until at least one document is prepared (or a worker died); what is ready."""
        from multiprocessing.connection import wait

        while not self.done:
            busy = [w for w in self.workers if w.task is not None]
            if not busy:
                return []
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
            if not ready:
                return []
            for w in busy:
                if w.conn in ready:
                    try:
                        self.done.append(w.conn.recv())
                        w.task = None
                        continue
                    except (EOFError, OSError):
                        pass
                    self._died(w)
                elif w.process.sentinel in ready:
                    self._died(w)
            self._hand_out()
        out, self.done = self.done, []
        return out

    def close(self) -> None:
        for w in self.workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 2
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self.workers = []

    # -- workers ---------------------------------------------------------------------------------------------------

    def _hand_out(self) -> None:
        while self.queue:
            idle = next((w for w in self.workers if w.task is None), None)
            if idle is None and len(self.workers) < self.jobs:
                idle = self._start()
            if idle is None:
                return
            idle.task = self.queue.popleft()
            idle.conn.send(idle.task)

    def _start(self) -> _Worker:
        # A plain fork, not multiprocessing.Process: that one refuses to start from a daemonic process (a pool
        # worker, a server's worker), and a worker must itself be free to fork (a PDF is converted in a child).
        mine, theirs = self.ctx.Pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                mine.close()
                _serve(theirs, self.gate, parent)
            finally:
                os._exit(1)
        theirs.close()
        worker = _Worker(_Process(pid), mine)
        self.workers.append(worker)
        return worker

    def _died(self, w: _Worker) -> None:
        task = w.task
        w.process.join()
        w.conn.close()
        self.workers.remove(w)
        code = w.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        if task.attempt <= RETRIES_AFTER_DEATH:
            task.attempt += 1
            self.queue.appendleft(task)
        else:
            self.done.append(Prepared(task.index, task.stage,
                                      error=f"{task.label}: the worker preparing it died ({how}), twice"))


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.task: Task | None = None


class _Process:
    """A forked worker: its pid, a file descriptor that becomes readable when it ends (pidfd), its exit code."""

    def __init__(self, pid: int):
        self.pid = pid
        self.exitcode: int | None = None
        self.sentinel = os.pidfd_open(pid)

    def is_alive(self) -> bool:
        return self.exitcode is None and not self._reap(os.WNOHANG)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.exitcode is None and not self._reap(os.WNOHANG):
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(0.01)

    def kill(self) -> None:
        if self.exitcode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _reap(self, flags: int) -> bool:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return False
        self.exitcode = os.waitstatus_to_exitcode(status)
        os.close(self.sentinel)
        return True


def _serve(conn, gate, parent: int) -> None:
    """A worker's life: prepare what arrives until told to stop, or until the command is gone."""
    from wikismith.store import faults

    faults.configure(None)  # the applier's checkpoints only: a worker counts none and injects none
    os.environ.pop(faults.ENV, None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    code = 0
    try:
        while True:
            task = conn.recv()
            if task is None:
                break
            conn.send(run(task, gate))
    except (EOFError, OSError, KeyboardInterrupt):
        code = 1
    finally:
        os._exit(code)  # no atexit, no inherited clean-ups (the KB's database belongs to the command)


def _die_with(parent: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
