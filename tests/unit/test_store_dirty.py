"""A rollback that cannot complete: a corrupt journal row or a missing before-image marks the KB dirty.

What a user notices: reads keep working, every change is refused (exit 3) with a message naming `wikismith doctor`,
`doctor` reports it (exit 1), nothing outside the KB is touched and no before-image is discarded, and
`doctor --repair --abandon` keeps the before-images in .wikismith/quarantine/ and makes the KB usable again.
"""

import json
import os
import sqlite3

import click
import pytest

from storekit import call, change, crashed_kb, journal, pending, tree_bytes
from wikismith.cli.common import open_kb, run
from wikismith.errors import DirtyKnowledgeBase
from wikismith.kb import KnowledgeBase
from wikismith.store import layout, snapshot


@click.group()
@click.option("--kb", "kb_path")
@click.pass_context
def changing_cli(ctx, kb_path):
    """A stand-in for the changing commands later issues add (add, remove, ...): the CLI's error path is the same."""
    ctx.obj = {"kb": kb_path}


@changing_cli.command()
@click.pass_context
def touch(ctx):
    open_kb(ctx).apply(change(seed=9))


def _outside(tmp_path) -> dict:
    """What lies beside the KB: a file and an empty folder that a corrupt journal could name."""
    return {name: (tmp_path / name).read_bytes() if (tmp_path / name).is_file() else "dir"
            for name in sorted(os.listdir(tmp_path)) if name not in ("kb", "kb-twin")}


@pytest.fixture
def beside(tmp_path):
    (tmp_path / "outside.txt").write_text("not the KB's\n")
    (tmp_path / "outside-dir").mkdir()
    return tmp_path


def _corrupt(root, sql: str, *args) -> None:
    conn = sqlite3.connect(os.path.join(root, layout.DB))
    with conn:
        conn.execute(sql, args)
    conn.close()


def _first_backup(root):
    return next(row for row in journal(root) if row[4] is not None)  # (txn, seq, action, path, backup, old_size)


