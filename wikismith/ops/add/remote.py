"""`add` from the web and from PageIndex Cloud: just other sources, landing through one transaction each.

A URL's body is downloaded into `.wikismith/downloads/<hash of the URL>/` (through the store's facade), never into
raw/: the transaction that writes the wiki pages also publishes it into raw/. When the add fails after the
download, the download stays there (with its URL in meta.json) so that a retry of the same URL reuses it instead of
fetching again; after a commit, or when the content is already in the KB, it is removed. A fetch that fails keeps
nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from wikismith.ops.add import FileOutcome
from wikismith.ops.add.local import land
from wikismith.store import fs, layout

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def looks_like_url(item: str) -> bool:
    return bool(_SCHEME.match(item)) and not os.path.exists(item)


def download_dir(store, url: str) -> str:
    return store.path(os.path.join(layout.DOWNLOADS, hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]))


def add_url(store, url: str, cfg: dict, limits, dry_run: bool, model, item, *, allow_private: bool) -> None:
    """Fetch (or reuse a kept download), convert, compile, and publish the body into raw/ with the pages."""
    from wikismith.compile.draft import SourceInfo
    from wikismith.ingest import convert

    view = store.view()
    if dry_run:
        old = view.document_by_source(url)
        return item.done(FileOutcome(url, "would-update" if old else "would-add", "not fetched in a dry run",
                                     old["id"] if old else ""))
    folder = download_dir(store, url)
    item.phase("fetching")
    got = _cached(folder) or _download(url, folder, cfg, allow_private)
    with open(got["path"], "rb") as fh:
        data = fh.read()
    same = view.document_by_hash(got["sha256"])
    if same is not None:
        fs.rmtree(folder)
        return item.done(FileOutcome(url, "skipped", f"same content as {same['name']} (already in the KB)", same["id"]))
    item.phase("converting")
    doc = convert(got["path"], limits)
    source = SourceInfo(name=got["filename"], origin=url, hash=got["sha256"], kind=got["kind"], source_path=url,
                        raw_file=got["path"], size=len(data))
    land(store, url, doc, source, data, model, item)
    try:
        fs.rmtree(folder)  # published into raw/ by the transaction; best effort from here
    except OSError:
        pass


def _cached(folder: str) -> dict | None:
    """A download a failed add left behind, when it is whole."""
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
        with open(meta["path"], "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() == meta["sha256"]:
                return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def _download(url: str, folder: str, cfg: dict, allow_private: bool) -> dict:
    from wikismith.ingest.fetch import fetch

    if os.path.lexists(folder):
        fs.rmtree(folder)  # an unusable earlier download
    fs.makedirs(folder)
    timeout = float(cfg["fetch_timeout"])
    try:
        got = fetch(url, folder, allow_private=allow_private,
                    max_bytes=int(float(cfg["max_download_mb"]) * 1024 * 1024),
                    connect_timeout=timeout, read_timeout=timeout, write=fs.write_stream)
        meta = {"url": url, "final_url": got.final_url, "kind": got.kind, "content_type": got.content_type,
                "sha256": got.sha256, "path": got.path, "filename": got.filename, "size": got.size}
        fs.atomic_write(os.path.join(folder, "meta.json"), json.dumps(meta, indent=1).encode("utf-8"))
    except BaseException:
        try:
            fs.rmtree(folder)  # nothing worth keeping: a retry must fetch again
        except OSError:
            pass
        raise
    return meta


def add_cloud(store, doc_id: str, client, dry_run: bool, model, item) -> None:
    from wikismith.compile.draft import SourceInfo

    origin = f"pageindex-cloud:{doc_id}"
    old = store.view().document_by_source(origin)
    if old is not None:
        return item.done(FileOutcome(origin, "skipped", f"already imported as {old['id']}", old["id"]))
    if dry_run:
        return item.done(FileOutcome(origin, "would-add", "not fetched in a dry run"))
    item.phase("fetching")
    cloud = client.fetch(doc_id)
    source = SourceInfo(name=cloud.name, origin=origin, hash=cloud.content_hash, kind="pageindex",
                        source_path=origin, raw_file=None, size=len(cloud.converted.markdown))
    land(store, origin, cloud.converted, source, None, model, item)


def cloud_client(cfg: dict, env: dict[str, str]):
    from wikismith.ingest.pageindex import client_from

    return client_from(cfg, env)
