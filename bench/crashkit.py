"""The crash-point engine: run a workload interrupted at every checkpoint, recover, and judge the KB's state.

A workload is a before-state (built once into a template folder) and an action (one or more transactions). The
clean run records the state after each transaction it commits; an interrupted run survives when, after recovery,
the KB equals one of those states exactly (before, after the first transaction, ..., after the last), scratch
folders are empty and doctor finds nothing. Each interrupted run is a forked child that really dies (SIGKILL) or
really raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from typing import Callable

from wikismith.ops import doctor
from wikismith.store import chat, faults, snapshot, txn
from wikismith.store.store import Store

MODES = ("error-once", "error-forever", "crash", "torn", "crash-during-recovery")
# Modes only some workloads have: "worker-killed" SIGKILLs the worker process preparing the K-th document of a
# parallel add (K = 1 .. Workload.documents); the command must retry it and end exactly as its clean run does.
EXTRA_MODES = ("worker-killed",)
Step = Callable[[str], None]


@dataclass
class Workload:
    name: str
    build: Callable[[str], None]  # makes the before-state KB in an empty folder
    action: Step  # what the workload does to the KB at `root`; the clean run records the state after each commit
    copy_names: tuple[str, ...] = ("log.md",)  # files changed in place (appends): copied, not linked, per run
    wiki: bool = True  # also run doctor's wiki checks (links, index); off for synthetic store-only workloads
    warm: bool = False  # run the action once in the bench process first, so forked runs inherit its caches
    teardown: Callable[[], None] | None = None  # stops what the workload started (a fake model server)
    extra_modes: tuple[str, ...] = ()  # of EXTRA_MODES
    documents: int = 0  # documents a parallel add prepares (the states of "worker-killed")


@dataclass
class Outcome:
    workload: str
    mode: str
    states: int = 0
    survived: int = 0
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"workload": self.workload, "mode": self.mode, "states": self.states, "survived": self.survived,
                "failures": self.failures[:20], "failures_total": len(self.failures)}


# -- processes ------------------------------------------------------------------------------------------------------

def run_child(fn: Callable[[], None], spec: str | None) -> tuple[int, list[tuple[str, bool]]]:
    """Run fn in a forked child under fault spec; returns (exit status, checkpoint trace when spec has count)."""
    status, payload = _fork(fn, spec, None)
    return status, payload["trace"]


def run_clean(fn: Callable[[], None], root: str) -> tuple[int, list[tuple[str, bool]], list[dict]]:
    """Run fn uninterrupted in a child, counting checkpoints and recording the KB's state after every transaction."""
    status, payload = _fork(fn, "count", root)
    return status, payload["trace"], payload["states"]


# A workload whose change is made by a server process it starts (bench/serverproc.py) reads the fault spec of its
# run here, hands it to that process, and reports back what the process passed and recorded (report_remote).
current_spec: str | None = None
# Set in the power-cut mode's recorded run (bench/powercut.py): the folder for the database snapshots of such a
# process, which then records its file-system operations too; they come back through report_remote.
record_snapshots: str | None = None
_remote: dict = {}


def report_remote(payload: dict) -> None:
    """The checkpoints a server process passed (their trace, when counting) and the states it recorded; when it
    recorded its file-system operations, those and their marks."""
    _remote.update(passed=payload["passed"], trace=[tuple(t) for t in payload["trace"]],
                   states=list(payload["states"]), ops=payload.get("ops"), marks=payload.get("marks", []))


def _fork(fn: Callable[[], None], spec: str | None, states_of: str | None) -> tuple[int, dict]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        states: list[dict] = []
        if not os.environ.get("WIKISMITH_BENCH_VERBOSE"):
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
        try:
            os.close(read_fd)
            global current_spec
            current_spec = spec
            faults.configure(spec)
            if states_of is not None:
                _record_states(states_of, states)
            fn()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        try:
            plan = faults.active
            trace = plan.trace if plan and plan.trace is not None else []
            passed = plan.passed if plan else 0
            if _remote:  # the change was made by a server process: its checkpoints and states count
                trace, passed, states = _remote["trace"], _remote["passed"], states + _remote["states"]
            payload = json.dumps({"trace": trace, "states": states, "passed": passed}).encode()
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view):]
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 1 << 16):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    payload = json.loads(b"".join(chunks) or b'{"trace": [], "states": [], "passed": 0}')
    payload["trace"] = [tuple(item) for item in payload["trace"]]
    return status, payload


