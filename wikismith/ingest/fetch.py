"""Download one URL for `wikismith add URL`: http(s) only, guarded against SSRF, bounded in size and time.

`fetch` is a pure library function: it never touches `raw/` or the registry. It writes the body into `dest_dir`
(the KB's `.wikismith/downloads/`) under `<sha256><ext>`, either itself (temp file + rename) or through the
caller's `write(path, chunks)`.
"""

from __future__ import annotations

import email.message
import hashlib
import http.client
import os
import re
import socket
import ssl
import tempfile
import unicodedata
import urllib.parse
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from wikismith import __version__
from wikismith.errors import WikismithError
from wikismith.ingest import netguard
from wikismith.ingest.sniff import magic_kind

CHUNK = 64 * 1024
SNIFF_BYTES = 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
EXTENSIONS = {"pdf": (".pdf",), "html": (".html", ".htm", ".xhtml"), "text": (".txt", ".md", ".markdown", ".text")}
DECLARED_KINDS = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "text",
    "text/x-markdown": "text",
}
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


class FetchError(WikismithError):
    """A URL that could not be fetched; the one-line message names the URL and the reason."""

    exit_code = 1

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = " ".join(str(reason).split())
        super().__init__(f"cannot fetch {url}: {self.reason}")


@dataclass
class Fetched:
    url: str  # the URL asked for
    final_url: str  # after redirects
    kind: str  # "pdf", "html" or "text"
    content_type: str  # the declared Content-Type header, as sent ("" when absent)
    size: int
    sha256: str
    path: str  # dest_dir/<sha256><ext>
    filename: str  # a safe name for raw/, with an extension matching kind


Writer = Callable[[str, Iterable[bytes]], None]
AddressPredicate = Callable[[str, str], bool]


def fetch(
    url: str,
    dest_dir: str,
    *,
    allow_private: bool = False,
    max_bytes: int = 100 * 1024 * 1024,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    max_redirects: int = 5,
    write: Writer | None = None,
    resolver: netguard.Resolver | None = None,
    address_allowed: AddressPredicate | None = None,
) -> Fetched:
    """Fetch `url` into `dest_dir` and describe the download; raise FetchError on any failure.

    Every hop (the URL and each redirect target) is checked: scheme http/https, the host resolved once (by
    `resolver(host, port)`, default getaddrinfo) and refused if any address is loopback, private, link-local,
    multicast, reserved or unspecified unless `allow_private`; the connection then goes to a checked address
    itself with the original Host header (and, for https, SNI and certificate check against the host name).
    `address_allowed(host, ip)` replaces that policy (tests use it to mark one host as public).

    The body is read with `read_timeout` per read and refused beyond `max_bytes` (by Content-Length before
    reading, else while streaming). With `write` None it goes to a temp file in `dest_dir` renamed to
    `<sha256><ext>` when complete (a partial file is removed). With `write` given, the body is first spooled to an
    anonymous temp file outside the KB (so the KB never sees a partial body) and then handed over as
    `write(dest_dir/<sha256><ext>, chunks)`; the caller must make that write atomic.
    """
    if address_allowed is None:
        address_allowed = lambda host, ip: allow_private or netguard.is_public(ip)  # noqa: E731
    current = url
    redirects = 0
    while True:
        hop = _Hop.parse(url, current)
        connection, response = _open(url, hop, address_allowed, resolver, connect_timeout, read_timeout)
        try:
            status = response.status
            if status in REDIRECT_STATUSES:
                location = (response.getheader("Location") or "").strip()
                if not location:
                    raise FetchError(url, f"HTTP {status} redirect without a Location header")
                if redirects >= max_redirects:
                    raise FetchError(url, f"too many redirects (more than {max_redirects})")
                redirects += 1
                current = urllib.parse.urljoin(current, location)
                continue
            if not 200 <= status < 300:
                reason = f"HTTP {status} {response.reason or ''}".strip()
                raise FetchError(url, reason + (f" (from {current})" if current != url else ""))
            return _receive(url, current, response, dest_dir, max_bytes=max_bytes, read_timeout=read_timeout,
                            write=write)
        finally:
            connection.close()


# --- one hop -------------------------------------------------------------------------------------------------


