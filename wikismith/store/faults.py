"""Fault injection at the store's checkpoints, driven by WIKISMITH_FAULTS.

Every call of the file-system facade and every SQLite commit is one checkpoint, numbered from 1 in the order a
process passes them. A spec is a comma-separated list of:

    crash@K        the process dies (SIGKILL) at checkpoint K, before doing it
    error@K        checkpoint K raises OSError (EIO); `error@K:ENOSPC` picks the errno
    error@K+       every checkpoint from K on raises
    torn@K         half of the write at checkpoint K reaches the disk, then the process dies
    count          at exit, report on stderr how many checkpoints were passed

Unset, `active` stays None and each checkpoint costs one attribute test.
"""

from __future__ import annotations

import atexit
import errno
import os
import re
import signal
import sys
from dataclasses import dataclass, field

ENV = "WIKISMITH_FAULTS"
REPORT_ENV = "WIKISMITH_FAULTS_REPORT"

_RULE = re.compile(r"^(crash|error|torn)@(\d+)(\+?)(?::([A-Z0-9]+))?$")


@dataclass
class Rule:
    mode: str
    at: int
    onwards: bool = False
    errno_code: int = errno.EIO

    def matches(self, k: int) -> bool:
        return k == self.at or (self.onwards and k > self.at)


@dataclass
class FaultPlan:
    rules: list[Rule] = field(default_factory=list)
    count: bool = False
    passed: int = 0
    trace: list[tuple[str, bool]] | None = None  # (what, tearable) per checkpoint, kept when counting

    def hit(self, what: str, tearable: bool = False) -> str | None:
        """Pass one checkpoint; return "torn" when the caller must tear its write, else act or return None."""
        self.passed += 1
        k = self.passed
        if self.trace is not None:
            self.trace.append((what, tearable))
        for rule in self.rules:
            if not rule.matches(k):
                continue
            if rule.mode == "crash":
                die()
            if rule.mode == "torn":
                return "torn"
            raise OSError(rule.errno_code, f"{os.strerror(rule.errno_code)} (injected at checkpoint {k}: {what})")
        return None


def parse(spec: str) -> FaultPlan:
    plan = FaultPlan()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part == "count":
            plan.count = True
            plan.trace = []
            continue
        m = _RULE.match(part)
        if not m:
            raise ValueError(f"{ENV}: cannot read {part!r} (expected crash@K, error@K[+][:ERRNO], torn@K or count)")
        mode, at, onwards, name = m.group(1), int(m.group(2)), bool(m.group(3)), m.group(4)
        code = errno.EIO
        if name:
            if not hasattr(errno, name):
                raise ValueError(f"{ENV}: unknown errno {name!r}")
            code = getattr(errno, name)
        if onwards and mode != "error":
            raise ValueError(f"{ENV}: only error@K accepts '+' ({part!r})")
        plan.rules.append(Rule(mode, at, onwards, code))
    return plan


active: FaultPlan | None = None


def die() -> None:
    """End the process at once, as kill -9 would: no clean-up, no flushing of Python buffers."""
    os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)  # pragma: no cover - SIGKILL does not return


def configure(spec: str | None) -> None:
    """Install a fault plan for this process (None or "" removes it). Used at start-up and by forked bench children."""
    global active
    active = parse(spec) if spec else None
    if active is not None and active.count:
        atexit.register(_report)


def _report() -> None:
    if active is None:
        return
    line = f"wikismith-faults: {active.passed} checkpoints\n"
    target = os.environ.get(REPORT_ENV)
    if target:
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(f"{active.passed}\n")
    sys.stderr.write(line)


def passed() -> int:
    return active.passed if active is not None else 0


configure(os.environ.get(ENV))
