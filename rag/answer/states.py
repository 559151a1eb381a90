"""Extractive, quote-first answers in three states: answered, uncertain, not covered.

Nothing here invents text: an answer is a sequence of verbatim windows (1-3
sentences, or a list item with its lead) taken from the stored documents by
offset, each verified before it is returned. The learned scorer (rag.answer.scorer)
rates every window cheaply and shortlists the best; the answer reader
(rag.answer.reader, a trained cross-encoder) reads the shortlist
(rag.answer.evidence), and its calibrated confidence decides the state:
- answered: the best window is strong evidence; it is presented as the answer;
- uncertain: only the windows the reader scores as close are shown, marked as
  possibly not answering;
- not covered: no window comes close enough to show.
With `judge="scorer"` the learned scorer's own confidence decides, as before the
reader (the ablation every eval reports).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

from rag.answer.cite import cite
from rag.answer.evidence import Evidence, ScoredWindow
from rag.answer.reader import ReaderBars
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
           docs: dict[str, Document], reader_bars: ReaderBars | None = None) -> Drafted:
    """The answer text with [n] markers, its verified citations and its state: from
    the reader's confidence when the evidence was read (`reader_bars` then required),
    else from the learned scorer's."""
    if ev.missing_years:
        missing = ", ".join(ev.missing_years)
        return refusal(f"{NOT_COVERED_REASON} None of the documents found for it "
                       f"mentions {missing}.")
    if ev.read:
        if reader_bars is None:
            raise ValueError("evidence read by the reader needs the reader's bars")
        return _decide_read(ev, reader_bars, settings, docs)
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


def _decide_read(ev: Evidence, bars: ReaderBars, settings: AnswerSettings,
                 docs: dict[str, Document]) -> Drafted:
    """The reader's decision. Not covered when no window reaches the `close` bar;
    answered when the best reaches `answered`; the windows shown are those at least
    `close` and at least `show_share` of the best one's confidence, so an uncertain
    answer never fills its slots with passages the reader finds unrelated."""
    if settings.answered_bar is not None:
        bars = replace(bars, answered=settings.answered_bar)
    best = ev.windows[0].confidence if ev.windows else None
    if best is None or best < bars.close:
        log.info("not covered: best window confidence %s (bar %.3f)", best, bars.close)
        return refusal(strength=ev.strength, admitted=ev.ranked)
    status: AnswerStatus = "answered" if best >= bars.answered else "uncertain"
    floor = max(bars.close, bars.show_share * best)
    chosen = _distinct([s for s in ev.windows if (s.confidence or 0.0) >= floor],
                       settings.max_quotes)
    citations = cite([s.quote for s in chosen], docs)
    if not citations:
        return refusal(strength=ev.strength, admitted=ev.ranked)
    return Drafted(answer_text(status, citations), citations, status, best, ev.strength,
                   ev.ranked)


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
