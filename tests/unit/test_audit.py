"""No code path writes into a KB except through the facade (wikismith/store/fs.py).

An audit hook (sys.addaudithook) watches every file-system change Python can report: opening a file for writing,
rename/replace, remove, link, symlink, mkdir, rmdir, truncate, chmod/chown/utime, shutil's copies, moves and
rmtree, and sqlite3.connect. For each one aimed inside a KB under test, the Python stack must hold a frame of
wikismith/store/fs.py; anything else is a violation. The one exception is the OS lock file, which filelock opens.
Audit hooks cannot be removed, so the hook does nothing unless a test has armed it.
(filelock also runs mkdir(exist_ok=True) on .wikismith/ at every acquire; that is allowed too.)
"""

import os
import sys
from collections import Counter

import pytest

from storekit import change, checkpoint, crash, crashed_kb, fault_plan, journal, trace
from wikismith.ops import doctor
from wikismith.cli import cli
from wikismith.cli.common import run
from wikismith.kb import KnowledgeBase
from wikismith.store import layout, snapshot
from wikismith.store.mutation import PageRow

FACADE = os.sep + os.path.join("wikismith", "store", "fs.py")
FILELOCK = os.sep + "filelock" + os.sep
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# event -> [(index of a path the event changes, index of its dir_fd or None)]
EVENTS = {
    "os.rename": [(0, 2), (1, 3)],  # os.replace raises this event too
    "os.link": [(1, 3)],
    "os.symlink": [(1, 2)],
    "os.remove": [(0, 1)],  # os.unlink too
    "os.mkdir": [(0, 2)],
    "os.rmdir": [(0, 1)],
    "os.truncate": [(0, None)],
    "os.chmod": [(0, 2)],
    "os.chown": [(0, 3)],
    "os.utime": [(0, 3)],
    "shutil.rmtree": [(0, 1)],
    "shutil.copyfile": [(1, None)],
    "shutil.copymode": [(1, None)],
    "shutil.copystat": [(1, None)],
    "shutil.copytree": [(1, None)],
    "shutil.move": [(0, None), (1, None)],
    "sqlite3.connect": [(0, None)],
}


class Watch:
    def __init__(self, roots):
        self.roots = [os.path.realpath(r) for r in roots]
        self.violations: list[str] = []
        self.allowed: Counter = Counter()


ARMED: Watch | None = None
_BUSY = False


def _resolve(path, dir_fd):
    if isinstance(path, int):
        return os.readlink(f"/proc/self/fd/{path}")
    path = os.fsdecode(path)
    if dir_fd is not None and not os.path.isabs(path):
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
    return os.path.realpath(path)


def _changed_paths(event: str, args: tuple):
    if event == "open":
        path, mode, flags = args
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS:
            yield _resolve(path, None)
        return
    for index, fd_index in EVENTS.get(event, ()):
        if index < len(args) and args[index] is not None:
            yield _resolve(args[index], args[fd_index] if fd_index is not None and fd_index < len(args) else None)


def _hook(event: str, args: tuple) -> None:
    global _BUSY
    watch = ARMED
    if watch is None or _BUSY or (event != "open" and event not in EVENTS):
        return
    _BUSY = True
    try:
        for path in _changed_paths(event, args):
            root = next((r for r in watch.roots if path == r or path.startswith(r + os.sep)), None)
            if root is None:
                continue
            files = []
            frame = sys._getframe(1)
            while frame is not None:
                files.append(frame.f_code.co_filename)
                frame = frame.f_back
            if any(f.endswith(FACADE) for f in files):
                watch.allowed[event] += 1
            elif path in (os.path.join(root, layout.LOCK), os.path.join(root, layout.STATE)) and any(
                    FILELOCK in f for f in files):  # filelock opens the lock file, after mkdir(exist_ok) of its folder
                watch.allowed["lock file"] += 1
            else:
                caller = next((f for f in files if "wikismith" in f or "test_" in f), files[0])
                watch.violations.append(f"{event} {os.path.relpath(path, root)} from {caller}")
    except Exception as exc:  # an audit hook must never break the operation it watches
        watch.violations.append(f"hook error on {event}: {exc!r}")
    finally:
        _BUSY = False


