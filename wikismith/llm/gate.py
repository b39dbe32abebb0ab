"""One budget of model calls shared by every process of an add: `concurrency` calls in flight in all of them
together, and a 429 seen by one pauses them all.

A gate has three methods: `slot()` (a context manager holding one of the shared slots for one request), `wait()`
(sleep while a pause is on) and `pause(seconds)` (a 429 arrived: nobody sends for that long). `ProcessGate` does it
for worker processes forked on one machine with a semaphore and a shared clock value; a cluster has its own (see
ops/add/cluster.py). The client uses a gate when one is set on it, on top of its own per-process cap.
"""

from __future__ import annotations

import contextlib
import time


class Gate:
    """What every gate shares; a subclass gives `_slots` (a context manager) and the shared pause time."""

    _slots: contextlib.AbstractContextManager

    @contextlib.contextmanager
    def slot(self):
        with self._slots:
            yield

    def wait(self) -> None:
        while (left := self._paused_until() - time.time()) > 0:
            time.sleep(min(left, 1.0))

    def pause(self, seconds: float) -> None:
        self._pause_until(time.time() + seconds)

    def _paused_until(self) -> float:
        raise NotImplementedError

    def _pause_until(self, when: float) -> None:
        raise NotImplementedError


class ProcessGate(Gate):
    """For processes forked from the one that made it (the semaphore and the value are inherited)."""

    def __init__(self, concurrency: int, ctx=None):
        import multiprocessing

        ctx = ctx or multiprocessing.get_context("fork")
        self._slots = ctx.BoundedSemaphore(max(1, concurrency))
        self._until = ctx.Value("d", 0.0)  # time.time() before which no request is sent

    def _paused_until(self) -> float:
        return self._until.value

    def _pause_until(self, when: float) -> None:
        with self._until.get_lock():
            self._until.value = max(self._until.value, when)
