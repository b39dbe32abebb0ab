"""Names of the KB's folders and files, relative to its root."""

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
