"""wikismith: compile documents into an interlinked Markdown wiki, crash-safe at every step."""

__version__ = "0.1.0"
