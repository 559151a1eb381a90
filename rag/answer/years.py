"""Years a question names, and whether a document mentions them.

A question that names a year ("in 2014", "the 2017 order") is about that year. A
quote from a document that never mentions the year cannot answer it, however
close its wording: "Who was the chief of the Border Patrol in 2018?" must not be
answered from an order of 2017. This is the one question constraint checkable
without a language-understanding model, and the evals showed it costs no correct
answers (see evals/README.md).
"""

from __future__ import annotations

from functools import lru_cache

from rag.types import Document
from rag.vocabulary import YEAR


def years_in(text: str) -> frozenset[str]:
    """Four-digit years 1800-2099 in `text` (not parts of longer numbers such as 2,018)."""
    return frozenset(YEAR.findall(text))


@lru_cache(maxsize=4096)
def document_years(doc: Document) -> frozenset[str]:
    """Years mentioned in a document's text, title or date (cached: documents are
    frozen, and the same ones are asked about on every question)."""
    return years_in(f"{doc.info.title}\n{doc.info.date}\n{doc.text}")