def _record_states(root: str, states: list[dict]) -> None:
    """Snapshot the KB after every transaction the workload commits, and after every chat commit (conversation
    state, committed on its own), in the child running it."""
    def recording(real):
        def run(*args, **kwargs):
            result = real(*args, **kwargs)
            states.append(snapshot.state(root))
            return result
        return run

    txn.apply = recording(txn.apply)
    chat.new_session = recording(chat.new_session)
    chat.append = recording(chat.append)


def _interrupted(mode: str, k: int, status: int, passed: int) -> bool:
    """Did the fault really happen? A crash or torn write is a SIGKILL; an error means checkpoint k was passed."""
    if mode in ("crash", "torn", "crash-during-recovery"):
        return os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
    return passed >= k


def recover(root: str) -> None:
    store = Store(root)
    try:
        store.recover(force=True)
    finally:
        store.close()


# -- cloning and judging --------------------------------------------------------------------------------------------

def clone(template: str, dest: str, copy_names: tuple[str, ...]) -> None:
    """Copy the template: .wikismith/ whole; raw/ and wiki/ as hard links except files changed in place."""
    def link_or_copy(src, dst):
        if os.path.basename(src) in copy_names:
            return shutil.copy2(src, dst)
        os.link(src, dst)
        return dst

    shutil.copytree(os.path.join(template, ".wikismith"), os.path.join(dest, ".wikismith"))
    for top in ("raw", "wiki"):
        shutil.copytree(os.path.join(template, top), os.path.join(dest, top), copy_function=link_or_copy)


def judge(root: str, accepted: list[dict], wiki: bool = True, known: frozenset[str] = frozenset(),
          wiki_seen: dict[int, set[str]] | None = None) -> str | None:
    """None when the KB is in an accepted state with nothing left over; else what is wrong. `known`: what doctor
    says of the clean before and after states themselves (a workload that repairs a damaged KB starts damaged).
    `wiki_seen`: the wiki checks' findings per accepted state, filled as states are met (see _problems)."""
    state = snapshot.state(root)
    try:
        index = accepted.index(state)
    except ValueError:
        return _diff(state, accepted)
    left = snapshot.scratch_leftovers(root)
    if left:
        return f"scratch left over: {left[:3]}"
    problems = _problems(root, wiki, wiki_seen, index) - known
    if problems:
        return "doctor: " + "; ".join(sorted(problems)[:3])
    return None


def problems_of(root: str, wiki: bool) -> set[str]:
    return {f.problem for f in doctor.examine(root, wiki=wiki).findings}


def _problems(root: str, wiki: bool, seen: dict[int, set[str]] | None, index: int) -> set[str]:
    """Doctor's findings. Its wiki checks read nothing but the registry and the files under raw/ and wiki/, which
    the state just matched holds byte for byte: a state met before reuses them. The store's own checks (journal,
    scratch, integrity) look past the state and always run."""
    if not wiki or seen is None:
        return problems_of(root, wiki)
    if index not in seen:
        findings = doctor.examine(root, wiki=True).findings
        if not any(f.check == "database" for f in findings):  # else the wiki checks may not have run at all
            seen[index] = {f.problem for f in findings if f.check == "wiki"}
        return {f.problem for f in findings}
    return problems_of(root, wiki=False) | seen[index]


def _diff(state: dict, accepted: list[dict]) -> str:
    nearest = min(accepted, key=lambda s: _distance(state, s))
    files, want = state["files"], nearest["files"]
    changed = sorted(p for p in set(files) | set(want) if files.get(p) != want.get(p))
    registry = [k for k in state["registry"] if state["registry"][k] != nearest["registry"][k]]
    return f"state matches no accepted state; nearest differs in files {changed[:4]} registry {registry}"


def _distance(a: dict, b: dict) -> int:
    fa, fb = a["files"], b["files"]
    return sum(fa.get(p) != fb.get(p) for p in set(fa) | set(fb)) + sum(
        a["registry"][k] != b["registry"][k] for k in a["registry"]
    )


