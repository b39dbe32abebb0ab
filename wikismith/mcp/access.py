"""The KB as the MCP tools reach it: one KnowledgeBase per worker thread, errors turned into tool errors.

The SDK runs each synchronous tool in a worker thread. A KnowledgeBase holds one SQLite connection and the command
in progress, so each thread gets its own: readers answer from their own snapshot and never wait, and changes from
two threads meet at the KB's lock like changes from two processes.
"""

from __future__ import annotations

import contextlib
import sys
import threading


class Failure(Exception):
    """A failure the client should read (a refusal, a bad name, a failed add): its text is shown as it is."""


class Access:
    def __init__(self, root: str):
        self.root = root
        self._local = threading.local()
        self._opened: list = []
        self._guard = threading.Lock()

    def kb(self, argv: list[str] | None = None):
        from wikismith.kb import KnowledgeBase

        kb = getattr(self._local, "kb", None)
        if kb is None:
            kb = KnowledgeBase.open(self.root)
            for line in kb.opened.recovery.rolled_back:
                print(f"wikismith mcp: rolled back an interrupted transaction: {line}", file=sys.stderr)
            self._local.kb = kb
            with self._guard:
                self._opened.append(kb)
        kb.argv = list(argv or [])
        return kb

    @contextlib.contextmanager
    def call(self, argv: list[str] | None = None):
        """The KB for one tool call. A refusal, a WikismithError or an OSError becomes the SDK's ToolError with its
        message (the client reads it as the tool's error result); anything else stays a crash, whose text the SDK
        keeps from the client."""
        from mcp.server.mcpserver.exceptions import ToolError

        from wikismith.errors import WikismithError
        from wikismith.mcp.guard import Refused

        try:
            yield self.kb(argv)
        except (Failure, Refused, WikismithError) as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise ToolError(f"{where}{exc.strerror or exc}; nothing was left half-done") from None

    def close(self) -> None:
        with self._guard:
            for kb in self._opened:
                with contextlib.suppress(Exception):
                    kb.close()
            self._opened.clear()
