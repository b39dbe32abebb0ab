"""URL fetch: schemes, the SSRF guard (every hop), redirects, size cap, timeouts, sniffing, naming.

A real ThreadingHTTPServer on 127.0.0.1 (ephemeral port) serves the routes; nothing else is ever contacted.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest

from wikismith.errors import WikismithError
from wikismith.ingest import netguard
from wikismith.ingest.fetch import Fetched, FetchError, fetch, safe_filename, sniff_kind
from wikismith.ingest.netguard import BlockedAddress, check_address

PDF_PATH = "/work/shared/corpus/pdf/minimal-document.pdf"
with open(PDF_PATH, "rb") as _handle:
    PDF = _handle.read()
ARTICLE = (b"<!DOCTYPE html>\n<html><head><title>Hello</title></head><body><article><h1>Hello</h1>"
           b"<p>Some words.</p></article></body></html>\n")
TEXT = b"Plain text notes.\nSecond line.\n"
CAP = 64 * 1024
BIG = b"x" * (3 * CAP)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

STALL = threading.Event()  # set at teardown so that stalled handlers end at once


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", ctype="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location, status=302):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # noqa: C901 - a route table
        path = self.path
        port = self.server.server_address[1]
        if path == "/articles/hello-world":
            self._send(200, ARTICLE, "text/html; charset=utf-8")
        elif path == "/mislabelled":
            self._send(200, ARTICLE, "application/octet-stream")
        elif path == "/papers/minimal":
            self._send(200, PDF, "application/octet-stream")
        elif path == "/download?id=7":
            self._send(200, PDF, "application/pdf",
                       [("Content-Disposition", 'attachment; filename="../../evil name.PDF"')])
        elif path == "/notes.txt":
            self._send(200, TEXT, "text/plain; charset=utf-8")
        elif path == "/readme.md":
            self._send(200, b"# Title\n\nBody.\n", "text/markdown")
        elif path == "/image.png":
            self._send(200, PNG, "image/png")
        elif path == "/host":
            self._send(200, self.headers.get("Host", "").encode(), "text/plain")
        elif path.startswith("/chain/"):  # /chain/N redirects N times, then serves the text
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                self._send(200, TEXT, "text/plain")
            elif left % 2:
                self._redirect(f"/chain/{left - 1}", 301)  # relative Location
            else:
                self._redirect(f"http://127.0.0.1:{port}/chain/{left - 1}", 307)
        elif path == "/to-localhost":
            self._redirect(f"http://localhost:{port}/notes.txt")
        elif path == "/to-public":
            self._redirect(f"http://public.test:{port}/notes.txt")
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/missing":
            self._send(404, b"not here")
        elif path == "/error":
            self._send(503, b"down")
        elif path == "/big-cl":  # an honest Content-Length over the cap
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(BIG)))
            self.end_headers()
            try:
                self.wfile.write(BIG)
            except OSError:
                pass
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for start in range(0, len(BIG), 8192):
                    piece = BIG[start:start + 8192]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
        elif path == "/big-stream":  # no length at all: the body ends when the connection closes
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for start in range(0, len(BIG), 8192):
                    self.wfile.write(BIG[start:start + 8192])
            except OSError:
                pass
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"partial body")
            self.wfile.flush()
            STALL.wait(10)
        elif path == "/stall-headers":
            STALL.wait(10)
        else:
            self._send(404, b"no route")


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # clients that hang up on purpose (cap, timeout, bad certificate) are expected here


@pytest.fixture(scope="module")
def server():
    STALL.clear()
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.server_address[1]
    STALL.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server):
    return server[0]


@pytest.fixture
def port(server):
    return server[1]


def local_fetch(url, dest, **kwargs):
    kwargs.setdefault("allow_private", True)
    kwargs.setdefault("max_bytes", CAP)
    kwargs.setdefault("connect_timeout", 2.0)
    kwargs.setdefault("read_timeout", 2.0)
    return fetch(url, str(dest), **kwargs)


def files_in(dest):
    return sorted(os.listdir(dest)) if os.path.isdir(dest) else []


# --- successful fetches ------------------------------------------------------------------------------------


def test_article_html(base, tmp_path):
    got = local_fetch(f"{base}/articles/hello-world", tmp_path)
    assert isinstance(got, Fetched)
    assert got.kind == "html"
    assert got.content_type == "text/html; charset=utf-8"
    assert got.size == len(ARTICLE)
    assert got.sha256 == hashlib.sha256(ARTICLE).hexdigest()
    assert got.path == str(tmp_path / f"{got.sha256}.html")
    assert open(got.path, "rb").read() == ARTICLE
    assert got.filename == "hello-world.html"
    assert got.url == got.final_url == f"{base}/articles/hello-world"
    assert files_in(tmp_path) == [f"{got.sha256}.html"]  # no temp file left


def test_pdf_sniffed_by_magic_despite_declared_type(base, tmp_path):
    got = local_fetch(f"{base}/papers/minimal", tmp_path)
    assert got.kind == "pdf"
    assert got.filename == "minimal.pdf"
    assert got.path.endswith(".pdf")
    assert open(got.path, "rb").read() == PDF


def test_html_sniffed_from_body_markers(base, tmp_path):
    assert local_fetch(f"{base}/mislabelled", tmp_path).kind == "html"


def test_plain_text_and_markdown(base, tmp_path):
    got = local_fetch(f"{base}/notes.txt", tmp_path)
    assert (got.kind, got.filename, open(got.path, "rb").read()) == ("text", "notes.txt", TEXT)
    md = local_fetch(f"{base}/readme.md", tmp_path)
    assert (md.kind, md.filename) == ("text", "readme.md")


def test_content_disposition_name_is_made_safe(base, tmp_path):
    got = local_fetch(f"{base}/download?id=7", tmp_path)
    assert got.kind == "pdf"
    assert got.filename == "evil_name.pdf"


def test_unknown_content_type_is_refused(base, tmp_path):
    with pytest.raises(FetchError, match="image/png"):
        local_fetch(f"{base}/image.png", tmp_path)
    assert files_in(tmp_path) == []


def test_same_url_twice_gives_the_same_file(base, tmp_path):
    first = local_fetch(f"{base}/notes.txt", tmp_path)
    second = local_fetch(f"{base}/notes.txt", tmp_path)
    assert first.path == second.path
    assert files_in(tmp_path) == [os.path.basename(first.path)]


def test_write_hook_receives_the_whole_body_at_the_final_name(base, tmp_path):
    calls = []

    def write(path, chunks):
        calls.append((path, b"".join(chunks)))

    got = local_fetch(f"{base}/papers/minimal", tmp_path / "downloads", write=write)
    assert calls == [(got.path, PDF)]
    assert got.path == str(tmp_path / "downloads" / f"{hashlib.sha256(PDF).hexdigest()}.pdf")
    assert not (tmp_path / "downloads").exists()  # fetch itself wrote nothing


def test_write_hook_never_called_for_a_failed_download(base, tmp_path):
    calls = []
    with pytest.raises(FetchError):
        local_fetch(f"{base}/big-chunked", tmp_path, write=lambda p, c: calls.append(p))
    assert calls == []


def test_connects_to_the_resolved_address_with_the_original_host_header(port, tmp_path):
    lookups = []

    def resolver(host, p):
        lookups.append((host, p))
        return ["127.0.0.1"]

    got = local_fetch(f"http://wiki.example.test:{port}/host", tmp_path, resolver=resolver)
    assert open(got.path, "rb").read() == f"wiki.example.test:{port}".encode()
    assert lookups == [("wiki.example.test", port)]  # resolved once; the connection used that address


# --- schemes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, scheme", [
    ("file:///etc/passwd", "'file:'"),
    ("ftp://example.com/a.pdf", "'ftp:'"),
    ("data:text/plain,hello", "'data:'"),
    ("javascript:alert(1)", "'javascript:'"),
    ("example.com/page", "no scheme"),
])
def test_only_http_and_https(url, scheme, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch(url, str(tmp_path), allow_private=True)
    message = str(info.value)
    assert scheme in message and url in message and "\n" not in message
    assert info.value.exit_code == 1 and isinstance(info.value, WikismithError)


def test_redirect_to_another_scheme_is_refused(base, tmp_path):
    with pytest.raises(FetchError, match="'file:'"):
        local_fetch(f"{base}/to-file", tmp_path)


# --- SSRF guard ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "169.254.169.254",
    "224.0.0.1", "255.255.255.255", "240.0.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::1", "64:ff9b::a9fe:a9fe", "fe80::1%eth0",
])
def test_check_address_refuses_non_public(ip):
    with pytest.raises(BlockedAddress):
        check_address(ip, allow_private=False)
    assert not netguard.is_public(ip)
    check_address(ip, allow_private=True)  # lifted


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"])
def test_check_address_allows_public(ip):
    check_address(ip)
    assert netguard.is_public(ip)


@pytest.mark.parametrize("host", ["127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "[::ffff:7f00:1]"])
def test_odd_ipv4_literals_are_read_as_what_they_mean(host):
    assert netguard.resolve(host, 80, resolver=lambda h, p: pytest.fail("literal looked up")) in (
        ["127.0.0.1"], ["::ffff:7f00:1"])
    assert not netguard.is_public(netguard.resolve(host, 80)[0])


def test_loopback_literal_refused_without_allow_private(port, tmp_path):
    with pytest.raises(FetchError, match="loopback") as info:
        fetch(f"http://127.0.0.1:{port}/notes.txt", str(tmp_path))
    assert "allow-private" in str(info.value)
    with pytest.raises(FetchError, match="loopback"):
        fetch(f"http://0x7f.1:{port}/notes.txt", str(tmp_path))
    with pytest.raises(FetchError, match="loopback"):
        fetch(f"http://[::ffff:127.0.0.1]:{port}/notes.txt", str(tmp_path))
    assert files_in(tmp_path) == []


def test_host_resolving_to_loopback_refused_without_allow_private(port, tmp_path):
    resolver = lambda host, p: {"sneaky.test": ["127.0.0.1"]}[host]  # noqa: E731
    with pytest.raises(FetchError, match="sneaky.test resolves to a loopback"):
        fetch(f"http://sneaky.test:{port}/notes.txt", str(tmp_path), resolver=resolver)
    # ... and fetched when the user lifts the guard
    assert local_fetch(f"http://sneaky.test:{port}/notes.txt", tmp_path, resolver=resolver).kind == "text"


def test_one_private_address_among_public_ones_is_enough_to_refuse(port, tmp_path):
    resolver = lambda host, p: ["93.184.216.34", "10.0.0.7"]  # noqa: E731
    with pytest.raises(FetchError, match="private address 10.0.0.7"):
        fetch(f"http://mixed.test:{port}/", str(tmp_path), resolver=resolver)


# The server lives on 127.0.0.1, so a "public" first hop is simulated: the resolver maps public.test (and localhost)
# to 127.0.0.1, and the address policy treats 127.0.0.1 as public for the host public.test only. Everything else
# goes through the real guard. If redirect targets were not checked again, the first test would succeed.
RESOLVE_LOCAL = {"public.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]}


def public_test_only(host, ip):
    return host == "public.test" or netguard.is_public(ip)


def test_redirect_from_public_first_hop_to_private_address_is_refused(port, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch(f"http://public.test:{port}/to-localhost", str(tmp_path), resolver=lambda h, p: RESOLVE_LOCAL[h],
              address_allowed=public_test_only, connect_timeout=2, read_timeout=2)
    message = str(info.value)
    assert "redirect to http://localhost:" in message and "loopback" in message
    assert files_in(tmp_path) == []


def test_redirect_within_the_public_host_is_followed(port, tmp_path):
    # the control for the test above: the simulated public host itself works, hop after hop
    got = fetch(f"http://public.test:{port}/to-public", str(tmp_path), resolver=lambda h, p: RESOLVE_LOCAL[h],
                address_allowed=public_test_only, connect_timeout=2, read_timeout=2)
    assert got.final_url == f"http://public.test:{port}/notes.txt"
    assert got.kind == "text"


def test_every_hop_is_resolved_and_checked(port, tmp_path):
    seen = []

    def allowed(host, ip):
        seen.append((host, ip))
        return True

    fetch(f"http://public.test:{port}/to-localhost", str(tmp_path), resolver=lambda h, p: RESOLVE_LOCAL[h],
          address_allowed=allowed)
    assert seen == [("public.test", "127.0.0.1"), ("localhost", "127.0.0.1")]


# --- redirects, HTTP errors ----------------------------------------------------------------------------------


def test_redirect_chain_of_three(base, tmp_path):
    got = local_fetch(f"{base}/chain/3", tmp_path)
    assert got.final_url == f"{base}/chain/0"
    assert got.url == f"{base}/chain/3"
    assert open(got.path, "rb").read() == TEXT


def test_five_redirects_allowed_six_refused(base, tmp_path):
    assert local_fetch(f"{base}/chain/5", tmp_path).final_url == f"{base}/chain/0"
    with pytest.raises(FetchError, match="too many redirects"):
        local_fetch(f"{base}/chain/6", tmp_path)
    with pytest.raises(FetchError, match="too many redirects"):
        local_fetch(f"{base}/chain/2", tmp_path, max_redirects=1)


@pytest.mark.parametrize("route, status", [("/missing", "HTTP 404"), ("/error", "HTTP 503")])
def test_http_errors(base, tmp_path, route, status):
    with pytest.raises(FetchError, match=status) as info:
        local_fetch(base + route, tmp_path)
    assert base + route in str(info.value)
    assert files_in(tmp_path) == []


def test_connection_refused(tmp_path):
    import socket

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with pytest.raises(FetchError, match="cannot connect"):
        local_fetch(f"http://127.0.0.1:{free}/", tmp_path)


# --- size cap and timeouts -----------------------------------------------------------------------------------


def test_content_length_over_the_cap_refused_before_reading(base, tmp_path):
    with pytest.raises(FetchError, match="Content-Length"):
        local_fetch(f"{base}/big-cl", tmp_path)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("route", ["/big-chunked", "/big-stream"])
def test_body_over_the_cap_cut_off_while_streaming(base, tmp_path, route):
    with pytest.raises(FetchError, match="limit"):
        local_fetch(base + route, tmp_path)
    assert files_in(tmp_path) == []  # the partial file is removed


def test_body_at_the_cap_is_fine(base, tmp_path):
    assert local_fetch(f"{base}/big-chunked", tmp_path, max_bytes=len(BIG)).size == len(BIG)


def test_stall_mid_body_times_out(base, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        local_fetch(f"{base}/stall", tmp_path, read_timeout=0.5)
    assert time.monotonic() - started < 3
    assert files_in(tmp_path) == []


def test_stall_before_headers_times_out(base, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        local_fetch(f"{base}/stall-headers", tmp_path, read_timeout=0.5)
    assert time.monotonic() - started < 3


# --- https: the certificate is checked against the host name -------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_https_with_an_untrusted_certificate_is_refused(tmp_path):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=secure.test"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(FetchError, match="certificate"):
            local_fetch(f"https://secure.test:{httpd.server_address[1]}/notes.txt", tmp_path / "dl",
                        resolver=lambda h, p: ["127.0.0.1"])
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- pure helpers --------------------------------------------------------------------------------------------


def test_sniff_order():
    assert sniff_kind(b"%PDF-1.7 <html>", "text/html") == "pdf"
    assert sniff_kind(b"  <!DocType HTML><p>", "text/plain") == "html"
    assert sniff_kind(b"<BODY>hi", "") == "html"
    assert sniff_kind(b"hello", "text/markdown; charset=utf-8") == "text"
    assert sniff_kind(b"hello", "Application/PDF") == "pdf"
    assert sniff_kind(b"hello", "application/json") is None


def test_safe_filename():
    assert safe_filename("http://h/a/b/My%20Paper.pdf", None, "pdf") == "My_Paper.pdf"
    assert safe_filename("http://h/a/report", None, "pdf") == "report.pdf"
    assert safe_filename("http://h/page.php?x=1", None, "html") == "page.php.html"
    assert safe_filename("http://example.org/", None, "html") == "example.org.html"
    assert safe_filename("http://h/x", "attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt", "text") == "\u00e9t\u00e9.txt"
    assert safe_filename("http://h/..", None, "text") == "download.txt"
    assert safe_filename("http://h/x", 'attachment; filename="a\\\\..\\\\b c;.md"', "text") == "b_c.md"
    long = safe_filename("http://h/" + "a" * 300, None, "html")
    assert len(long) <= 100 and long.endswith(".html")
