"""Ctrl-C never lands inside a transaction's apply: it is held for the few milliseconds the apply takes.

A transaction interrupted anywhere is rolled back, so holding the signal is not needed for safety. It is needed for
an honest report: a Ctrl-C that arrives just after the commit must not make the command forget that it committed.
So during `deferred()` SIGINT only sets a flag; the command checks `pending()` between its transactions and stops
there, with a report that lists exactly what was committed. Outside an apply, Ctrl-C interrupts at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading

_pending = False


def pending() -> bool:
    """Whether a Ctrl-C arrived during an apply and was held; the command should stop before its next change."""
    return _pending


def clear() -> None:
    global _pending
    _pending = False


@contextlib.contextmanager
def deferred():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # started with Ctrl-C ignored (a background job, nohup): holding it would make it count again
        return
    held = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            global _pending
            _pending = True
