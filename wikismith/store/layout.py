"""Names of the KB's folders and files, relative to its root."""

import os

STATE = ".wikismith"
DB = ".wikismith/kb.sqlite3"
LOCK = ".wikismith/lock"
CONFIG = ".wikismith/config.toml"
STAGING = ".wikismith/staging"
BACKUPS = ".wikismith/backups"
DOWNLOADS = ".wikismith/downloads"
QUARANTINE = ".wikismith/quarantine"
HISTORY = ".wikismith/history"

RAW = "raw"
WIKI = "wiki"
WIKI_FOLDERS = ("sources", "summaries", "concepts", "entities", "explorations", "reports")
# Files of wiki/ that are not pages: the schema, the catalogue and the log.
WIKI_SPECIAL = ("wiki/AGENTS.md", "wiki/index.md", "wiki/log.md")
# index.md's shards, once a kind has many pages: generated like index.md, not pages.
INDEX_SHARDS = "wiki/index"


def files_under(root: str, top: str, *, hidden: bool = True) -> list[str]:
    """KB-relative ("/"-separated) paths of the files under `top`, each folder's files sorted, folders sorted; those
    starting with "." skipped unless `hidden`. Paths are cut, not made with os.path.relpath: doctor and the crash
    bench's snapshots walk every page, and relpath cost more than the walk."""
    cut = len(os.path.join(root, ""))
    found = []
    for folder, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = sorted(d for d in dirs if hidden or not d.startswith("."))
        prefix = folder[cut:].replace(os.sep, "/")
        found += [f"{prefix}/{name}" for name in sorted(files)]
    return found
