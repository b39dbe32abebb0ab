"""`wikismith doctor`: what the store reports about itself and what the wiki checks find; with repair, recovery
first. Doctor never deletes a user's file. What it cannot repair safely, it describes with the next step to take."""

from __future__ import annotations

from dataclasses import dataclass, field

from wikismith.errors import StoreError
from wikismith.store import layout
from wikismith.store.checks import Finding
from wikismith.store.store import Store
from wikismith.wiki.check import structural_problems


@dataclass
class DoctorReport:
    root: str
    schema_version: int | None = None
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a fault (kept downloads)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {"root": self.root, "healthy": self.healthy, "schema_version": self.schema_version,
                "findings": [f.as_dict() for f in self.findings], "repaired": self.repaired, "notes": self.notes}


def examine(root: str, *, repair: bool = False, abandon: bool = False, wiki: bool = True,
            clear_downloads: bool = False) -> DoctorReport:
    """Check the store (and, with wiki, the compiled wiki's links and index); with repair, run recovery first."""
    report = DoctorReport(root=root)
    store = Store(root)
    try:
        if repair:
            report.repaired += store.repair(abandon=abandon)
        for kept in store.kept_downloads():
            what = f"{kept.folder}" + (f" ({kept.url})" if kept.url else "")
            if clear_downloads:
                store.clear_download(kept)
                report.repaired.append(f"removed kept download {what}, {kept.size:,} bytes")
            else:
                report.notes.append(f"kept download {what}: {kept.size:,} bytes, {kept.age_days:.1f} days old "
                                    "(a retry of its URL reuses it; `wikismith doctor --clear-downloads` removes it)")
        report.findings += store.findings()
        with store.locked():
            view = store.view()
            report.schema_version = view.schema_version()
            if wiki:
                report.findings += [Finding("wiki", p) for p in structural_problems(view)]
    except StoreError as exc:  # unreadable on opening, or damage that a query ran into
        report.findings.append(Finding(
            "database", str(exc),
            f"keep a copy of {layout.DB}; restore it from a backup, or move it aside and re-add your documents "
            "into a new KB. wikismith will not delete it."))
    finally:
        store.close()
    return report
