"""History: which commands changed the KB, and what each needs to be undone.

A command (one CLI invocation, one API call) is one or more transactions. When a command's transaction commits, the
same SQLite commit records, apart from the journal (so recovery never mistakes history for pending work):

- the command itself (`history`): sequential id, time, command line, documents it touched, transactions;
- each file the transaction touched (`history_files`), once per command: its before-image as the command's first
  transaction to touch it found it (a hard link, kept under `.wikismith/history/<command>/<txn>/`, or "absent", or
  the length of an appended file) and the hash of what the command's last transaction to touch it wrote, so that
  an undo can tell a later hand edit (undo reads nothing else: later before-images of the same file are not kept);
- each registry row it changed (`history_rows`), once per command: the row as it was before the command (JSON), or
  null when it did not exist.

Only the last `keep` commands keep their before-images: recording a new command drops the rows of older ones in the
same commit, and their folders are removed afterwards (a folder that no history row names is never needed again).
Ids come from the database, not the clock, so two runs of the same commands record the same history.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from dataclasses import dataclass, field

from wikismith import clock
from wikismith.store import fs
from wikismith.store.layout import BACKUPS, HISTORY

DEFAULT_KEEP = 20


@dataclass
class Command:
    """The command whose transactions are being applied. `id` is set when its first transaction commits."""

    argv: list[str]
    label: str = ""
    keep: int = DEFAULT_KEEP
    undoes: int | None = None  # the command this one undoes
    id: int | None = None
    txns: int = 0  # transactions attempted so far (numbers them)
    documents: set[str] = field(default_factory=set)


def txn_id(conn, command: Command, exists) -> str:
    """The next transaction's id: `<command>-<n>`, deterministic, unused by any journal row or scratch folder."""
    if command.id is None:
        planned = (conn.execute("SELECT coalesce(max(id), 0) + 1 FROM history").fetchone()[0])
    else:
        planned = command.id
    while True:
        command.txns += 1
        candidate = f"{planned:06d}-{command.txns:03d}"
        if not exists(candidate):
            return candidate


def record(conn, command: Command, txn: str, label: str, entries, after: dict[str, str], rows,
           keeps=frozenset()) -> None:
    """Inside the commit transaction: the command (first time), this transaction's files and row before-images,
    the files it left as they are although they depend on it (`keeps`, as action "keep": nothing to put back, but
    a later command touching one makes undo refuse, as for a file written), and the pruning of commands older than
    the last `keep`."""
    number = int(txn.split("-", 1)[0])
    first = conn.execute("SELECT 1 FROM history WHERE id = ?", (number,)).fetchone() is None
    documents = sorted(command.documents)
    if first:
        # partial: its earlier transactions' records were pruned while it ran (20 newer commands meanwhile); such a
        # command cannot be undone whole.
        conn.execute("INSERT INTO history (id, at, argv, label, documents, txns, undoes, partial) "
                     "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                     (number, clock.now_iso(), json.dumps(command.argv), command.label or label,
                      json.dumps(documents), command.undoes, int(command.id is not None)))
        conn.execute("DELETE FROM history_files WHERE command <= ?", (number - command.keep,))
        conn.execute("DELETE FROM history_rows WHERE command <= ?", (number - command.keep,))
        conn.execute("DELETE FROM history WHERE id <= ?", (number - command.keep,))
    conn.execute("UPDATE history SET txns = txns + 1, documents = ? WHERE id = ?", (json.dumps(documents), number))
    # Undo restores each file and row as it was before the command: only the command's first record of each is
    # ever read, later ones only update what the file became. So a file or row that an earlier transaction of the
    # command already recorded keeps that record (its `after` moves on), and its new before-image is not kept:
    # keeping every one made a big add store every version of its busiest pages (quadratic in the add's size).
    for e in entries:
        if e.action == "mkdir":
            continue
        known = conn.execute("SELECT txn, seq, action FROM history_files WHERE path = ? AND command = ?",
                             (e.path, number)).fetchone()
        if known is not None and known[2] == "keep":
            # kept as it was by an earlier transaction of the command: this before-image is the command's first
            conn.execute("DELETE FROM history_files WHERE txn = ? AND seq = ?", known[:2])
            known = None
        if known is not None:
            conn.execute("UPDATE history_files SET after = ? WHERE txn = ? AND seq = ?",
                         (after.get(e.path), *known[:2]))
        else:
            conn.execute("INSERT INTO history_files (command, txn, seq, action, path, backup, old_size, after) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (number, txn, e.seq, e.action, e.path,
                                                             kept_path(number, txn, e.backup), e.old_size,
                                                             after.get(e.path)))
    seq = max((e.seq for e in entries), default=0)
    for path in sorted(keeps):
        if conn.execute("SELECT 1 FROM history_files WHERE path = ? AND command = ?", (path, number)).fetchone():
            continue
        seq += 1
        conn.execute("INSERT INTO history_files (command, txn, seq, action, path) VALUES (?, ?, ?, 'keep', ?)",
                     (number, txn, seq, path))
    conn.executemany("INSERT INTO history_rows (command, txn, tbl, key, before) VALUES (?, ?, ?, ?, ?)",
                     [(number, txn, tbl, key, None if before is None else json.dumps(before, sort_keys=True))
                      for tbl, key, before in rows])


