"""Extractive, quote-first answers in three states: answered, uncertain, not covered.

Nothing here invents text: an answer is a sequence of verbatim windows (1-3
sentences, or a list item with its lead) taken from the stored documents by
offset, each verified before it is returned. The learned scorer (rag.answer.scorer)
rates every window (rag.answer.evidence); its dev-calibrated confidence decides the
state:
- answered: the best window is strong evidence; it is presented as the answer;
- uncertain: the closest passages are shown, marked as possibly not answering;
- not covered: nothing in the index is close enough to show.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from rag.answer.cite import cite
from rag.answer.evidence import Evidence, ScoredWindow
from rag.answer.scorer import LearnedScorer
from rag.answer.windows import Window
from rag.answer.wording import NOT_COVERED_REASON, answer_text, not_covered
from rag.config import AnswerSettings
from rag.retrieve.rerank import Candidate
from rag.types import AnswerStatus, Citation, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drafted:
    """An answer before timings are attached."""

    text: str
    citations: list[Citation]
    status: AnswerStatus
    confidence: float
    evidence_score: float
    # The sentences allowed to answer (after year matching), best first: what llm
    # mode may show the model.
    admitted: list[Candidate]
    reason: str = ""  # not_covered: why (see `Answer.reason`)

    @property
    def refused(self) -> bool:
        return self.status == "not_covered"


def decide(ev: Evidence, scorer: LearnedScorer, settings: AnswerSettings,
           docs: dict[str, Document]) -> Drafted:
    """The answer text with [n] markers, its verified citations and its state."""
    if ev.missing_years:
        missing = ", ".join(ev.missing_years)
        return refusal(f"{NOT_COVERED_REASON} None of the documents found for it "
                       f"mentions {missing}.")
    bars = scorer.bars
    if not ev.windows or ev.closest < bars.relevant:
        log.info("not covered: closest sentence %.3f (bar %.3f)", ev.closest, bars.relevant)
        return refusal(strength=ev.strength, admitted=ev.ranked)
    confidence = scorer.calibrated(ev.strength)
    status: AnswerStatus = "answered" if confidence >= bars.answered else "uncertain"
    citations = cite([s.quote for s in shown_windows(ev, status, settings)], docs)
    if not citations:
        return refusal(strength=ev.strength, admitted=ev.ranked)
    return Drafted(answer_text(status, citations), citations, status, confidence,
                   ev.strength, ev.ranked)


def refusal(reason: str = NOT_COVERED_REASON, strength: float = 0.0,
            admitted: list[Candidate] | None = None) -> Drafted:
    """A `not_covered` draft for `reason`."""
    return Drafted(not_covered(reason), [], "not_covered", 0.0, strength, admitted or [],
                   reason)


def shown_windows(ev: Evidence, status: AnswerStatus,
                  settings: AnswerSettings) -> list[ScoredWindow]:
    """The windows quoted: an answer keeps further quotes the ranker rates nearly as
    likely as the best; an uncertain one shows the closest few."""
    if not ev.windows:
        return []
    floor = (ev.windows[0].p + math.log(settings.quote_share) if status == "answered"
             else -math.inf)
    return _distinct([s for s in ev.windows if s.p >= floor], settings.max_quotes)


def _distinct(scored: list[ScoredWindow], limit: int) -> list[ScoredWindow]:
    """The best windows that share no sentence and no text with a better one."""
    out: list[ScoredWindow] = []
    texts: set[str] = set()
    for s in scored:
        w = s.window
        if any(_overlap(o.window, w) for o in out) or s.quote.text in texts:
            continue
        out.append(s)
        texts.add(s.quote.text)
        if len(out) == limit:
            break
    return out


def _overlap(a: Window, b: Window) -> bool:
    return a.doc_id == b.doc_id and a.first <= b.last and b.first <= a.last