@contextlib.contextmanager
def _quiet():
    """Keep what a workload's commands print out of the bench's own output (its JSON report)."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


# -- the matrix -----------------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, workload: Workload, workdir: str):
        self.w = workload
        self.workdir = workdir
        self.template = os.path.join(workdir, "template")
        os.makedirs(self.template)
        with _quiet():
            workload.build(self.template)
        recover(self.template)
        self.accepted = [snapshot.state(self.template)]
        self.known = problems_of(self.template, workload.wiki)
        self.wiki_seen: dict[int, set[str]] = {}
        self._counter = 0
        if workload.warm:
            self._warm()
        self.trace = self._clean_run()

    def _fresh(self) -> str:
        self._counter += 1
        root = os.path.join(self.workdir, f"run{self._counter}")
        clone(self.template, root, self.w.copy_names)
        return root

    def _warm(self) -> None:
        root = self._fresh()
        with _quiet():
            try:
                self._action(root)()
            except SystemExit:
                pass
        shutil.rmtree(root)

    def _clean_run(self) -> list[tuple[str, bool]]:
        root = self._fresh()
        status, trace, states = run_clean(self._action(root), root)
        if status != 0:
            raise RuntimeError(f"{self.w.name}: the clean run failed (status {status})")
        if not states or states[-1] != snapshot.state(root):
            raise RuntimeError(f"{self.w.name}: the clean run's last transaction does not match its final state")
        self.accepted.extend(states)
        self.known = frozenset(self.known | problems_of(root, self.w.wiki))
        again = self._fresh()
        status, _, states_again = run_clean(self._action(again), again)
        if status != 0 or [s for s in states_again] != states:
            raise RuntimeError(f"{self.w.name}: two clean runs disagree; the workload is not deterministic")
        shutil.rmtree(root)
        shutil.rmtree(again)
        return trace

    def _action(self, root: str) -> Callable[[], None]:
        return lambda: self.w.action(root)

    def checkpoints(self, mode: str) -> list[int]:
        if mode == "worker-killed":
            return list(range(1, self.w.documents + 1))
        ks = range(1, len(self.trace) + 1)
        if mode == "torn":
            return [k for k in ks if self.trace[k - 1][1]]
        return list(ks)

    def run_state(self, mode: str, k: int) -> list[tuple[str, str | None]]:
        """Run one interrupted state (several for crash-during-recovery); returns (label, problem) pairs."""
        if mode == "worker-killed":
            return self._worker_killed(k)
        spec = {"error-once": f"error@{k}", "error-forever": f"error@{k}+", "crash": f"crash@{k}",
                "torn": f"torn@{k}", "crash-during-recovery": f"crash@{k}"}[mode]
        results = []
        root = self._fresh()
        try:
            status, payload = _fork(self._action(root), spec, None)
            if not _interrupted(mode, k, status, payload.get("passed", 0)):
                # A run that never reached its fault tests nothing: report it instead of counting it survived.
                return [(spec, f"the run ended (status {status}) before checkpoint {k}; nothing was tested")]
            if mode != "crash-during-recovery":
                recover(root)
                results.append((f"{spec} at {self.trace[k - 1][0]}", judge(root, self.accepted, self.w.wiki,
                                                                          self.known, self.wiki_seen)))
                return results
            crashed = root + ".crashed"
            os.rename(root, crashed)
            clone(crashed, root, self.w.copy_names)
            _, rec_trace = run_child(lambda: recover(root), "count")
            shutil.rmtree(root)
            for j in range(1, len(rec_trace) + 1):
                clone(crashed, root, self.w.copy_names)
                run_child(lambda: recover(root), f"crash@{j}")
                recover(root)
                results.append((f"{spec} then recovery crash@{j} at {rec_trace[j - 1][0]}",
                                judge(root, self.accepted, self.w.wiki, self.known, self.wiki_seen)))
                shutil.rmtree(root)
            shutil.rmtree(crashed)
            return results
        except Exception:
            return results + [(spec, "bench error: " + traceback.format_exc(limit=3))]
        finally:
            for path in (root, root + ".crashed"):
                if os.path.exists(path):
                    shutil.rmtree(path)


    def _worker_killed(self, k: int) -> list[tuple[str, str | None]]:
        """The worker preparing document k dies by SIGKILL; the command must end as its clean run does."""
        from wikismith.ops.add.prepare import KILL_ENV, KILL_MARK_ENV

        label = f"worker-killed at document {k}"
        root = self._fresh()
        mark = root + ".killed"
        action = self._action(root)

        def run() -> None:
            os.environ[KILL_ENV], os.environ[KILL_MARK_ENV] = str(k), mark
            action()

        try:
            status, _ = _fork(run, None, None)
            if not os.path.exists(mark):
                return [(label, "no worker was killed; nothing was tested")]
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                return [(label, f"the command did not end normally after the kill (status {status})")]
            if snapshot.state(root) != self.accepted[-1]:
                return [(label, "the KB differs from the clean run's: " + _diff(snapshot.state(root),
                                                                                 self.accepted[-1:]))]
            return [(label, judge(root, self.accepted, self.w.wiki, self.known, self.wiki_seen))]
        finally:
            shutil.rmtree(root, ignore_errors=True)
            if os.path.exists(mark):
                os.unlink(mark)


def ram_folder(room: int = 2 << 30) -> str | None:
    """/dev/shm when it has `room` bytes free, for the matrix's work folders. Every state clones, recovers and
    deletes a KB; on a disk's file system that metadata work is a fifth of the matrix's time, in RAM it is little.
    A killed process's writes survive in the page cache either way, so what a state shows does not change."""
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if stat.f_bavail * stat.f_frsize >= room and os.access("/dev/shm", os.W_OK) else None


