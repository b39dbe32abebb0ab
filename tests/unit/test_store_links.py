"""Before-images and publishing when the file system will not rename or link: a real EXDEV, and refused hard links.

A copy replaces the rename (publish) or the hard link (before-image, restore); the user sees the same KB either way,
and a crash in the middle still recovers to exactly the state before the command.
"""

import errno
import os
import shutil
import tempfile

import pytest

from storekit import build, change, checkpoint, crash, crashed_kb, fault_plan, pending, reference
from wikismith.ops import doctor
from wikismith.kb import KnowledgeBase
from wikismith.store import layout, snapshot

SHM = "/dev/shm"


@pytest.fixture
def shm(tmp_path):
    """Make folders on /dev/shm, a file system other than the one holding tmp_path (else skip)."""
    if not os.path.isdir(SHM) or os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a file system other than the temp folder's")
    made = []

    def make() -> str:
        made.append(tempfile.mkdtemp(prefix="wikismith-test-", dir=SHM))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def elsewhere(folder: str, shm):
    """A `prepare` step that makes .wikismith/<folder> a symlink to a fresh folder on /dev/shm."""
    def prepare(root: str) -> None:
        path = os.path.join(root, folder)
        os.rmdir(path)  # empty in a fresh KB
        os.symlink(shm(), path)
    return prepare


def healthy(root) -> None:
    report = doctor.examine(str(root), wiki=False)
    assert report.healthy, [f.problem for f in report.findings]
    assert snapshot.scratch_leftovers(str(root)) == []


def _apply(root, mutation) -> None:
    kb = KnowledgeBase.open(str(root))
    try:
        kb.apply(mutation)
    finally:
        kb.close()


# -- a real EXDEV: staging/ or backups/ on another file system ------------------------------------------------------

@pytest.mark.parametrize("folder", [layout.STAGING, layout.BACKUPS])
def test_cross_device_scratch_commits_by_copy(tmp_path, shm, fixed_clock, folder):
    root = build(tmp_path / "kb", prepare=elsewhere(folder, shm))
    scratch = os.path.realpath(os.path.join(root, folder))
    assert os.stat(scratch).st_dev != os.stat(root).st_dev, "the test needs a real cross-device folder"

    _apply(root, change())

    assert snapshot.state(root) == reference()[2], "the cross-device KB differs from one applied by rename"
    assert os.path.islink(os.path.join(root, folder)), "the user's symlink must survive"
    assert os.listdir(scratch) == [], "the transaction's scratch folder on the other device was not cleaned up"
    healthy(root)


@pytest.mark.parametrize("mode", ["crash", "torn"])
@pytest.mark.parametrize("folder", [layout.STAGING, layout.BACKUPS])
def test_cross_device_crash_mid_publish_recovers(tmp_path, shm, fixed_clock, folder, mode):
    root, before, after, _k = crashed_kb(tmp_path, where="publish", nth=3, mode=mode, prepare=elsewhere(folder, shm))
    scratch = os.path.realpath(os.path.join(root, folder))
    (txn,) = os.listdir(scratch)
    assert os.listdir(os.path.join(scratch, txn)), "the crash left nothing on the other device: nothing was tested"
    assert snapshot.state(root) != before, "the crash changed nothing in wiki/: it was not mid-publish"

    kb = KnowledgeBase.open(root)  # recovery runs here
    assert len(kb.opened.recovery.rolled_back) == 1 and kb.opened.recovery.dirty is None
    assert snapshot.state(root) == before
    assert os.listdir(scratch) == []
    healthy(root)
    kb.apply(change())  # the interrupted command, run again, completes
    kb.close()
    assert snapshot.state(root) == after


# -- hard links refused --------------------------------------------------------------------------------------------

@pytest.fixture
def refuse_links(monkeypatch):
    """Make every os.link fail with the given errno (as FAT, some network shares or link limits do)."""
    calls = []

    def install(code: int):
        def refused(src, dst, *args, **kwargs):
            calls.append(dst)
            raise OSError(code, os.strerror(code), src, None, dst)
        monkeypatch.setattr(os, "link", refused)
        return calls
    return install


@pytest.mark.parametrize("code", [errno.EPERM, errno.EMLINK], ids=["EPERM", "EMLINK"])
def test_refused_links_fall_back_to_copies(tmp_path, fixed_clock, refuse_links, code):
    names, before, after = reference()  # a clean run with working links
    applied, rolled, crashed = (build(tmp_path / name) for name in ("applied", "rolled", "crashed"))
    calls = refuse_links(code)

    _apply(applied, change())
    assert calls, "apply never tried a hard link: the fallback was not exercised"
    assert snapshot.state(applied) == after
    healthy(applied)

    # An error mid-publish rolls back in-process from the copied before-images.
    kb = KnowledgeBase.open(rolled)
    with fault_plan(f"error@{checkpoint(names, 'publish', 4)}"), pytest.raises(OSError):
        kb.apply(change())
    kb.close()
    assert snapshot.state(rolled) == before
    healthy(rolled)

    # A crash mid-publish, recovered by a process that cannot link either: restore copies too.
    crash(crashed, change(), checkpoint(names, "publish", 4))
    assert pending(crashed) == ["active"] and snapshot.state(crashed) != before
    calls.clear()
    KnowledgeBase.open(crashed).close()
    assert calls, "recovery never tried a hard link: its fallback was not exercised"
    assert snapshot.state(crashed) == before
    healthy(crashed)


def test_a_link_error_that_is_not_a_refusal_aborts_cleanly(tmp_path, fixed_clock, refuse_links):
    """EIO from link() is a failing disk, not a refusal: apply must stop, not copy, and change nothing."""
    root = build(tmp_path / "kb")
    before = snapshot.state(root)
    refuse_links(errno.EIO)
    kb = KnowledgeBase.open(root)
    with pytest.raises(OSError) as err:
        kb.apply(change())
    kb.close()
    assert err.value.errno == errno.EIO
    assert snapshot.state(root) == before
    assert pending(root) == []
    healthy(root)
