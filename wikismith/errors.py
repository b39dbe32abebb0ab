"""Errors a user can act on. Each carries the exit code the CLI returns for it."""

from __future__ import annotations


class WikismithError(Exception):
    """A failure with a message fit to show a user as it is."""

    exit_code = 1


class UsageError(WikismithError):
    exit_code = 2


class NotAKnowledgeBase(WikismithError):
    exit_code = 2


class KnowledgeBaseExists(WikismithError):
    exit_code = 2


class StoreError(WikismithError):
    """The store cannot be used as it is (corrupt database, unknown schema, invalid journal)."""

    exit_code = 3


class DirtyKnowledgeBase(WikismithError):
    """A rollback could not complete: reads work, mutations are refused until `wikismith doctor`."""

    exit_code = 3


class LockTimeout(WikismithError):
    exit_code = 4
