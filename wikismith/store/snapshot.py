"""The KB's observable state, for the crash bench and tests: file hashes over raw/ and wiki/, and the registry."""

from __future__ import annotations

import hashlib
import os

from wikismith.store import db, history, layout, registry

# (inode, device, size, mtime_ns) -> sha256: files that the protocol replaced by rename keep their old inode
# untouched, so a cache keyed on it is sound and makes repeated snapshots of large KBs cheap.
_hash_cache: dict[tuple[int, int, int, int], str] = {}


def file_hashes(root: str) -> dict[str, str]:
    found = {rel: _sha256(os.path.join(root, rel)) for top in (layout.RAW, layout.WIKI)
             for rel in layout.files_under(root, top)}
    return dict(sorted(found.items()))


def _sha256(path: str) -> str:
    st = os.lstat(path)
    key = (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)
    cached = _hash_cache.get(key)
    if cached is None:
        with open(path, "rb") as fh:
            cached = hashlib.file_digest(fh, "sha256").hexdigest()
        _hash_cache[key] = cached
    return cached


def state(root: str, *, history: bool = True) -> dict:
    """Everything a user could observe: every file's hash and a canonical registry dump; without history, what the
    KB holds whatever commands brought it there."""
    conn = db.open_db(os.path.join(root, layout.DB))
    try:
        rows = registry.dump(conn)
    finally:
        conn.close()
    if not history:
        rows = {k: v for k, v in rows.items() if not k.startswith("history")}
    return {"files": file_hashes(root), "registry": rows}


def scratch_leftovers(root: str) -> list[str]:
    """Anything left in staging/ or backups/, and anything in history/ but exactly the before-images history keeps:
    after recovery there must be nothing else (and nothing of those missing)."""
    left = []
    for folder in (layout.STAGING, layout.BACKUPS):
        base = os.path.join(root, folder)
        if os.path.isdir(base):
            left.extend(f"{folder}/{name}" for name in sorted(os.listdir(base)))
    conn = db.open_db(os.path.join(root, layout.DB))
    try:
        left += history.orphan_folders(root, conn)
        for (backup,) in conn.execute("SELECT backup FROM history_files WHERE backup IS NOT NULL ORDER BY backup"):
            if not os.path.isfile(os.path.join(root, backup)):
                left.append(f"missing before-image {backup}")
    finally:
        conn.close()
    return left