@dataclass
class _Hop:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    target: str  # path and query, as sent in the request line

    @classmethod
    def parse(cls, asked: str, url: str) -> "_Hop":
        where = "" if url == asked else f"redirect to {url}: "
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchError(asked, f"{where}malformed URL ({exc})") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise FetchError(asked, f"{where}no scheme (only http and https URLs can be fetched)")
        if scheme not in ("http", "https"):
            raise FetchError(asked, f"{where}unsupported scheme '{scheme}:' (only http and https)")
        host = parts.hostname or ""
        if not host:
            raise FetchError(asked, f"{where}no host in the URL")
        if netguard.parse_ip(host) is None:
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise FetchError(asked, f"{where}invalid host name {host!r}") from None
        target = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            target += "?" + urllib.parse.quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        return cls(url, scheme, host, port or (443 if scheme == "https" else 80), target)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed, already checked IP address that still speaks to `host` (Host header)."""

    def __init__(self, host: str, port: int, ip: str, connect_timeout: float, read_timeout: float):
        super().__init__(host, port, timeout=connect_timeout)
        self._ip = ip
        self._read_timeout = read_timeout

    def _pinned_socket(self) -> socket.socket:
        return socket.create_connection((self._ip, self.port), timeout=self.timeout)

    def connect(self) -> None:
        sock = self._pinned_socket()
        sock.settimeout(self._read_timeout)
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(self, host: str, port: int, ip: str, connect_timeout: float, read_timeout: float,
                 context: ssl.SSLContext | None = None):
        super().__init__(host, port, ip, connect_timeout, read_timeout)
        self._context = context or ssl.create_default_context()

    def connect(self) -> None:
        sock = self._pinned_socket()  # the handshake runs under the connect timeout
        try:
            tls = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        tls.settimeout(self._read_timeout)
        self.sock = tls


def _open(asked: str, hop: _Hop, address_allowed: AddressPredicate, resolver, connect_timeout: float,
          read_timeout: float) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    where = "" if hop.url == asked else f"redirect to {hop.url}: "
    try:
        resolved = netguard.resolve(hop.host, hop.port, resolver)
    except (OSError, UnicodeError) as exc:
        raise FetchError(asked, f"{where}cannot resolve host {hop.host} ({exc})") from None
    addresses: list[str] = []
    for raw in resolved:
        parsed = netguard.parse_ip(str(raw))
        if parsed is None:
            raise FetchError(asked, f"{where}host {hop.host} resolved to {raw!r}, not an IP address")
        ip = str(parsed)
        if not address_allowed(hop.host, ip):
            problem = netguard.address_problem(parsed) or f"refused address {ip}"
            raise FetchError(asked, f"{where}host {hop.host} resolves to a {problem} (use --allow-private for "
                                    "a private network)")
        addresses.append(ip)
    if not addresses:
        raise FetchError(asked, f"{where}host {hop.host} has no address")

    last_error: Exception | None = None
    for ip in addresses:
        if hop.scheme == "https":
            connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
                hop.host, hop.port, ip, connect_timeout, read_timeout)
        else:
            connection = _PinnedHTTPConnection(hop.host, hop.port, ip, connect_timeout, read_timeout)
        try:
            connection.connect()
        except ssl.SSLError as exc:
            connection.close()
            raise FetchError(asked, f"{where}TLS failure with {hop.host} ({_describe(exc)})") from None
        except OSError as exc:
            connection.close()
            last_error = exc
            continue
        break
    else:
        raise FetchError(asked, f"{where}cannot connect to {hop.host}:{hop.port} "
                                f"({_describe(last_error, connect_timeout)})")
    try:
        connection.request("GET", hop.target, headers={
            "User-Agent": f"wikismith/{__version__}",
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        })
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise FetchError(asked, f"{where}no valid response from {hop.host} ({_describe(exc, read_timeout)})") from None
    return connection, response


def _describe(exc: BaseException | None, timeout: float | None = None) -> str:
    if isinstance(exc, TimeoutError) or isinstance(exc, socket.timeout):
        return f"timed out after {timeout:g} s" if timeout is not None else "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message or exc}"
    text = str(exc) or type(exc).__name__
    return text


# --- the body ------------------------------------------------------------------------------------------------


def _body(asked: str, response: http.client.HTTPResponse, max_bytes: int, read_timeout: float) -> Iterator[bytes]:
    total = 0
    while True:
        try:
            chunk = response.read1(CHUNK)
        except (TimeoutError, socket.timeout):
            raise FetchError(asked, f"read timed out after {read_timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(asked, f"download interrupted ({_describe(exc)})") from None
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(asked, f"body larger than the {max_bytes}-byte limit (cut off)")
        yield chunk


def _receive(asked: str, final_url: str, response: http.client.HTTPResponse, dest_dir: str, *, max_bytes: int,
             read_timeout: float, write: Writer | None) -> Fetched:
    declared = (response.getheader("Content-Type") or "").strip()
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchError(asked, f"Content-Length {int(length)} exceeds the {max_bytes}-byte limit")

    chunks = _body(asked, response, max_bytes, read_timeout)
    head: list[bytes] = []
    head_size = 0
    for chunk in chunks:
        head.append(chunk)
        head_size += len(chunk)
        if head_size >= SNIFF_BYTES:
            break
    if not head_size:
        raise FetchError(asked, "the server sent an empty body")
    kind = sniff_kind(b"".join(head)[:SNIFF_BYTES], declared)
    if kind is None:
        raise FetchError(asked, f"unsupported content type {_media_type(declared) or '(none declared)'}")
    filename = safe_filename(final_url, response.getheader("Content-Disposition"), kind)
    ext = os.path.splitext(filename)[1]

    def everything() -> Iterator[bytes]:
        yield from head
        yield from chunks

    if write is None:
        return _write_self(asked, final_url, dest_dir, everything(), declared, kind, filename, ext)
    return _write_through(asked, final_url, dest_dir, everything(), declared, kind, filename, ext, write)


def _write_self(asked, final_url, dest_dir, body, declared, kind, filename, ext) -> Fetched:
    os.makedirs(dest_dir, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=dest_dir, prefix=".fetch-", suffix=".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in body:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = os.path.join(dest_dir, sha + ext)
        os.replace(temp, final)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    return Fetched(asked, final_url, kind, declared, size, sha, final, filename)


def _write_through(asked, final_url, dest_dir, body, declared, kind, filename, ext, write: Writer) -> Fetched:
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in body:
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
        spool.seek(0)
        sha = digest.hexdigest()
        final = os.path.join(dest_dir, sha + ext)
        write(final, _replay(spool))
    return Fetched(asked, final_url, kind, declared, size, sha, final, filename)


def _replay(spool: BinaryIO) -> Iterator[bytes]:
    while True:
        chunk = spool.read(CHUNK)
        if not chunk:
            return
        yield chunk


# --- sniffing and naming -------------------------------------------------------------------------------------


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def sniff_kind(head: bytes, content_type: str) -> str | None:
    """"pdf", "html" or "text" from the first KiB (the rules of ingest/sniff.py) and then the declared type; None
    when neither says one of those."""
    magic = magic_kind(head[:SNIFF_BYTES])
    if magic in ("pdf", "html"):
        return magic
    return DECLARED_KINDS.get(_media_type(content_type))


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    message = email.message.Message()
    message["Content-Disposition"] = header
    try:
        name = message.get_filename()
    except (ValueError, LookupError):
        return None
    return name or None


def safe_filename(url: str, content_disposition: str | None, kind: str) -> str:
    """A file name for raw/: from Content-Disposition or the URL's last path segment (else its host), reduced to
    letters, digits, "._-", at most 100 characters, with an extension matching `kind`."""
    candidate = _disposition_name(content_disposition)
    if not candidate:
        parts = urllib.parse.urlsplit(url)
        segments = [s for s in urllib.parse.unquote(parts.path).split("/") if s]
        candidate = segments[-1] if segments else (parts.hostname or "download")
    candidate = unicodedata.normalize("NFC", candidate.replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_NAME.sub("_", candidate).strip("._-") or "download"
    stem, ext = os.path.splitext(name)
    if ext.lower() in EXTENSIONS[kind]:
        ext = ext.lower()
    else:
        stem, ext = name, EXTENSIONS[kind][0]
    stem = stem.strip("._-")[: 100 - len(ext)].rstrip("._-") or "download"
    return stem + ext
