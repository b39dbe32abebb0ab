"""`wikismith serve` under load: closed-loop readers (page reads and searches) on a 20,000-page KB, alone, then
while one writer adds 50 documents through the same server. Prints requests/s, p50/p95 per endpoint, errors, and
whether any reader saw half a change (a search hit whose page could not then be read); at the end the KB must hold
every added document and doctor must find nothing new.

The pages are 120 words drawn by Zipf's law from English's 20,000 commonest words (synthetic.varied_text), and a
search is two words of rank 100 to 3,000, each on 0.4% to 10% of the pages: a search on a real wiki matches some
pages, not all, and BM25's cost grows with the pages matched. Until December 2026 every page held the same 26
words, so every search matched all 20,000 pages and ranked them all (the worst case, kept as --same-words); its
figures measured that case, not a reader's.

    python bench/serve.py --json
    python bench/serve.py --pages 2000 --seconds 5      # a quick look
    python bench/serve.py --same-words                  # the worst case: every search matches every page
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import synthetic  # noqa: E402
from bench.serverwork import free_port, multipart, wait_for_port  # noqa: E402

TARGETS = {"unloaded page p50 ms": 10, "unloaded search p50 ms": 30, "loaded p95 / unloaded p95": 3}
SAME_WORDS_QUERIES = [" ".join(pair) for pair in zip(synthetic.WORDS, synthetic.WORDS[3:])] + list(synthetic.TOPICS)


def varied_queries(count: int = 200) -> list[str]:
    """Two words each, of rank 100 to 3,000 (stop words left out, as search leaves them out)."""
    from wikismith.ask.search import terms

    words = [w for w in synthetic.vocabulary()[0][99:3000] if terms(w)]
    rng = random.Random(12)
    return [" ".join(rng.sample(words, 2)) for _ in range(count)]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, parsed JSON or None, seconds); a broken connection is retried once on a new one."""
        for attempt in (0, 1):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                took = time.perf_counter() - t0
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = None
                return response.status, parsed, took
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    return 0, None, time.perf_counter() - t0
        raise AssertionError("unreachable")


def reader(port: int, pages: int, queries: list[str], seed: int, stop, out) -> None:
    """Closed loop: a page read, a search, a read of the search's first hit, ... until `stop` is set."""
    rng = random.Random(seed)
    client = Client(port)
    rows: list[tuple[str, float, int]] = []  # (endpoint, seconds, status)
    half = []
    next_page = None
    while not stop.is_set():
        target = next_page or synthetic.page_path(rng.randrange(pages))[len("wiki/"):-len(".md")]
        status, _, took = client.request("GET", "/api/v1/pages/" + urllib.parse.quote(target))
        rows.append(("page", took, status))
        if status != 200 and next_page:
            half.append(f"search hit {target} answered {status}")
        next_page = None
        query = rng.choice(queries)
        status, found, took = client.request("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": query}))
        rows.append(("search", took, status))
        if status == 200 and found and found.get("hits"):
            next_page = found["hits"][0]["page"][len("wiki/"):-len(".md")]
    out.put((rows, half))


