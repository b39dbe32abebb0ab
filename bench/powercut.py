"""The power-cut mode of the crash bench: what a KB holds after the power fails at any file-system operation.

A clean run of the workload records every operation the facade performs (store/fstrace.py) and a copy of the
database after each SQLite commit (in the server process, for a workload whose change a server process makes). A
cut point is one of those operations: the power fails just before it. The state a cut can leave is built from the
before-state by replaying the operations issued before it, under this model of the disk (ext4 `data=ordered` or
stricter, taken at its weakest):

- Metadata operations (create, rename, link, unlink, mkdir, rmdir) reach the disk as a prefix, in program order:
  any prefix at least as long as the last one made durable by an fsync of its folder (of either folder of a rename
  or link). An fsync of a file does not make its name durable, and a SQLite commit makes no file operation durable.
- A file's data is durable as of its last fsync. A file written since may hold, after the cut, its durable content
  ("lost"), its new content ("whole"), or the new content cut half-way between the two ("torn"); one of the three
  for every such file of the state.
- SQLite is trusted for what it documents for WAL with `synchronous=FULL` (what the store sets): a commit that
  returned is durable, one that did not is absent, nothing in between. Its files are not modelled; the database of
  a state is the copy taken after the last commit before the cut.

Each state is recovered (as the next command would) and must equal the state after the last transaction that
returned before the cut, or the state after the transaction in flight; with no scratch left and doctor content.
A cut allows (metadata prefixes) x (data variants) states; `sample` of them are run, chosen with a seed, half at
their harshest (shortest prefix, data lost). `power-cut-during-recovery` also records the recovery of crashed
states and cuts it the same way: recovered again, each must reach the state the first recovery had to reach.
Not modelled: reordering of data within one write, a disk that lies about fsync (see platform.py for macOS),
SQLite's own files.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import tempfile
import traceback
from dataclasses import dataclass

from bench import crashkit
from bench.crashkit import Bench, Outcome, Workload, _quiet, _tally, clone, judge, recover
from wikismith.store import chat, fstrace, layout, txn

MODE = "power-cut"
RECOVERY_MODE = "power-cut-during-recovery"
PER_RECOVERY = 8  # recovery cut states judged per crashed state, at most
DIR = "dir"
VARIANTS = ("lost", "torn", "whole")


@dataclass
class Recording:
    ops: list[tuple]  # KB-relative paths
    marks: list[int]  # how many operations had been issued when each clean state was recorded
    db_copies: str  # folder holding <n>/kb.sqlite3[-wal] after SQLite commit n


def record(bench: Bench, workdir: str) -> Recording:
    """Run the workload once more in a forked child, recording every file-system operation."""
    root = bench._fresh()
    recording = _record(lambda: bench.w.action(root), root, workdir, marked=True)
    shutil.rmtree(root)
    return recording


def _record(fn, root: str, workdir: str, *, marked: bool = False) -> Recording:
    """Run fn in a forked child with the facade recording; the database is copied after every commit."""
    out = tempfile.mkdtemp(prefix="recording-", dir=workdir)
    copies = os.path.join(out, "db-copies")
    pid = os.fork()
    if pid == 0:
        code = 0
        marks: list[int] = []
        try:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            if marked:
                marks = _mark_states()
            crashkit.record_snapshots = copies
            fstrace.start(copies)
            fn()
        except BaseException:
            code = 1
        finally:
            ops = fstrace.stop()
            if crashkit._remote.get("ops") is not None:  # the change was made by a server process (serverwork.py)
                ops, marks = crashkit._remote["ops"], crashkit._remote["marks"]
            with open(os.path.join(out, "ops.pickle"), "wb") as fh:
                pickle.dump((ops, marks), fh)
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"the recorded run failed (status {status})")
    with open(os.path.join(out, "ops.pickle"), "rb") as fh:
        ops, marks = pickle.load(fh)
    return Recording(_relative(ops, root), marks, copies)


def _mark_states() -> list[int]:
    """Note how many operations were issued when each state the clean run records is reached (crashkit's points)."""
    marks: list[int] = []

    def marking(real):
        def run(*args, **kwargs):
            result = real(*args, **kwargs)
            marks.append(len(fstrace.ops))
            return result
        return run

    txn.apply = marking(txn.apply)
    chat.new_session = marking(chat.new_session)
    chat.append = marking(chat.append)
    return marks


def _relative(ops: list[tuple], root: str) -> list[tuple]:
    """KB-relative paths; operations outside the KB (none are expected) are dropped."""
    root = os.path.abspath(root)
    out = []
    for op in ops:
        if op[0] == "sqlite-commit":
            out.append(op)
            continue
        paths = [os.path.relpath(os.path.abspath(p), root) for p in op[1:] if isinstance(p, str)]
        if any(p == ".." or p.startswith("../") for p in paths):
            continue
        out.append((op[0], *paths, *[x for x in op[1:] if not isinstance(x, str)]))
    return out


# -- the model ------------------------------------------------------------------------------------------------------

class Disk:
    """Replays the operations before a cut into two namespaces: everything issued, and the durable prefix."""

    def __init__(self, template: str, ops: list[tuple]):
        self.template = template
        self.ops = ops
        self._template_inodes: dict[str, int] = {}
        self._template_bytes: dict[int, bytes] = {}

    def bounds(self) -> list[tuple[int, int, bool]]:
        """Per cut (operations issued, 0 to all): (shortest prefix allowed, metadata operations issued, whether
        some file's data is not durable)."""
        seen = shortest = 0
        last_touch: dict[str, int] = {}
        written: set[str] = set()
        out = [(0, 0, False)]
        for op in self.ops:
            kind = op[0]
            if kind in fstrace.METADATA:
                seen += 1
                for path in op[1:3] if kind in ("rename", "link") else op[1:2]:
                    last_touch[os.path.dirname(path)] = seen
            elif kind == "fsync-dir":
                shortest = max(shortest, last_touch.get(op[1], 0))
            elif kind in ("write", "truncate"):
                written.add(op[1])
            elif kind == "fsync":
                written.discard(op[1])
            out.append((shortest, seen, bool(written)))
        return out

    def state(self, cut: int, prefix: int, variant: str) -> tuple[dict[str, object], int | None]:
        """The durable namespace after the cut ({path: bytes | DIR | None}) and the last SQLite commit before it."""
        issued: dict[str, object] = {}
        durable: dict[str, object] = {}
        inodes: dict[object, list[bytes]] = {}  # inode -> [content issued, content durable]
        seen = 0
        commit = None
        written: set[str] = set()
        for index, op in enumerate(self.ops[:cut]):
            kind = op[0]
            if kind in fstrace.METADATA:
                self._meta(issued, op, index, inodes)
                if seen < prefix:
                    self._meta(durable, op, index, inodes)
                seen += 1
            elif kind == "sqlite-commit":
                commit = op[1]
            elif kind in ("write", "truncate", "fsync"):
                node = self._lookup(issued, op[1], inodes)
                if not isinstance(node, int):
                    raise RuntimeError(f"power-cut model: {kind} of {op[1]}, which is not a file")
                content = inodes[node]
                written.add(op[1])
                if kind == "write":
                    content[0] = content[0] + op[2]
                elif kind == "truncate":
                    content[0] = content[0][: op[2]]
                else:
                    content[1] = content[0]
        for path in written:  # files of the before-state changed in place (appends) keep their name
            durable.setdefault(path, self._lookup(durable, path, inodes))
        files = {}
        for path, node in durable.items():
            if isinstance(node, int):
                node = self._content(inodes[node], variant)
            files[path] = node
        return files, commit

    @staticmethod
    def _content(content: list[bytes], variant: str) -> bytes:
        now, synced = content
        if now == synced or variant == "whole":
            return now
        if variant == "lost":
            return synced
        common = len(os.path.commonprefix([now, synced]))
        return now[: common + (len(now) - common) // 2]

    def _lookup(self, ns: dict, path: str, inodes: dict):
        if path in ns:
            return ns[path]
        full = os.path.join(self.template, path)
        if os.path.isdir(full) and not os.path.islink(full):
            return DIR
        if not os.path.lexists(full):
            return None
        ino = self._template_inodes.setdefault(path, -1 - len(self._template_inodes))
        if ino not in inodes:
            if ino not in self._template_bytes:
                with open(full, "rb") as fh:
                    self._template_bytes[ino] = fh.read()
            data = self._template_bytes[ino]
            inodes[ino] = [data, data]
        return ino

    def _meta(self, ns: dict, op: tuple, index: int, inodes: dict) -> None:
        kind, path = op[0], op[1]
        if kind == "create":
            ns[path] = index
            inodes.setdefault(index, [b"", b""])
        elif kind in ("unlink", "rmdir"):
            ns[path] = None
        elif kind == "mkdir":
            ns[path] = DIR
        elif kind == "link":
            ns[op[2]] = self._lookup(ns, path, inodes)
        elif kind == "rename":
            node = self._lookup(ns, path, inodes)
            if node == DIR:
                self._move_tree(ns, path, op[2], inodes)
            ns[op[2]] = node
            ns[path] = None

    def _move_tree(self, ns: dict, src: str, dst: str, inodes: dict) -> None:
        full = os.path.join(self.template, src)
        if os.path.isdir(full):
            for folder, dirs, files in os.walk(full):
                for name in dirs + files:
                    rel = os.path.relpath(os.path.join(folder, name), self.template)
                    ns.setdefault(rel, self._lookup(ns, rel, inodes))
        for path in [p for p in ns if p.startswith(src + "/")]:
            ns[dst + path[len(src):]] = ns[path]
            ns[path] = None


def materialize(root: str, files: dict[str, object], commit: int | None, db_copies: str) -> None:
    """Make the cloned before-state at `root` hold the durable namespace `files` and the database of `commit`."""
    for path in sorted((p for p, node in files.items() if node is None), key=lambda p: -p.count("/")):
        _remove(os.path.join(root, path))
    for path in sorted(p for p, node in files.items() if node == DIR):
        full = os.path.join(root, path)
        if os.path.lexists(full) and not os.path.isdir(full):
            os.unlink(full)
        os.makedirs(full, exist_ok=True)
    for path, node in sorted(files.items()):
        if isinstance(node, bytes):
            full = os.path.join(root, path)
            _remove(full)  # never write through a hard link into the template
            with open(full, "wb") as fh:
                fh.write(node)
    if commit is not None:
        db = os.path.join(root, layout.DB)
        for suffix in ("", "-wal", "-shm"):
            _remove(db + suffix)
        source = os.path.join(db_copies, str(commit))
        for name in os.listdir(source):
            shutil.copyfile(os.path.join(source, name), os.path.join(os.path.dirname(db), name))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


# -- the mode -------------------------------------------------------------------------------------------------------

class PowerCut:
    def __init__(self, workload: Workload, workdir: str):
        self.workdir = workdir
        self.bench = Bench(workload, workdir)
        self.rec = record(self.bench, workdir)
        self.disk = Disk(self.bench.template, self.rec.ops)
        if len(self.rec.marks) != len(self.bench.accepted) - 1:
            raise RuntimeError(f"{workload.name}: the recorded run reached {len(self.rec.marks)} states, the clean "
                               f"run {len(self.bench.accepted) - 1}")

    def choices(self) -> list[tuple[int, int, int, bool]]:
        """Per cut point (the number of operations issued before the power fails, 0 to all): (cut, shortest prefix,
        longest prefix, data at risk)."""
        return [(cut, *bounds) for cut, bounds in enumerate(self.disk.bounds())]

    def allowed(self, choices) -> int:
        return sum((longest - shortest + 1) * (len(VARIANTS) if risky else 1)
                   for _, shortest, longest, risky in choices)

    def pick(self, choices, sample: int | None, seed: str) -> list[tuple[int, int, str]]:
        """Every allowed state when there are at most `sample` (or no sample), else a seeded sample of them."""
        if not sample or self.allowed(choices) <= sample:
            return [(cut, p, v) for cut, shortest, longest, risky in choices for p in range(shortest, longest + 1)
                    for v in (VARIANTS if risky else ("whole",))]
        rng = random.Random(seed)
        picked: set[tuple[int, int, str]] = set()
        tries = 0
        while len(picked) < sample:
            cut, shortest, longest, risky = rng.choice(choices)
            tries += 1
            if tries % 2:  # the harshest state of the cut: shortest prefix, unsynced data lost
                picked.add((cut, shortest, "lost" if risky else "whole"))
            else:
                picked.add((cut, rng.randint(shortest, longest), rng.choice(VARIANTS) if risky else "whole"))
        return sorted(picked)

    def accepted_at(self, cut: int) -> list[dict]:
        returned = sum(1 for mark in self.rec.marks if mark <= cut)
        return self.bench.accepted[returned:returned + 2]

    def run_state(self, cut: int, prefix: int, variant: str) -> tuple[str, str | None]:
        last = f"after op {cut} ({' '.join(map(str, self.rec.ops[cut - 1][:2]))})" if cut else "before any op"
        label = f"power lost {last}, metadata prefix {prefix}, data {variant}"
        root = self.bench._fresh()
        try:
            files, commit = self.disk.state(cut, prefix, variant)
            materialize(root, files, commit, self.rec.db_copies)
            with _quiet():
                recover(root)
            return label, judge(root, self.accepted_at(cut), self.bench.w.wiki, self.bench.known)
        except Exception:
            return label, "bench error: " + traceback.format_exc(limit=4)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _recovery_cuts(mode: PowerCut, cut: int, prefix: int, variant: str, seed: str):
    """(results, states allowed) of power cuts during the recovery of one crashed state; nothing when that
    recovery changes no file (the state was already a committed one)."""
    base = tempfile.mkdtemp(prefix="recovery-", dir=mode.workdir)
    names = mode.bench.w.copy_names
    try:
        crashed = os.path.join(base, "crashed")
        clone(mode.bench.template, crashed, names)
        files, commit = mode.disk.state(cut, prefix, variant)
        materialize(crashed, files, commit, mode.rec.db_copies)
        first = os.path.join(base, "first")
        clone(crashed, first, names)
        with _quiet():
            rec = _record(lambda: recover(first), first, base)
        if not any(op[0] in fstrace.METADATA or op[0] == "write" for op in rec.ops):
            return [], 0
        disk = Disk(crashed, rec.ops)
        choices = [(rc, *bounds) for rc, bounds in enumerate(disk.bounds())]
        results = []
        for n, (rc, rp, rv) in enumerate(mode.pick(choices, PER_RECOVERY, seed)):
            root = os.path.join(base, f"again{n}")
            label = (f"power lost after op {cut}, prefix {prefix}, data {variant}; then during recovery after its "
                     f"op {rc}, prefix {rp}, data {rv}")
            try:
                clone(crashed, root, names)
                again, again_commit = disk.state(rc, rp, rv)
                materialize(root, again, again_commit, rec.db_copies)
                with _quiet():
                    recover(root)
                results.append((label, judge(root, mode.accepted_at(cut), mode.bench.w.wiki, mode.bench.known)))
            except Exception:
                results.append((label, "bench error: " + traceback.format_exc(limit=4)))
        return results, mode.allowed(choices)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run(workload: Workload, *, jobs: int = 2, tmp: str | None = None, sample: int | None = None,
        seed: int = 0) -> tuple[Outcome, dict]:
    """The power-cut mode of one workload: its outcome and the counts (cut points, states allowed, states run)."""
    workdir = tempfile.mkdtemp(prefix=f"powercut-{workload.name}-", dir=tmp)
    try:
        mode = PowerCut(workload, workdir)
        choices = mode.choices()
        picked = mode.pick(choices, sample, f"{seed}:{workload.name}:{MODE}")
        outcome = Outcome(workload.name, MODE)
        _tally(outcome, [_map(mode, picked, jobs)])
        counts = {"operations": len(mode.rec.ops), "cut_points": len(choices), "states_allowed":
                  mode.allowed(choices), "states_run": len(picked)}
        return outcome, counts
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if workload.teardown is not None:
            workload.teardown()


def run_during_recovery(workload: Workload, *, tmp: str | None = None, sample: int = 200,
                        seed: int = 0) -> tuple[Outcome, dict]:
    """Power cuts during recovery: for crashed states in a seeded order (those whose recovery does something), the
    recovery is recorded, cut under the same model at up to PER_RECOVERY of its states, and recovered again; each
    must reach the state the first recovery had to reach. Stops after `sample` states."""
    workdir = tempfile.mkdtemp(prefix=f"powercut-rec-{workload.name}-", dir=tmp)
    try:
        mode = PowerCut(workload, workdir)
        crashed_states = mode.pick(mode.choices(), None, "")
        random.Random(f"{seed}:{workload.name}:{RECOVERY_MODE}").shuffle(crashed_states)
        outcome = Outcome(workload.name, RECOVERY_MODE)
        counts = {"crashed_states": 0, "recovery_states_allowed": 0, "states_run": 0}
        for crashed in crashed_states:
            if outcome.states >= sample:
                break
            results, allowed = _recovery_cuts(mode, *crashed, f"{seed}:{crashed}")
            counts["crashed_states"] += bool(results)
            counts["recovery_states_allowed"] += allowed
            _tally(outcome, [results])
        counts["states_run"] = outcome.states
        return outcome, counts
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if workload.teardown is not None:
            workload.teardown()


_MODE: PowerCut | None = None


def _map(mode: PowerCut, picked, jobs: int):
    if jobs <= 1 or len(picked) < 4:
        return [mode.run_state(*state) for state in picked]
    import multiprocessing

    global _MODE
    _MODE = mode
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init) as pool:
        return pool.starmap(_worker_run, picked, chunksize=4)


def _worker_init() -> None:
    _MODE.bench._counter = os.getpid() * 100000


def _worker_run(cut: int, prefix: int, variant: str):
    return _MODE.run_state(cut, prefix, variant)
