"""Conversion of source files into markdown values (`ConvertedDocument`); never writes into a knowledge base.

    from wikismith.ingest import convert, Limits
    doc = convert("paper.pdf", Limits(timeout_s=60))
"""

from wikismith.ingest.dispatch import convert
from wikismith.ingest.document import ConversionError, ConvertedDocument, Limits, OutlineEntry, TreeNode
from wikismith.ingest.sniff import SUPPORTED_SUFFIXES, sniff
from wikismith.ingest.tree import check_tree

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ConversionError",
    "ConvertedDocument",
    "Limits",
    "OutlineEntry",
    "TreeNode",
    "check_tree",
    "convert",
    "sniff",
]