_installed = False


@pytest.fixture
def watch(tmp_path):
    global ARMED, _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    ARMED = Watch([tmp_path / "kb", tmp_path / "kb2", tmp_path / "dirty"])
    try:
        yield ARMED
    finally:
        ARMED = None


def disarmed(fn, *args):
    """Run test set-up that writes into a KB on purpose, unwatched."""
    global ARMED
    saved, ARMED = ARMED, None
    try:
        return fn(*args)
    finally:
        ARMED = saved


def test_the_hook_catches_a_write_that_bypasses_the_facade(tmp_path, watch):
    (tmp_path / "kb" / "wiki").mkdir(parents=True)
    with open(tmp_path / "kb" / "wiki" / "stray.md", "w") as fh:
        fh.write("written around the facade\n")
    os.replace(tmp_path / "kb" / "wiki" / "stray.md", tmp_path / "kb" / "wiki" / "moved.md")
    assert (tmp_path / "outside.txt").write_text("not watched")  # outside every KB: not a violation
    found = set(watch.violations)
    for expected in ("os.mkdir .", "os.mkdir wiki", "open wiki/stray.md", "os.rename wiki/stray.md",
                     "os.rename wiki/moved.md"):
        assert f"{expected} from {__file__}" in found, (expected, found)
    assert not any("outside.txt" in v for v in found)


def _with_new_folder(seed: int):
    m = change(seed=seed)
    path = f"wiki/reports/run-{seed}/report.md"
    m.writes[path] = b"# a report in a new folder\n"
    m.put_pages.append(PageRow(path=path, kind="report", title="Report", updated_at="2026-01-01T00:00:00Z"))
    return m


def test_every_code_path_writes_into_the_kb_only_through_the_facade(tmp_path, fixed_clock, watch, capsys):
    root, second, twin = (str(tmp_path / name) for name in ("kb", "kb2", "twin"))  # the twin is not watched

    # API: init, apply (with a new folder), an error at the commit rolled back in-process, reads.
    for path in (root, twin):
        kb = KnowledgeBase.init(path)
        kb.apply(_with_new_folder(1))
        kb.close()
    names = trace(twin, _with_new_folder(2))
    kb = KnowledgeBase.open(root)
    with fault_plan(f"error@{checkpoint(names, 'sqlite commit')}"), pytest.raises(OSError):
        kb.apply(_with_new_folder(2))
    kb.status(), kb.listing(pages=True).as_dict(), kb.read_page("wiki/log.md")
    kb.close()

    # A crash mid-publish in a child, recovered in this process.
    crash(root, _with_new_folder(2), checkpoint(names, "publish", 3))
    kb = KnowledgeBase.open(root)
    assert kb.opened.recovery.rolled_back
    kb.close()
    snapshot.state(root)
    assert doctor.examine(root, repair=True, wiki=False).healthy

    # The CLI entry point, in-process.
    for argv in (["init", second], ["--kb", root, "status"], ["--kb", root, "status", "--json"], ["--kb", root, "list"],
                 ["--kb", root, "list", "--json"], ["--kb", root, "doctor", "--store-only"], ["--kb", root, "doctor", "--repair", "--store-only"]):
        assert run(cli, argv) == 0, (argv, capsys.readouterr())

    # A dirty KB: a refused rollback, then doctor --repair --abandon quarantines the before-images.
    dirty = crashed_kb(tmp_path, name="dirty")[0]
    disarmed(os.unlink, os.path.join(dirty, next(row[4] for row in journal(dirty) if row[4])))
    kb = KnowledgeBase.open(dirty)
    assert kb.opened.recovery.dirty
    kb.close()
    assert run(cli, ["--kb", dirty, "doctor", "--repair", "--abandon", "--store-only"]) == 0, capsys.readouterr()
    assert os.listdir(os.path.join(dirty, layout.QUARANTINE))

    assert watch.violations == [], "\n".join(watch.violations[:20])
    for event in ("open", "os.rename", "os.link", "os.remove", "os.mkdir", "os.rmdir", "shutil.rmtree", "sqlite3.connect"):
        assert watch.allowed[event] > 0, f"the hook never saw the facade's {event}: it is not watching ({watch.allowed})"
