"""Chat sessions: conversation state, not wiki content. Each message is its own small SQLite transaction (through
the facade, like every commit); none enters the journal or the history, and nothing in raw/ or wiki/ changes."""

from __future__ import annotations

import json
import sqlite3

from wikismith import clock
from wikismith.store import fs


def new_session(conn: sqlite3.Connection, title: str) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        sid = conn.execute("INSERT INTO chat_sessions (title, created_at, updated_at) VALUES (?, ?, ?)",
                           (title, clock.now_iso(), clock.now_iso())).lastrowid
        fs.commit(conn, "chat session")
    except BaseException:
        _rollback(conn)
        raise
    return sid


def append(conn: sqlite3.Connection, session: int, role: str, content: str, sources: list | None = None) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM chat_messages WHERE session = ?",
                           (session,)).fetchone()[0]
        conn.execute("INSERT INTO chat_messages (session, seq, role, content, sources, at) VALUES (?, ?, ?, ?, ?, ?)",
                     (session, seq, role, content, json.dumps(sources or []), clock.now_iso()))
        conn.execute("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", (clock.now_iso(), session))
        fs.commit(conn, "chat message")
    except BaseException:
        _rollback(conn)
        raise


def delete(conn: sqlite3.Connection, session: int) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        gone = conn.execute("DELETE FROM chat_sessions WHERE id = ?", (session,)).rowcount
        conn.execute("DELETE FROM chat_messages WHERE session = ?", (session,))
        fs.commit(conn, "chat delete")
    except BaseException:
        _rollback(conn)
        raise
    return bool(gone)


def sessions(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT s.id, s.title, s.created_at, s.updated_at, "
                        "(SELECT count(*) FROM chat_messages m WHERE m.session = s.id) FROM chat_sessions s "
                        "ORDER BY s.updated_at DESC, s.id DESC").fetchall()
    return [{"id": i, "title": t, "created_at": c, "updated_at": u, "messages": n} for i, t, c, u, n in rows]


def messages(conn: sqlite3.Connection, session: int) -> list[dict]:
    rows = conn.execute("SELECT seq, role, content, sources, at FROM chat_messages WHERE session = ? ORDER BY seq",
                        (session,)).fetchall()
    return [{"seq": s, "role": r, "content": c, "sources": json.loads(src), "at": a} for s, r, c, src, a in rows]


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