SAMPLE_ABOVE = 300  # a workload with more states than this may be sampled (CI); the bench itself runs them all


def run_matrix(workload: Workload, modes=MODES, *, jobs: int = 2, tmp: str | None = None,
               sample: int | None = None, seed: int = 0) -> list[Outcome]:
    """Every mode of one workload. With `sample`, crash-during-recovery, whose states are (crash point, recovery
    crash point) pairs, runs crash points in a seeded order until `sample` states have been judged; and a workload
    of more than SAMPLE_ABOVE checkpoints runs a seeded sample of `sample` checkpoints of each other mode that has
    more."""
    workdir = tempfile.mkdtemp(prefix=f"crash-{workload.name}-", dir=tmp)
    try:
        bench = Bench(workload, workdir)
        modes = tuple(m for m in modes if m not in EXTRA_MODES or m in workload.extra_modes)
        outcomes = {mode: Outcome(workload.name, mode) for mode in modes}
        checkpoints = {mode: bench.checkpoints(mode) for mode in modes}
        # Crash-during-recovery has more states than crash points (one per recovery checkpoint too), so a
        # workload with it always has more than its checkpoints; the others are sampled past SAMPLE_ABOVE.
        sample_all = sample and sum(len(ks) for ks in checkpoints.values()) > SAMPLE_ABOVE
        for mode in modes:
            ks = checkpoints[mode]
            outcome = outcomes[mode]
            shuffle = random.Random(f"{seed}:{workload.name}:{mode}")
            if sample and mode == "crash-during-recovery":
                ks = shuffle.sample(ks, len(ks))
                for start in range(0, len(ks), max(1, jobs)):
                    if outcome.states >= sample:
                        break
                    _tally(outcome, _map(bench, [(mode, k) for k in ks[start:start + max(1, jobs)]], jobs))
                continue
            if sample_all and len(ks) > sample:
                ks = sorted(shuffle.sample(ks, sample))
            _tally(outcome, _map(bench, [(mode, k) for k in ks], jobs))
        return list(outcomes.values())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if workload.teardown is not None:
            workload.teardown()


def _tally(outcome: Outcome, results) -> None:
    for pairs in results:
        for label, problem in pairs:
            outcome.states += 1
            if problem is None:
                outcome.survived += 1
            else:
                outcome.failures.append({"state": label, "problem": problem})


def _map(bench: Bench, tasks, jobs: int):
    if jobs <= 1 or len(tasks) < 4:
        return [bench.run_state(mode, k) for mode, k in tasks]
    import multiprocessing

    global _BENCH
    _BENCH = bench
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_worker_init) as pool:
        return pool.map(_worker_run, tasks, chunksize=1)


_BENCH: Bench | None = None


def _worker_init() -> None:
    # Each worker clones into its own run folders: give it its own counter space.
    _BENCH._counter = os.getpid() * 100000


def _worker_run(task):
    return _BENCH.run_state(*task)


# -- the matrix in a process of its own -----------------------------------------------------------------------------

def run_matrix_apart(name: str, modes=MODES, **options) -> tuple[list[Outcome], tuple[str, ...]]:
    """run_matrix of the workload called `name` in a new interpreter: its outcomes and the workload's extra modes.
    Every state forks the process that runs the matrix, and a fork costs in proportion to that process's memory:
    a test worker that has run a few hundred tests holds 300-450 MB, which doubled the system time of each state
    against a fresh interpreter's. The environment (SOURCE_DATE_EPOCH, WIKISMITH_FSYNC) is the caller's."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_matrix_apart, args=(send, name, modes, options))
    process.start()
    send.close()
    try:
        rows, extra = receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"{name}: the process running its matrix died (exit code {process.exitcode})") from None
    process.join()
    return [Outcome(**row) for row in rows], tuple(extra)


def _matrix_apart(send, name: str, modes, options: dict) -> None:
    from bench.workloads import WORKLOADS

    try:
        workload = WORKLOADS[name]()
        outcomes = run_matrix(workload, modes, **options)
        send.send(([dataclasses.asdict(o) for o in outcomes], workload.extra_modes))
    except BaseException:
        send.send(([dataclasses.asdict(Outcome(name, "bench", 1, 0, [{"state": "setup",
                                                                     "problem": traceback.format_exc()}]))], ()))
    finally:
        send.close()