def check_dirty_behaviour(root, tmp_path, run_cli, capsys, *, reason: str) -> None:
    """Everything a user sees of a KB whose interrupted transaction cannot be rolled back."""
    files, outside = snapshot.file_hashes(root), _outside(tmp_path)
    backups = tree_bytes(os.path.join(root, layout.BACKUPS))
    assert backups, "the crashed transaction left no before-image: nothing to protect"
    (txn,) = {row[0] for row in journal(root)}

    kb = KnowledgeBase.open(root)  # opening does not fail: recovery marks the KB dirty
    assert reason in (kb.opened.recovery.dirty or ""), kb.opened.recovery.dirty
    status = kb.status().as_dict()
    assert status["dirty"] is True and reason in status["dirty_reason"] and status["pages_total"] == 8
    assert kb.listing(pages=True).as_dict()["pages"]["concept"] and kb.read_page("wiki/index.md")
    with pytest.raises(DirtyKnowledgeBase) as refused:
        kb.apply(change(seed=7))
    kb.close()
    assert refused.value.exit_code == 3 and "`wikismith doctor`" in str(refused.value)

    code, out, err = run_cli("status", kb=root)  # one real process; the rest run the entry point in-process
    assert code == 0 and "DIRTY" in out and "`wikismith doctor`" in err
    code, out, err = call(capsys, "--kb", root, "list", "--pages", "--json")
    assert code == 0 and json.loads(out)["pages"]["concept"]
    code = run(changing_cli, ["--kb", str(root), "touch"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and "`wikismith doctor`" in lines[-1] and "refuses changes" in lines[-1], lines
    code, out, err = call(capsys, "--kb", root, "doctor", "--store-only")
    assert code == 1 and "dirty" in out and reason in out and "--abandon" in out
    code, out, err = call(capsys, "--kb", root, "doctor", "--repair", "--store-only")
    assert code == 1 and reason in out, "repair without --abandon must not give up on the transaction"

    # None of that touched a file, inside the KB or beside it, nor discarded a before-image.
    assert snapshot.file_hashes(root) == files
    assert _outside(tmp_path) == outside
    assert tree_bytes(os.path.join(root, layout.BACKUPS)) == backups
    assert pending(root) == ["active"]

    code, out, err = call(capsys, "--kb", root, "doctor", "--repair", "--abandon", "--store-only")
    assert f"abandoned transaction {txn}" in out, out + err
    quarantine = os.path.join(root, layout.QUARANTINE, txn)
    kept = tree_bytes(os.path.join(quarantine, "before-images"))
    assert kept == {path.split("/", 1)[1]: data for path, data in backups.items()}, "a before-image was lost"
    assert os.path.isfile(os.path.join(quarantine, "journal.tsv"))
    assert snapshot.file_hashes(root) == files, "abandoning keeps the files as they are"
    assert pending(root) == [] and snapshot.scratch_leftovers(root) == []

    kb = KnowledgeBase.open(root)  # usable again
    assert kb.status().as_dict()["dirty"] is False
    kb.apply(change(seed=7))
    kb.close()
    assert call(capsys, "--kb", root, "doctor", "--store-only")[0] == 0
    assert tree_bytes(quarantine + "/before-images") == kept, "quarantine must outlive later changes"


# name -> (the columns a corruption sets on the journal entry of a file the crash already replaced, what doctor says)
CORRUPTIONS = {
    "path climbs out": (lambda beside: {"path": "../outside.txt"}, "invalid path"),
    "path absolute": (lambda beside: {"path": str(beside / "outside.txt")}, "invalid path"),
    "path inside wiki climbs": (lambda beside: {"path": "wiki/../../outside.txt"}, "invalid path"),
    "unknown action": (lambda beside: {"action": "bogus"}, "unknown action"),
    "folder outside": (lambda beside: {"action": "mkdir", "path": "../outside-dir"}, "invalid folder"),
    "backup outside": (lambda beside: {"backup": "../outside.txt"}, "is outside"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_journal_row_marks_the_kb_dirty(beside, fixed_clock, run_cli, capsys, corruption):
    root, _before, _after, _k = crashed_kb(beside, where="publish", nth=3)
    txn, seq = _first_backup(root)[:2]
    columns, reason = CORRUPTIONS[corruption]
    values = columns(beside)
    _corrupt(root, f"UPDATE txn_entries SET {', '.join(f'{c} = ?' for c in values)} WHERE txn = ? AND seq = ?",
             *values.values(), txn, seq)
    check_dirty_behaviour(root, beside, run_cli, capsys, reason=reason)


def test_a_missing_before_image_marks_the_kb_dirty(beside, fixed_clock, run_cli, capsys):
    root, before, _after, _k = crashed_kb(beside, where="publish", nth=3)
    _txn, seq, _action, path, backup, _size = _first_backup(root)
    assert snapshot.file_hashes(root)[path] != before["files"][path], "pick a file the crash already replaced"
    os.unlink(os.path.join(root, backup))
    check_dirty_behaviour(root, beside, run_cli, capsys, reason=f"the before-image of {path} ({backup}) is missing")


def test_a_dirty_kb_refuses_every_change_until_the_before_image_is_back(beside, fixed_clock, run_cli, capsys):
    """Dirty is not lifted by retrying; putting the missing before-image back and `doctor --repair` finishes the job."""
    root, before, after, _k = crashed_kb(beside, where="publish", nth=3)
    backup = os.path.join(root, _first_backup(root)[4])
    saved = open(backup, "rb").read()
    os.unlink(backup)
    for _attempt in range(2):  # the refusal holds on every try, from the API and from the CLI
        kb = KnowledgeBase.open(root)
        with pytest.raises(DirtyKnowledgeBase):
            kb.apply(change(seed=7))
        kb.close()
        code = run(changing_cli, ["--kb", str(root), "touch"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 3 and "`wikismith doctor`" in err[-1] and "is missing" in err[-1], err
    assert call(capsys, "--kb", root, "status", "--json")[0] == 0
    with open(backup, "wb") as fh:  # the user restores the file from wherever they kept it
        fh.write(saved)
    code, out, err = call(capsys, "--kb", root, "doctor", "--repair", "--store-only")
    assert code == 0 and "rolled back interrupted transaction" in out, out + err
    assert snapshot.state(root) == before
    assert not os.path.exists(os.path.join(root, layout.QUARANTINE))
    assert run(changing_cli, ["--kb", str(root), "touch"]) == 0