def unrecorded(conn, txn: str):
    """Whether registry row (table, key) is not yet in the history of `txn`'s command: only then is its
    before-image read and recorded (see record)."""
    number = int(txn.split("-", 1)[0])

    def fresh(tbl: str, key: str) -> bool:
        return conn.execute("SELECT 1 FROM history_rows WHERE tbl = ? AND key = ? AND command = ?",
                            (tbl, key, number)).fetchone() is None
    return fresh


def committed(command: Command, txn: str) -> None:
    command.id = int(txn.split("-", 1)[0])


def kept_path(command: int, txn: str, backup: str | None) -> str | None:
    """Where a before-image lives once its transaction has committed."""
    if backup is None:
        return None
    return posixpath.join(HISTORY, f"{command:06d}", txn, posixpath.basename(backup))


def keep_backups(root: str, conn, txn: str, entries) -> bool:
    """After a commit: move the before-images of `txn` (its journal `entries`) that history records into the
    history folder, the others out. Returns whether it kept any (else the caller removes the folder). Interrupted
    anywhere, running it again finishes it."""
    number = int(txn.split("-", 1)[0])
    wanted = set()
    for e in entries:
        if e.backup is None:
            continue
        row = conn.execute("SELECT backup FROM history_files WHERE path = ? AND command = ?",
                           (e.path, number)).fetchone()
        if row is not None and row[0] == kept_path(number, txn, e.backup):
            wanted.add(posixpath.basename(e.backup))
    source = os.path.join(root, BACKUPS, txn)
    if not wanted or not os.path.isdir(source):
        return False
    for name in sorted(os.listdir(source)):
        if name not in wanted:
            fs.unlink(os.path.join(source, name))
    folder = os.path.join(root, HISTORY, f"{number:06d}")
    fs.makedirs(folder)
    fs.move_tree(source, os.path.join(folder, txn))
    return True


def orphan_folders(root: str, conn) -> list[str]:
    """KB-relative folders under history/ that no history row needs any more."""
    base = os.path.join(root, HISTORY)
    if not os.path.isdir(base):
        return []
    found = []
    for name in sorted(os.listdir(base)):  # at most history_keep folders, plus pruned ones
        wanted = {row[0] for row in conn.execute(
            "SELECT DISTINCT txn FROM history_files WHERE command = ? AND backup IS NOT NULL",
            (int(name) if name.isdigit() else -1,))}
        if not wanted:
            found.append(posixpath.join(HISTORY, name))
            continue
        found += [posixpath.join(HISTORY, name, txn) for txn in sorted(os.listdir(os.path.join(base, name)))
                  if txn not in wanted]
    return found


def pruned_folders(root: str, conn, txn: str) -> list[str]:
    """After transaction `txn` committed: the KB-relative history folders it left unneeded, without reading the
    rows of its own command. Its commit can only have pruned whole older commands (record() drops whole commands),
    and its own before-images are kept only when its rows name them, so this is orphan_folders() on a KB that had
    no orphan before the transaction (every change starts from one: recovery runs first while anything is
    pending). Costs one indexed look-up per top-level folder (at most history_keep of them, plus pruned ones), not
    one per transaction of the command, which made every transaction of a big add slower than the one before."""
    base = os.path.join(root, HISTORY)
    if not os.path.isdir(base):
        return []
    own = txn.split("-", 1)[0]
    found = []
    for name in sorted(os.listdir(base)):
        if name == own:
            continue
        wanted = name.isdigit() and conn.execute(
            "SELECT 1 FROM history_files WHERE command = ? AND backup IS NOT NULL LIMIT 1", (int(name),)).fetchone()
        if not wanted:
            found.append(posixpath.join(HISTORY, name))
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
