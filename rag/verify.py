"""Quote verification: the one check that stands between the index and print."""

from __future__ import annotations

import logging

from .types import Citation, Document

log = logging.getLogger(__name__)


def quote_matches(doc: Document | None, start: int, end: int, quote: str) -> bool:
    """True when `quote` is exactly the stored text of `doc` at [start:end]."""
    if doc is None or not quote or not 0 <= start < end <= len(doc.text):
        return False
    return doc.text[start:end] == quote


def verified(citations: list[Citation], docs: dict[str, Document]) -> list[Citation]:
    """Keep only citations whose quote is verbatim at its offsets; log the others."""
    kept = []
    for c in citations:
        doc = docs.get(c.doc_id)
        lead_ok = c.lead is None or (c.lead_start is not None and c.lead_end is not None
                                     and quote_matches(doc, c.lead_start, c.lead_end, c.lead))
        if lead_ok and quote_matches(doc, c.start, c.end, c.quote):
            kept.append(c)
        else:
            log.error("dropped a quote that is not verbatim in %s at %d:%d: %r",
                      c.doc_id, c.start, c.end, c.quote[:80])
    return kept
