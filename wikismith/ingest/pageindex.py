"""Read a document a user already indexed in PageIndex Cloud: its metadata, tree and page texts (read-only).

    client = client_from(config, env)        # key from PAGEINDEX_API_KEY; base URL from config/env
    document = client.fetch("pi-abc123")     # a CloudDocument, or CloudError with a one-line message

Endpoints (the key goes in the `api_key` header, never in a URL, a message or a repr):
  GET /doc/{id}/metadata/                               status, name, description, page count
  GET /doc/{id}/?type=tree&summary=true&include_text=false   the tree
  GET /doc/{id}/?type=ocr&format=page                   page texts

Shapes accepted (a body is either the value itself or an object holding it under `result`, `data`, …):
  metadata  an object; `status` (must be "completed", any case); name from `name`/`title`/`doc_name`/`file_name`/
            `filename` (else the id); description from `description`/`doc_description`/`summary`; page count from
            `pageNum`/`page_num`/`page_count`/`pageCount`/`num_pages`/`pages` (a whole number; optional).
  tree      a list of nodes (or an object with `result`/`tree`/`structure`/`nodes`); a node is an object with
            `title` (or `name`), `page_index` (or `start_index`/`start_page`/`page`; its first page, 1-based,
            required), an optional end (`end_index`/`end_page`/`page_end`/`last_page`), `prefix_summary` (or
            `summary`) and children under `nodes` (or `children`). `node_id` is not needed: TreeNode ids are
            positional, as everywhere in wikismith ("0002.0003").
  ocr       a list of pages (or an object with `result`/`pages`/`data`), each an object with the page number in
            `page_index`/`page`/`page_number` (1-based) and the text in `markdown`/`text`/`content`.

Ranges: a node runs from its start to the next sibling's start - 1; the last sibling to its parent's end; the last
top-level node to the page count. So children partition their parent and the top level covers 1..n exactly once;
an explicit end only helps when the metadata has no page count. Siblings starting on the same page share one node
(titles joined with " / "), a child starting outside its parent's range is clamped into it, and pages before the
first child get a leading node ("Front matter" at the top, "Introduction" inside a section). A start page outside
1..page count, a non-object node, a missing title/start or nesting deeper than MAX_DEPTH is a malformed tree.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Callable, Mapping

from wikismith import retry
from wikismith.errors import WikismithError
from wikismith.ingest.document import ConvertedDocument, OutlineEntry, TreeNode

DEFAULT_BASE_URL = "https://api.pageindex.ai"
KEY_VAR = "PAGEINDEX_API_KEY"
URL_VAR = "PAGEINDEX_BASE_URL"
CONFIG_URL_KEY = "pageindex_base_url"
MAX_DEPTH = 64
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
MAX_RETRY_AFTER = 120.0  # seconds; a longer Retry-After is cut to this
MAX_BACKOFF = 30.0

_NAME_KEYS = ("name", "title", "doc_name", "file_name", "filename")
_DESCRIPTION_KEYS = ("description", "doc_description", "summary")
_PAGE_COUNT_KEYS = ("pageNum", "page_num", "page_count", "pageCount", "num_pages", "pages")
_TITLE_KEYS = ("title", "name")
_START_KEYS = ("page_index", "start_index", "start_page", "page")
_END_KEYS = ("end_index", "end_page", "page_end", "last_page")
_SUMMARY_KEYS = ("prefix_summary", "summary")
_CHILD_KEYS = ("nodes", "children")
_PAGE_NUMBER_KEYS = ("page_index", "page", "page_number")
_PAGE_TEXT_KEYS = ("markdown", "text", "content")


class CloudError(WikismithError):
    """A PageIndex Cloud document that cannot be imported. `str()` is one line: the document, then the reason."""

    exit_code = 1

    def __init__(self, doc_id: str | None, reason: str):
        self.doc_id = doc_id
        self.reason = " ".join(str(reason).split()) or "import failed"
        label = "pageindex-cloud" if not doc_id else f"pageindex-cloud:{_printable(doc_id)}"
        super().__init__(f"{label}: {self.reason}")

    def __reduce__(self):
        return (type(self), (self.doc_id, self.reason))


@dataclass
class CloudDocument:
    doc_id: str
    name: str
    description: str
    page_count: int
    converted: ConvertedDocument
    content_hash: str  # sha256 (hex) of the page texts and the tree, see `content_hash`


class PageIndexClient:
    def __init__(self, api_key: str | None, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 30.0,
                 max_retries: int = 4, backoff_base: float = 0.5, sleep: Callable[[float], Any] = time.sleep):
        parts = urllib.parse.urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CloudError(None, f"the PageIndex base URL must be an http(s) URL, got {base_url!r}")
        self._api_key = (api_key or "").strip() or None
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = float(backoff_base)
        self._sleep = sleep
        # No redirects: following one would carry the api_key header to wherever the server points.
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        key = "set" if self._api_key else "missing"
        return f"PageIndexClient(base_url={self.base_url!r}, api_key={key})"

    def fetch(self, doc_id: str) -> CloudDocument:
        """The document `doc_id`, converted; CloudError for anything that keeps it from being imported."""
        if not isinstance(doc_id, str) or not doc_id.strip() or any(not ch.isprintable() for ch in doc_id):
            raise CloudError(None, f"not a document id: {doc_id!r}")
        doc_id = doc_id.strip()
        if self._api_key is None:
            raise CloudError(doc_id, _missing_key_reason())
        quoted = urllib.parse.quote(doc_id, safe="")

        meta = _unwrap_object(self._get_json(doc_id, f"/doc/{quoted}/metadata/", "metadata"), doc_id, "metadata")
        _check_status(doc_id, meta, required=True)
        name = _first_text(meta, _NAME_KEYS) or doc_id
        description = _first_text(meta, _DESCRIPTION_KEYS)
        meta_count = _page_count(doc_id, meta)

        tree_body = self._get_json(doc_id, f"/doc/{quoted}/?type=tree&summary=true&include_text=false", "tree")
        if isinstance(tree_body, dict):
            _check_status(doc_id, tree_body, required=False)
        raw_tree = _unwrap_list(tree_body, ("result", "tree", "structure", "nodes", "data"), doc_id, "tree")

        ocr_body = self._get_json(doc_id, f"/doc/{quoted}/?type=ocr&format=page", "page texts")
        if isinstance(ocr_body, dict):
            _check_status(doc_id, ocr_body, required=False)
        raw_pages = _unwrap_list(ocr_body, ("result", "pages", "data"), doc_id, "page texts")

        return build_document(doc_id, name, description, meta_count, raw_tree, raw_pages)

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def _get_json(self, doc_id: str, path: str, what: str) -> Any:
        body = self._get(doc_id, path, what)
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise CloudError(doc_id, f"malformed JSON in the {what} response") from None

    def _get(self, doc_id: str, path: str, what: str) -> bytes:
        url = self.base_url + path
        attempts = self.max_retries + 1
        last = ""
        for attempt in range(attempts):
            request = urllib.request.Request(url, method="GET", headers={
                "api_key": self._api_key or "", "Accept": "application/json", "User-Agent": "wikismith"})
            delay: float | None = None
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return _read_capped(response, doc_id, what)
            except urllib.error.HTTPError as exc:
                status = exc.code
                detail = self._detail(exc)
                exc.close()
                if status == 429 or 500 <= status <= 599:
                    last = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
                    delay = retry.retry_after(exc.headers, MAX_RETRY_AFTER)
                else:
                    raise CloudError(doc_id, self._status_reason(status, what, detail)) from None
            except (TimeoutError, socket.timeout):
                last = f"timed out after {self.timeout:g} s"
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    last = f"timed out after {self.timeout:g} s"
                elif isinstance(exc.reason, (ConnectionResetError, ConnectionAbortedError)):
                    last = "the connection was reset"
                else:
                    raise CloudError(doc_id, f"cannot reach {self.base_url}: {self._scrub(str(exc.reason))}") from None
            except (ConnectionResetError, ConnectionAbortedError, HTTPException) as exc:
                last = f"the connection failed ({type(exc).__name__})"
            if attempt + 1 < attempts:
                if delay is None:
                    delay = retry.backoff(attempt, self.backoff_base, MAX_BACKOFF, jitter=False)
                self._sleep(delay)
        tries = "attempt" if attempts == 1 else "attempts"
        raise CloudError(doc_id, f"{what} request failed: {last} ({attempts} {tries})")

    def _status_reason(self, status: int, what: str, detail: str) -> str:
        if status in (401, 403):
            return f"the API key was refused (HTTP {status}); check {KEY_VAR}"
        if status == 402:
            return "the PageIndex usage limit is reached (HTTP 402); check your plan or credits"
        if status == 404:
            return "no such document (HTTP 404)"
        if 300 <= status < 400:
            return f"unexpected redirect (HTTP {status}) on the {what} request"
        return f"{what} request failed (HTTP {status})" + (f": {detail}" if detail else "")

    def _detail(self, exc: urllib.error.HTTPError) -> str:
        """A short, key-free reason from an error body (`detail`, `message` or `error`), or ""."""
        try:
            data = json.loads(exc.read(64 * 1024).decode("utf-8"))
        except Exception:
            return ""
        if isinstance(data, dict):
            for key in ("detail", "message", "error"):
                value = data.get(key)
                if isinstance(value, dict):
                    value = value.get("message")
                if isinstance(value, str) and value.strip():
                    text = self._scrub(" ".join(value.split()))
                    return text[:200] + ("…" if len(text) > 200 else "")
        return ""

    def _scrub(self, text: str) -> str:
        return retry.scrub(text, self._api_key)


def client_from(config: Mapping[str, Any], env: Mapping[str, str], **options: Any) -> PageIndexClient:
    """A client from the KB's config and an environment (os.environ merged with the KB's .env).

    Key: PAGEINDEX_API_KEY (required). Base URL: config `pageindex_base_url` > PAGEINDEX_BASE_URL > the default.
    `options` go to PageIndexClient (timeout, max_retries, backoff_base, sleep).
    """
    key = (env.get(KEY_VAR) or "").strip()
    if not key:
        raise CloudError(None, _missing_key_reason())
    configured = config.get(CONFIG_URL_KEY)
    base_url = (configured.strip() if isinstance(configured, str) else "") or (env.get(URL_VAR) or "").strip()
    return PageIndexClient(key, base_url or DEFAULT_BASE_URL, **options)


# -- building the document ------------------------------------------------------------------------------------


def build_document(doc_id: str, name: str, description: str, page_count: int | None, raw_tree: list,
                   raw_pages: list) -> CloudDocument:
    """The CloudDocument from already decoded responses (exposed for tests and for re-building from a cache)."""
    texts = _page_texts(doc_id, raw_pages)
    warnings: list[str] = []
    count = page_count or 0
    if not count:
        count = max([*texts, *_tree_pages(raw_tree)], default=0)
    if count < 1:
        raise CloudError(doc_id, "the document has no pages")
    beyond = sorted(page for page in texts if page > count)
    if beyond:
        raise CloudError(doc_id, f"page texts list page {beyond[0]}, but the document has {count} pages")
    missing = [page for page in range(1, count + 1) if page not in texts]
    if missing:
        warnings.append(f"no text for {len(missing)} of {count} pages (first: page {missing[0]})")
    pages = [texts.get(page, "") for page in range(1, count + 1)]
    if not any(page.strip() for page in pages):
        warnings.append("no page text")

    root, synthetic = _build_tree(doc_id, raw_tree, count, name)
    root.summary = description
    outline = [OutlineEntry(level, node.title, node.first_page)
               for node, level in _with_levels(root) if node.id != "root" and node.id not in synthetic]
    markdown = "\n\n".join(f"<!-- page {number} -->\n\n{text}".rstrip() for number, text in enumerate(pages, 1))
    converted = ConvertedDocument(title=name, kind="pageindex", markdown=markdown + "\n", pages=pages,
                                  outline=outline, tree=root, warnings=warnings, page_count=count, tree_unit="page")
    return CloudDocument(doc_id=doc_id, name=name, description=description, page_count=count,
                         converted=converted, content_hash=content_hash(pages, root))


def content_hash(pages: list[str], tree: TreeNode) -> str:
    """sha256 of canonical JSON of the page texts and the tree (titles, ranges, summaries, children)."""
    canonical = json.dumps({"format": "wikismith-pageindex/1", "pages": pages, "tree": tree.to_dict()},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class _Node:
    title: str
    start: int
    summary: str
    children: list["_Node"]


def _build_tree(doc_id: str, raw: list, count: int, title: str) -> tuple[TreeNode, set[str]]:
    nodes = _parse_nodes(doc_id, raw, count, depth=1)
    root = TreeNode("root", title, 1, count)
    synthetic: set[str] = set()
    root.children = _assign(nodes, 1, count, "", "Front matter", synthetic)
    return root, synthetic


def _parse_nodes(doc_id: str, raw: Any, count: int, depth: int) -> list[_Node]:
    if depth > MAX_DEPTH:
        raise CloudError(doc_id, f"malformed tree: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, list):
        raise CloudError(doc_id, f"malformed tree: expected a list of nodes, got {_kind(raw)}")
    nodes = []
    for item in raw:
        if not isinstance(item, dict):
            raise CloudError(doc_id, f"malformed tree: a node is {_kind(item)}, not an object")
        title = _first_text(item, _TITLE_KEYS).strip()
        if not title:
            raise CloudError(doc_id, "malformed tree: a node has no title")
        shown = _short(title)
        start = _first_present(item, _START_KEYS)
        if start is None:
            raise CloudError(doc_id, f"malformed tree: node {shown!r} has no page_index")
        start = _whole(start)
        if start is None or not 1 <= start <= count:
            raise CloudError(doc_id, f"malformed tree: node {shown!r} starts at page "
                                     f"{_short(str(_first_present(item, _START_KEYS)))}, outside 1..{count}")
        end = _first_present(item, _END_KEYS)
        if end is not None and (_whole(end) is None or _whole(end) < start):
            raise CloudError(doc_id, f"malformed tree: node {shown!r} has an invalid end page")
        summary = _first_present(item, _SUMMARY_KEYS)
        if summary is not None and not isinstance(summary, str):
            raise CloudError(doc_id, f"malformed tree: node {shown!r} has a summary that is not text")
        raw_children = _first_present(item, _CHILD_KEYS)
        children = _parse_nodes(doc_id, raw_children, count, depth + 1) if raw_children is not None else []
        nodes.append(_Node(title, start, (summary or "").strip(), children))
    return nodes


def _assign(nodes: list[_Node], first: int, last: int, prefix: str, lead_title: str,
            synthetic: set[str]) -> list[TreeNode]:
    groups: list[tuple[int, list[_Node]]] = []
    for node in sorted(nodes, key=lambda n: n.start):  # stable: document order among equal starts
        start = min(max(node.start, first), last)
        if groups and groups[-1][0] == start:
            groups[-1][1].append(node)
        else:
            groups.append((start, [node]))
    spans: list[tuple[int, int, list[_Node]]] = []
    if groups and groups[0][0] > first:
        spans.append((first, groups[0][0] - 1, []))
    for index, (start, members) in enumerate(groups):
        end = groups[index + 1][0] - 1 if index + 1 < len(groups) else last
        spans.append((start, end, members))
    result = []
    for position, (start, end, members) in enumerate(spans, 1):
        node_id = f"{prefix}.{position:04d}" if prefix else f"{position:04d}"
        if not members:
            synthetic.add(node_id)
            result.append(TreeNode(node_id, lead_title, start, end))
            continue
        titles = list(dict.fromkeys(member.title for member in members))
        summaries = [member.summary for member in members if member.summary]
        node = TreeNode(node_id, " / ".join(titles), start, end, "\n\n".join(summaries))
        children = [child for member in members for child in member.children]
        if children:
            node.children = _assign(children, start, end, node_id, "Introduction", synthetic)
        result.append(node)
    return result


def _with_levels(root: TreeNode, level: int = 0):
    yield root, level
    for child in root.children:
        yield from _with_levels(child, level + 1)


def _tree_pages(raw: Any, depth: int = 1) -> list[int]:
    """Start and end pages named in a raw tree (to infer a page count the metadata lacks); bad values skipped."""
    found: list[int] = []
    if depth > MAX_DEPTH or not isinstance(raw, list):
        return found
    for item in raw:
        if isinstance(item, dict):
            for keys in (_START_KEYS, _END_KEYS):
                value = _whole(_first_present(item, keys))
                if value is not None and value > 0:
                    found.append(value)
            found.extend(_tree_pages(_first_present(item, _CHILD_KEYS), depth + 1))
    return found


def _page_texts(doc_id: str, raw: list) -> dict[int, str]:
    texts: dict[int, str] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise CloudError(doc_id, f"malformed page texts: an entry is {_kind(item)}, not an object")
        number = _whole(_first_present(item, _PAGE_NUMBER_KEYS))
        if number is None or number < 1:
            raise CloudError(doc_id, "malformed page texts: an entry has no valid page number")
        text = _first_present(item, _PAGE_TEXT_KEYS)
        if text is not None and not isinstance(text, str):
            raise CloudError(doc_id, f"malformed page texts: the text of page {number} is not text")
        if number in texts:
            raise CloudError(doc_id, f"malformed page texts: page {number} is listed twice")
        texts[number] = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return texts


# -- small helpers --------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises the 3xx as an HTTPError


def _read_capped(response, doc_id: str, what: str) -> bytes:
    body = response.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise CloudError(doc_id, f"the {what} response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB")
    return body


def _check_status(doc_id: str, body: dict, *, required: bool) -> None:
    status = body.get("status")
    if status is None and not required:
        return
    if not isinstance(status, str) or not status.strip():
        raise CloudError(doc_id, "malformed metadata: no status")
    shown = _short(" ".join(status.split()))
    lowered = status.strip().lower()
    if lowered == "completed":
        return
    if lowered in ("failed", "error", "errored"):
        raise CloudError(doc_id, f"PageIndex could not process the document (status: {shown})")
    raise CloudError(doc_id, f"still processing (status: {shown}); try again later")


def _unwrap_object(body: Any, doc_id: str, what: str) -> dict:
    if isinstance(body, dict):
        for key in ("result", "data"):
            inner = body.get(key)
            if isinstance(inner, dict) and "status" not in body:
                return inner
        return body
    raise CloudError(doc_id, f"malformed {what}: expected an object, got {_kind(body)}")


def _unwrap_list(body: Any, keys: tuple[str, ...], doc_id: str, what: str) -> list:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), list):
                return body[key]
    raise CloudError(doc_id, f"malformed {what}: expected a list, got {_kind(body)}")


def _page_count(doc_id: str, meta: dict) -> int | None:
    raw = _first_present(meta, _PAGE_COUNT_KEYS)
    if raw is None:
        return None
    count = _whole(raw)
    if count is None or count < 0:
        raise CloudError(doc_id, "malformed metadata: the page count is not a whole number")
    return count or None


def _first_present(obj: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if obj.get(key) is not None:
            return obj[key]
    return None


def _first_text(obj: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _whole(value: Any) -> int | None:
    """A whole number from an int, an integral float or a digit string; None otherwise (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _short(text: str, limit: int = 80) -> str:
    text = _printable(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _missing_key_reason() -> str:
    return f"no PageIndex API key: set {KEY_VAR} in the environment or in the KB's .env file"
