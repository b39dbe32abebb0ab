"""`history` and `undo`: the commands that changed the KB, and reverting one whole command as one new transaction.

Undo puts back, for every file and registry row the command changed, what was there before its first transaction
touched it: the kept before-image (or nothing, for a file it created) and the row as it was. It refuses, naming
them, when a later command changed one of those files or rows, or when a file was edited by hand since; `index.md`
is spliced for the pages undo restores (never restored whole), and `log.md` never conflicts (undo appends its own
line). Undo is a command like any other, so undoing an undo redoes. The catalogue (index.md and its shards) is
rewritten for the pages undo changes, never restored whole.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from wikismith import clock
from wikismith.errors import WikismithError
from wikismith.store.mutation import CandidateRow, DocumentRow, Mutation, PageRow
from wikismith.wiki import catalog
from wikismith.wiki.work import Work



class UndoRefused(WikismithError):
    exit_code = 1


@dataclass
class HistoryReport:
    commands: list[dict]
    keep: int

    def as_dict(self) -> dict:
        return {"commands": self.commands, "keep": self.keep}


def history(store, *, limit: int | None = None) -> HistoryReport:
    with store.snapshot() as view:
        return HistoryReport(view.commands(limit), store.history_keep)


@dataclass
class UndoPlan:
    command: dict
    restore: list[str] = field(default_factory=list)  # files put back as they were
    delete: list[str] = field(default_factory=list)  # files the command created
    documents: list[str] = field(default_factory=list)  # documents whose rows change back
    pages: int = 0  # page rows restored or dropped

    def as_dict(self) -> dict:
        return {"command": self.command, "restore": self.restore, "delete": self.delete,
                "documents": self.documents, "pages": self.pages}


@dataclass
class UndoReport:
    dry_run: bool
    plan: UndoPlan
    undone: bool = False
    command: int | None = None  # the id of the undo itself, once done

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "plan": self.plan.as_dict(), "undone": self.undone, "command": self.command}


def target(view, command_id: int | None) -> dict:
    if command_id is None:
        latest = view.commands(1)
        if not latest:
            raise UndoRefused("nothing to undo: the history is empty")
        return latest[0]
    found = view.command(command_id)
    if found is None:
        raise UndoRefused(f"no command {command_id} in the history (it keeps the last commands only: "
                          "`wikismith history` lists them)")
    return found


def build_undo(view, command_id: int | None, *, when: str) -> tuple[Mutation, UndoPlan]:
    """The Mutation that reverts one command, over the KB as it is; UndoRefused when it cannot be done safely."""
    command = target(view, command_id)
    if command["partial"]:
        raise UndoRefused(f"command {command['id']} cannot be undone whole: the records of its first transactions "
                          "were pruned while it ran")
    first: dict[str, dict] = {}
    last: dict[str, dict] = {}
    for entry in view.command_files(command["id"]):
        if entry["path"] == "wiki/log.md" or catalog.is_catalog(entry["path"]):
            continue  # the log is only appended to; the catalogue is rewritten for the pages undo restores
        first.setdefault(entry["path"], entry)
        last[entry["path"]] = entry
    rows: dict[tuple[str, str], dict | None] = {}
    for row in view.command_rows(command["id"]):
        rows.setdefault((row["tbl"], row["key"]), row["before"])

    later = view.later_commands_touching(command["id"], set(first), set(rows))
    undone_by = _undone_by(view, command["id"], later)
    if undone_by is not None:
        raise UndoRefused(f"command {command['id']} is already undone, by command {undone_by}; "
                          f"`wikismith undo {undone_by}` would redo it")
    if later:
        names = "; ".join(f"command {c} changed {', '.join(what[:3])}" + (" ..." if len(what) > 3 else "")
                          for c, what in later.items())
        raise UndoRefused(f"cannot undo command {command['id']}: later commands changed what it would restore "
                          f"({names}). Undo those first, newest first.")
    edited = [path for path, entry in sorted(last.items())
              if entry["action"] != "keep" and _current_hash(view, path) != entry["after"]]
    if edited:
        raise UndoRefused(f"cannot undo command {command['id']}: changed since by hand: {', '.join(edited[:5])}"
                          + (" ..." if len(edited) > 5 else ""))

    work = Work(view, f"undo {command['id']}: {command['label']}")
    # The pages the command left as they were depend on the holders undo puts back just as much.
    work.m.keeps |= {path for path, entry in first.items() if entry["action"] == "keep"}
    plan = UndoPlan(command)
    for path, entry in sorted(first.items()):
        if entry["backup"] is not None:
            with open(view.path(entry["backup"]), "rb") as fh:
                work.m.writes[path] = fh.read()
            plan.restore.append(path)
        elif entry["action"] in ("write", "delete") and view.exists(path):
            work.m.deletes.add(path)
            plan.delete.append(path)
    for (tbl, key), before in sorted(rows.items()):
        if tbl == "documents":
            plan.documents.append(key)
            if before is None:
                work.m.drop_documents.add(key)
            else:
                work.m.put_documents.append(DocumentRow(**before))
        elif tbl == "pages":
            plan.pages += 1
            if before is None:
                work.m.drop_pages.add(key)
            else:
                before = {**before, "sources": tuple(before["sources"])}
                work.rows[key] = PageRow(**before)
        elif tbl == "candidates":  # a document's candidate pages, all of them: what decides which pages exist
            if before:
                work.m.put_candidates[key] = [CandidateRow(**row) for row in before]
            else:
                work.m.drop_candidates.add(key)
    what = f"command {command['id']} ({command['label']})"
    mutation = work.finish((when, "undo", what))
    return mutation, plan


def _undone_by(view, command_id: int, later: dict[int, list[str]]) -> int | None:
    """The undo that leaves `command_id` undone now, or None: following its undo, the undo of that undo and so on
    (each touches what the command did, so each is among the `later` commands), an odd chain ends undone."""
    undo_of = {(view.command(c) or {}).get("undoes"): c for c in sorted(later, reverse=True)}  # the first wins
    current, steps = command_id, 0
    while current in undo_of:
        current, steps = undo_of[current], steps + 1
    return current if steps % 2 else None


def _current_hash(view, path: str) -> str | None:
    try:
        with open(view.path(path), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return None


def undo(store, command_id: int | None = None, *, dry_run: bool = False, confirm=None, argv=()) -> UndoReport:
    when = clock.now_iso()
    # The plan is read under the lock, as the change will be: another command's transaction in progress (a folder
    # add between its files) or one interrupted is never mistaken for an edit by hand.
    with store.settled() as view:
        _, plan = build_undo(view, command_id, when=when)
    report = UndoReport(dry_run, plan)
    if dry_run or (confirm is not None and not confirm(plan)):
        return report
    target_id = plan.command["id"]
    with store.command(list(argv) or ["undo", str(target_id)], f"undo {target_id}", undoes=target_id) as command:
        store.change(lambda view: build_undo(view, target_id, when=clock.now_iso())[0])
        report.undone, report.command = True, command.id
    return report


def exists_before(path: str, root: str) -> bool:
    return os.path.lexists(os.path.join(root, path))
