"""A wikismith server process for the crash bench: `python -m bench.serverproc ARGS` runs `wikismith ARGS` (e.g.
`--kb ROOT mcp --allow-writes`), the real command in a process of its own, with WIKISMITH_FAULTS in its
environment as any run of wikismith reads it. The bench forks it from a process that has imported the server
already (bench/serverwork.py) and calls `main(argv)` there, reading the same environment variables.

Two things are added for the bench, both outside the command: with WIKISMITH_BENCH_STATES=ROOT, the KB's state is
recorded after every transaction the process commits (as the bench records it for in-process workloads); and with
WIKISMITH_BENCH_REPORT=FILE, when the process ends normally, FILE receives the checkpoints it passed (and their
trace, when counting) and those states, as JSON. A process killed at a checkpoint writes nothing. When the process
records its file-system operations (store/fstrace.py's WIKISMITH_FS_RECORD, for the power-cut mode), the report
also gives how many had been issued after each transaction (the marks of bench/powercut.py).
"""

from __future__ import annotations

import atexit
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wikismith.store import faults, fstrace, snapshot, txn  # noqa: E402

STATES_ENV = "WIKISMITH_BENCH_STATES"
REPORT_ENV = "WIKISMITH_BENCH_REPORT"


def main(argv: list[str] | None = None) -> None:
    states: list[dict] = []
    marks: list[int] = []
    root = os.environ.get(STATES_ENV)
    real = txn.apply

    def recording(*args, **kwargs):
        result = real(*args, **kwargs)
        if fstrace.ops is not None:
            marks.append(len(fstrace.ops))
        if root:
            states.append(snapshot.state(root))
        return result

    txn.apply = recording
    target = os.environ.get(REPORT_ENV)
    if target:
        atexit.register(_report, target, states, marks)
    from wikismith.cli import main as cli_main

    cli_main(sys.argv[1:] if argv is None else argv)


def _report(target: str, states: list[dict], marks: list[int]) -> None:
    plan = faults.active
    payload = {"passed": plan.passed if plan else 0, "trace": plan.trace if plan and plan.trace else [],
               "states": states, "marks": marks}
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)


if __name__ == "__main__":
    main()
