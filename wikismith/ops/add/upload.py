"""`add` of a file sent over HTTP: its bytes and the name it was uploaded under, landing like any other add.

The document's source is `upload:<name>`, so uploading a new version under the same name updates that document,
as re-adding a file from the same path does. The bytes wait in `.wikismith/downloads/<hash of the source>/` (written
through the store's facade, never into raw/) until the transaction that writes the pages publishes them into raw/;
the folder is removed afterwards, and also when the add fails.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata

from wikismith.errors import WikismithError
from wikismith.ops.add.local import land, settled
from wikismith.ops.add.remote import download_dir
from wikismith.store import fs

SOURCE = "upload:"


def safe_name(name: str) -> str:
    """The uploaded file's own name, without any folder, control character or leading dot; refused when empty."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if not name or len(name.encode("utf-8")) > 200:
        raise WikismithError(f"{name!r} is not a usable file name for an upload")
    return name


def add_upload(store, name: str, data: bytes, limits, dry_run: bool, model, item) -> None:
    from wikismith.compile.draft import SourceInfo
    from wikismith.ingest import convert, sniff

    name = safe_name(name)
    if len(data) > limits.max_file_bytes:
        raise WikismithError(f"{name}: is {len(data):,} bytes, over the limit of {limits.max_file_bytes:,} bytes "
                             "(max_file_mb)")
    origin = SOURCE + name
    digest = hashlib.sha256(data).hexdigest()
    if settled(store, name, origin, digest, len(data), dry_run, model, item):
        return
    folder = download_dir(store, origin)
    if os.path.lexists(folder):
        fs.rmtree(folder)
    fs.makedirs(folder)
    path = os.path.join(folder, name)
    try:
        fs.atomic_write(path, data)
        item.phase("converting")
        doc = convert(path, limits)
        source = SourceInfo(name=name, origin=origin, hash=digest, kind=sniff(path), source_path=origin,
                            raw_file=path, size=len(data))
        land(store, name, doc, source, data, model, item)
    finally:
        try:
            fs.rmtree(folder)
        except OSError:
            pass
