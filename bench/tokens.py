"""LLM cost per document as the KB grows, counted by a fake OpenAI server on 127.0.0.1.

    python bench/tokens.py --json [--documents 200]

Adds related documents one by one through the LLM compiler; reports the mean tokens in and out per document for the
last 10% divided by those of the first 10% (target <= 1.3 for both), calls per document, and `wikismith --help` time
with the LLM libraries installed (target <= 150 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests"))

from bench.startup import timed  # noqa: E402
from bench.synthetic import generated_document  # noqa: E402
from fakes import wiki_responder  # noqa: E402
from fakes.openai_server import FakeOpenAI  # noqa: E402

from wikismith.kb import KnowledgeBase  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--documents", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    per_doc = []
    with tempfile.TemporaryDirectory(prefix="tokens-bench-") as tmp, FakeOpenAI(default=wiki_responder.respond) as fake:
        kb = KnowledgeBase.init(os.path.join(tmp, "kb"), settings={"model": "openai/gpt-4o-mini",
                                                                   "base_url": fake.base_url})
        for i in range(args.documents):
            path = os.path.join(tmp, f"note-{i:04d}.md")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(generated_document(i))
            calls0, in0, out0 = sum(fake.answered_by_kind.values()), fake.tokens_in, fake.tokens_out
            report = kb.add([path])
            if report.failed or not report.by_status("added"):
                raise RuntimeError(f"document {i} was not added: {report.outcomes[-1].as_dict()}")
            per_doc.append((sum(fake.answered_by_kind.values()) - calls0, fake.tokens_in - in0, fake.tokens_out - out0))
        pages = kb.status().as_dict()["pages_total"]
        kb.close()
    window = max(1, args.documents // 10)
    first, last = per_doc[:window], per_doc[-window:]

    def mean(rows, i):
        return statistics.mean(r[i] for r in rows)

    result = {
        "documents": args.documents, "pages": pages, "window": window,
        "tokens_in_first": round(mean(first, 1)), "tokens_in_last": round(mean(last, 1)),
        "tokens_out_first": round(mean(first, 2)), "tokens_out_last": round(mean(last, 2)),
        "ratio_in": round(mean(last, 1) / mean(first, 1), 3), "ratio_out": round(mean(last, 2) / mean(first, 2), 3),
        "calls_per_document_first": round(mean(first, 0), 2), "calls_per_document_last": round(mean(last, 0), 2),
        "help_ms_with_llm_libraries": round(timed(["--help"], 11) * 1000, 1),
    }
    result["targets"] = {"ratio_in_le_1_3": result["ratio_in"] <= 1.3, "ratio_out_le_1_3": result["ratio_out"] <= 1.3,
                         "help_le_150ms": result["help_ms_with_llm_libraries"] <= 150}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