def writer(port: int, count: int, out) -> None:
    client = Client(port)
    rows = []
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    for i in range(count):
        body, headers = multipart("file", f"note-{i:03d}.md", synthetic.generated_document(1000 + i).encode())
        status, _, took = client.request("POST", "/api/v1/documents", body, {**headers, **origin})
        rows.append(("add", took, status))
    out.put((rows, []))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or 0 where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def loadavg() -> str:
    """The machine's load (1, 5, 15 min) from /proc/loadavg: what else ran on the shared cores meanwhile."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "unknown"


def phase(port: int, pages: int, queries: list[str], readers: int, seconds: float, docs: int = 0,
          server_pid: int = 0) -> dict:
    ctx = multiprocessing.get_context("fork")
    cpu0 = cpu_seconds(server_pid)
    stop, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=reader, args=(port, pages, queries, n, stop, out)) for n in range(readers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    if docs:
        w = ctx.Process(target=writer, args=(port, docs, out))
        w.start()
        w.join()
        elapsed = time.perf_counter() - started
        if elapsed < seconds:
            time.sleep(seconds - elapsed)
    else:
        time.sleep(seconds)
    stop.set()
    results = [out.get() for _ in range(readers + (1 if docs else 0))]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    rows = [row for r, _ in results for row in r]
    half = [h for _, hs in results for h in hs]
    reads = sum(1 for e, _, _ in rows if e != "add")
    report = {"seconds": round(wall, 2), "loadavg_after": loadavg(), "requests": len(rows),
              "requests_per_s": round(reads / wall, 1),
              "half_states": half[:10], "half_states_total": len(half),
              # what the server itself spent, whatever else the machine runs: CPU ms per request, all endpoints
              "server_cpu_ms_per_request": round((cpu_seconds(server_pid) - cpu0) * 1000 / max(1, len(rows)), 2)}
    for endpoint in sorted({e for e, _, _ in rows}):
        took = [t for e, t, _ in rows if e == endpoint]
        report[endpoint] = {"count": len(took), "p50_ms": _pct(took, 0.5), "p95_ms": _pct(took, 0.95),
                            "errors": sum(1 for e, _, s in rows if e == endpoint and s != 200)}
    return report


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000, 2) if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--same-words", action="store_true", help="every page holds the same 26 words, so every "
                        "search matches every page (BM25's worst case; the bench before December 2026)")
    parser.add_argument("--keep", metavar="DIR", help="build the synthetic KB into DIR once and run on a copy of it "
                        "(later runs with the same DIR and --pages skip the build)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    load_before = loadavg()
    work = tempfile.mkdtemp(prefix="bench-serve-")
    root = os.path.join(work, "kb")
    server = None
    try:
        t0 = time.perf_counter()
        text, queries = ((synthetic.page_text, SAME_WORDS_QUERIES) if args.same_words
                         else (synthetic.varied_text, varied_queries()))
        name = f"kb-{args.pages}{'-same' if args.same_words else ''}"
        template = os.path.join(args.keep, name) if args.keep else root
        if not os.path.isdir(template):
            synthetic.build_kb(template + ".tmp", args.pages, text=text).close()
            os.rename(template + ".tmp", template)
        if template != root:
            shutil.copytree(template, root)
        built = time.perf_counter() - t0
        from wikismith.kb import KnowledgeBase

        # The synthetic pages are registry rows without summaries or index lines: what doctor says of them before
        # the run is the baseline; the run must add nothing to it.
        known = {f["problem"] for f in KnowledgeBase.doctor(root).as_dict()["findings"]}
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH_FAULTS")}
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", root, "serve", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, server)
        startup = time.perf_counter() - t0
        warm = Client(port)  # the first requests load what the server imports lazily: not part of the figures
        for i in range(5):
            warm.request("GET", "/api/v1/pages/" + synthetic.page_path(i)[len("wiki/"):-len(".md")])
            warm.request("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": queries[i]}))
        unloaded = phase(port, args.pages, queries, args.readers, args.seconds, server_pid=server.pid)
        loaded = phase(port, args.pages, queries, args.readers, args.seconds, docs=args.docs, server_pid=server.pid)
        _, status, _ = Client(port).request("GET", "/api/v1/status")
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        server = None
        found = [f["problem"] for f in KnowledgeBase.doctor(root).as_dict()["findings"] if f["problem"] not in known]
        ratios = {e: round(loaded[e]["p95_ms"] / unloaded[e]["p95_ms"], 2) for e in ("page", "search")
                  if unloaded.get(e, {}).get("p95_ms")}
        errors = sum(ph[e]["errors"] for ph in (unloaded, loaded) for e in ("page", "search", "add") if e in ph)
        report = {
            "pages": args.pages, "same_words": args.same_words, "readers": args.readers, "documents_added": args.docs,
            "loadavg_before": load_before, "kb_build_or_copy_s": round(built, 1), "server_start_s": round(startup, 2),
            "unloaded": unloaded, "loaded": loaded, "loaded_p95_over_unloaded_p95": ratios,
            "final_documents": (status or {}).get("documents"), "final_pending": (status or {}).get(
                "pending_transactions"), "doctor_findings": len(found), "doctor_new_problems": found[:10],
            "errors": errors, "targets": TARGETS,
            "met": {"unloaded page p50 ms": unloaded["page"]["p50_ms"] <= TARGETS["unloaded page p50 ms"],
                    "unloaded search p50 ms": unloaded["search"]["p50_ms"] <= TARGETS["unloaded search p50 ms"],
                    "loaded p95 / unloaded p95": all(r <= TARGETS["loaded p95 / unloaded p95"]
                                                     for r in ratios.values()),
                    "no error": errors == 0,
                    "no half state": unloaded["half_states_total"] + loaded["half_states_total"] == 0,
                    "every document added": (status or {}).get("documents") == 1 + args.docs,
                    "doctor finds nothing new": not found},
        }
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name in ("unloaded", "loaded"):
            ph = report[name]
            print(f"{name:9} {ph['requests_per_s']:8} req/s  " + "  ".join(
                f"{e} p50 {ph[e]['p50_ms']} p95 {ph[e]['p95_ms']} ms ({ph[e]['errors']} errors)"
                for e in ("page", "search", "add") if e in ph))
        print("met:", report["met"])
    return 0 if all(report["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
