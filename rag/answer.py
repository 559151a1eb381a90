"""Extractive, quote-first answers: chosen sentences, numbered citations, verified.

Nothing here invents text: an answer is a sequence of verbatim sentences taken
from the stored documents by offset, each verified before it is returned.
"""

from __future__ import annotations

import logging

import numpy as np

from .config import AnswerSettings
from .rerank import Candidate, SentenceScorer
from .types import Citation, Document, Hit
from .verify import verified

log = logging.getLogger(__name__)

NOT_COVERED = ("Not covered: the indexed documents do not answer this question, "
               "so no quote is offered as an answer.")


class ExtractiveAnswerer:
    """Turns scored sentences into an answer, or a refusal when evidence is weak."""

    def __init__(self, scorer: SentenceScorer, settings: AnswerSettings) -> None:
        self._scorer = scorer
        self._settings = settings

    def answer(self, question: str, query_vector: np.ndarray, hits: list[Hit],
               docs: dict[str, Document]) -> tuple[str, list[Citation], bool]:
        """Return (answer text with [n] markers, verified citations, refused)."""
        ranked = self._scorer.candidates(question, query_vector, hits, docs)
        chosen = self._select(ranked)
        if not chosen:
            return NOT_COVERED, [], True
        citations = verified([_cite(i, c, docs[c.doc_id]) for i, c in enumerate(chosen, 1)],
                             docs)
        if not citations:
            return NOT_COVERED, [], True
        citations = [_renumber(c, n) for n, c in enumerate(citations, start=1)]
        text = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
        return text, citations, False

    def _select(self, ranked: list[Candidate]) -> list[Candidate]:
        if not ranked or ranked[0].score < self._settings.min_score:
            if ranked:
                log.info("refusing: best sentence scores %.3f < %.3f",
                         ranked[0].score, self._settings.min_score)
            return []
        best = ranked[0].score
        return [c for c in ranked[: self._settings.max_quotes]
                if c.score >= best - self._settings.quote_margin]


def _cite(n: int, cand: Candidate, doc: Document) -> Citation:
    info = doc.info
    start, end = cand.span.start, cand.span.end
    return Citation(n=n, doc_id=info.doc_id, title=info.title, publisher=info.publisher,
                    date=info.date, url=info.url, page=doc.page_at(start), start=start,
                    end=end, quote=cand.text)


def _renumber(c: Citation, n: int) -> Citation:
    from dataclasses import replace

    return replace(c, n=n)
