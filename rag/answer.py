"""Extractive, quote-first answers: chosen sentences, numbered citations, verified.

Nothing here invents text: an answer is a sequence of verbatim sentences taken
from the stored documents by offset, each verified before it is returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .config import AnswerSettings
from .rerank import Candidate
from .types import Citation, Document
from .verify import verified
from .years import document_years, years_in

log = logging.getLogger(__name__)

NOT_COVERED = ("Not covered: the indexed documents do not answer this question, "
               "so no quote is offered as an answer.")


@dataclass(frozen=True)
class Drafted:
    """An answer before timings are attached."""

    text: str
    citations: list[Citation]
    refused: bool
    evidence_score: float
    # The candidates allowed to answer (after year matching), best first: what llm
    # mode may show the model.
    admitted: list[Candidate]


class ExtractiveAnswerer:
    """Turns scored sentences into an answer, or a refusal when evidence is weak."""

    def __init__(self, settings: AnswerSettings) -> None:
        self._settings = settings

    def answer(self, question: str, ranked: list[Candidate],
               docs: dict[str, Document]) -> Drafted:
        """From sentences scored best first, return the answer text with [n] markers
        and its verified citations, or a refusal (no citations) when the evidence
        is too weak. With `match_years`, only sentences of documents that mention
        every year the question names may answer."""
        asked = years_in(question) if self._settings.match_years else frozenset()
        if asked:
            ranked = [c for c in ranked
                      if c.doc_id in docs and asked <= document_years(docs[c.doc_id])]
            if not ranked:
                missing = ", ".join(sorted(asked))
                log.info("refusing: no retrieved document mentions %s", missing)
                return Drafted(f"{NOT_COVERED} None of the documents found for it "
                               f"mentions {missing}.", [], True, 0.0, [])
        best = ranked[0].score if ranked else 0.0
        chosen = self._select(ranked)
        if not chosen:
            return Drafted(NOT_COVERED, [], True, best, ranked)
        citations = cite(chosen, docs)
        if not citations:
            return Drafted(NOT_COVERED, [], True, best, ranked)
        text = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
        return Drafted(text, citations, False, best, ranked)

    def _select(self, ranked: list[Candidate]) -> list[Candidate]:
        cfg = self._settings
        if not ranked:
            return []
        # Two independent signals must both clear their bar: the combined score of
        # the best sentence, and plain embedding similarity of the closest of the
        # leading sentences (the strongest single refusal signal in evals/).
        closest = max(c.semantic for c in ranked[:10])
        if ranked[0].score < cfg.min_score or closest < cfg.min_semantic:
            log.info("refusing: best score %.3f (min %.3f), closest sentence %.3f (min %.3f)",
                     ranked[0].score, cfg.min_score, closest, cfg.min_semantic)
            return []
        best = ranked[0].score
        return [c for c in ranked[: self._settings.max_quotes]
                if c.score >= best - self._settings.quote_margin]


def cite(chosen: list[Candidate], docs: dict[str, Document]) -> list[Citation]:
    """Citations for the chosen sentences, numbered 1.. in order; a quote that is not
    verbatim in its stored document is dropped (and logged) here."""
    found = verified([_cite(i, c, docs[c.doc_id]) for i, c in enumerate(chosen, 1)
                      if c.doc_id in docs], docs)
    return [replace(c, n=n) for n, c in enumerate(found, start=1)]


def _cite(n: int, cand: Candidate, doc: Document) -> Citation:
    info = doc.info
    start, end = cand.span.start, cand.span.end
    return Citation(n=n, doc_id=info.doc_id, title=info.title, publisher=info.publisher,
                    date=info.date, url=info.url, page=doc.page_at(start), start=start,
                    end=end, quote=cand.text)
