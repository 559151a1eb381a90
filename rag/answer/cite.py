"""Citations: chosen spans checked against the stored text, the one check that
stands between the index and print."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from rag.retrieve.rerank import Candidate
from rag.types import Citation, Document, printed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quotable:
    """A span of a document to quote, with its text as retrieved (verified later)."""

    doc_id: str
    start: int
    end: int
    text: str
    lead: tuple[int, int, str] | None = None

    @property
    def printed(self) -> str:
        """What a reader sees of it: its list lead (if any) and its text."""
        return printed(self.text, self.lead[2] if self.lead else None)

    @classmethod
    def of(cls, cand: Candidate) -> Quotable:
        return cls(cand.doc_id, cand.span.start, cand.span.end, cand.text)


def cite(chosen: list[Quotable], docs: dict[str, Document]) -> list[Citation]:
    """Citations for the chosen spans, numbered 1.. in order; a quote (or list lead)
    that is not verbatim in its stored document is dropped (and logged) here."""
    found = verified([_cite(i, q, docs[q.doc_id]) for i, q in enumerate(chosen, 1)
                      if q.doc_id in docs], docs)
    return [replace(c, n=n) for n, c in enumerate(found, start=1)]


def _cite(n: int, q: Quotable, doc: Document) -> Citation:
    info = doc.info
    lead = q.lead or (None, None, None)
    return Citation(n=n, doc_id=info.doc_id, title=info.title, publisher=info.publisher,
                    date=info.date, url=info.url, page=doc.page_at(q.start), start=q.start,
                    end=q.end, quote=q.text, lead_start=lead[0], lead_end=lead[1],
                    lead=lead[2])


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
