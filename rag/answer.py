"""Extractive, quote-first answers in three states: answered, uncertain, not covered.

Nothing here invents text: an answer is a sequence of verbatim windows (1-3
sentences, or a list item with its lead) taken from the stored documents by
offset, each verified before it is returned. The learned scorer (rag.scorer)
rates every window; its dev-calibrated confidence decides the state:
- answered: the best window is strong evidence; it is presented as the answer;
- uncertain: the closest passages are shown, marked as possibly not answering;
- not covered: nothing in the index is close enough to show.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .config import AnswerSettings
from .guard import looks_like_injection
from .features import WindowText, analyse, coverage, features, terms_of
from .rerank import Candidate, SentenceVectors
from .scorer import LearnedScorer, question_row
from .types import AnswerStatus, Citation, Document, printed
from .verify import verified
from .windows import DocSentences, Window, windows_around
from .years import document_years, years_in

log = logging.getLogger(__name__)

NOT_COVERED = ("Not covered: the indexed documents do not answer this question, "
               "so no quote is offered as an answer.")
UNCERTAIN_TITLE = "The documents may not answer this directly."
UNCERTAIN = f"{UNCERTAIN_TITLE} These are the closest passages:"
_CORES = 24  # best sentences that windows are grown around


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


@dataclass(frozen=True)
class ScoredWindow:
    window: Window
    quote: Quotable
    features: np.ndarray
    p: float


@dataclass(frozen=True)
class Evidence:
    """What an answer is decided from: the admitted sentences, the windows ranked
    best first, the closest sentence's similarity to the question, and (learned
    scorer) the answer model's input row and raw probability for the best window."""

    missing_years: tuple[str, ...]
    ranked: list[Candidate]
    windows: list[ScoredWindow]
    closest: float
    row: np.ndarray | None = None
    strength: float = 0.0

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

    @property
    def refused(self) -> bool:
        return self.status == "not_covered"


class ExtractiveAnswerer:
    """Turns scored sentences into windows, scores them, and decides the state."""

    def __init__(self, settings: AnswerSettings, vectors: SentenceVectors,
                 idf: Callable[[str], float], max_idf: float,
                 sentences: dict[str, DocSentences], scorer: LearnedScorer | None) -> None:
        self._settings = settings
        self._vectors = vectors
        self._idf = idf
        self._max_idf = max_idf
        self._sentences = sentences
        self._scorer = scorer

    def answer(self, question: str, query_vector: np.ndarray, ranked: list[Candidate],
               docs: dict[str, Document]) -> Drafted:
        """The answer text with [n] markers, its verified citations and its state."""
        ev = self.evidence(question, query_vector, ranked, docs,
                           with_windows=self._scorer is not None)
        if ev.missing_years:
            missing = ", ".join(ev.missing_years)
            return Drafted(f"{NOT_COVERED} None of the documents found for it mentions "
                           f"{missing}.", [], "not_covered", 0.0, 0.0, [])
        if self._scorer is None:
            return self._hand(ev.ranked, docs)
        bars = self._scorer.bars
        if not ev.windows or ev.closest < bars.relevant:
            log.info("not covered: closest sentence %.3f (bar %.3f)", ev.closest, bars.relevant)
            return Drafted(NOT_COVERED, [], "not_covered", 0.0, ev.strength, ev.ranked)
        confidence = self._scorer.calibrated(ev.strength)
        status: AnswerStatus = "answered" if confidence >= bars.answered else "uncertain"
        chosen = shown_windows(ev, status, self._settings)
        citations = cite([s.quote for s in chosen], docs)
        if not citations:
            return Drafted(NOT_COVERED, [], "not_covered", 0.0, ev.strength, ev.ranked)
        body = " ".join(_quoted(c) for c in citations)
        text = body if status == "answered" else f"{UNCERTAIN} {body}"
        return Drafted(text, citations, status, confidence, ev.strength, ev.ranked)

    def evidence(self, question: str, query_vector: np.ndarray, ranked: list[Candidate],
                 docs: dict[str, Document], with_windows: bool = True) -> Evidence:
        """What the state is decided from. With `match_years`, only documents that
        mention every year the question names may answer. (The hand scorer needs no
        windows; training reads them whatever the scorer.)"""
        asked = years_in(question) if self._settings.match_years else frozenset()
        if asked:
            ranked = [c for c in ranked
                      if c.doc_id in docs and asked <= document_years(docs[c.doc_id])]
            if not ranked:
                log.info("not covered: no retrieved document mentions %s", sorted(asked))
                return Evidence(tuple(sorted(asked)), [], [], 0.0)
        closest = max((c.semantic for c in ranked[:10]), default=0.0)
        windows = self.windows(question, query_vector, ranked, docs) if with_windows else []
        if self._scorer is None or not windows:
            return Evidence((), ranked, windows, closest)
        best = windows[0]
        row = question_row(best.features, best.p)
        return Evidence((), ranked, windows, closest, row, self._scorer.answer_probability(row))

    def windows(self, question: str, query_vector: np.ndarray, ranked: list[Candidate],
                docs: dict[str, Document]) -> list[ScoredWindow]:
        """Windows around the best sentences, scored by the learned model, best first.
        (Training reads the same windows and features, so what is fitted is what runs.)"""
        cores = [c for c in ranked[:_CORES] if c.doc_id in self._sentences]
        found: dict[tuple[str, int, int], Window] = {}
        for cand in cores:
            sents = self._sentences[cand.doc_id]
            at = sents.index_of(cand.span)
            if at is None:
                continue
            for w in windows_around(sents, at, cand.hit, self._settings.max_quote_chars):
                # Context is added to help a reader, never to carry text that reads
                # like an instruction to a model (it is withheld from llm mode too).
                if any(i != at and looks_like_injection(sents.text(i)) for i in w.members):
                    continue
                found.setdefault((w.doc_id, w.first, w.last), w)
        if not found:
            return []
        sims = self._sims(query_vector, list(found.values()))
        q = analyse(question, self._idf, self._max_idf, max(sims.values(), default=0.0))
        texts = [(w, self._window_text(w, sims, docs[w.doc_id])) for w in found.values()]
        best_lex = max(coverage(q, terms_of(t.text)) for _, t in texts)
        x = np.stack([features(q, t, best_lex) for _, t in texts])
        p = self._scorer.rank(x) if self._scorer else x[:, 1]
        out = [ScoredWindow(w, self._quotable(w), x[i], float(p[i]))
               for i, (w, _) in enumerate(texts)]
        out.sort(key=lambda s: (-s.p, s.window.hit.rank, s.window.start))
        return out

    def _sims(self, query_vector: np.ndarray, windows: list[Window]) -> dict[tuple[str, int],
                                                                               float]:
        keys: dict[tuple[str, int], tuple[str, str]] = {}
        for w in windows:
            sents = self._sentences[w.doc_id]
            lead = [w.lead] if w.lead is not None else []
            for i in [*_around(w, len(sents.sentences)), *lead]:
                keys.setdefault((w.doc_id, i), (sents.sentences[i].key, sents.text(i)))
        vectors = self._vectors.get(list(keys.values()))
        return dict(zip(keys, (vectors @ query_vector).tolist()))

    def _window_text(self, w: Window, sims: dict[tuple[str, int], float],
                     doc: Document) -> WindowText:
        sents = self._sentences[w.doc_id]
        members = [sents.text(i) for i in w.members]
        lead = [sents.text(w.lead)] if w.lead is not None else []
        context = [sents.text(i) for i in _around(w, len(sents.sentences))
                   if i not in w.members and
                   sents.sentences[i].paragraph == sents.sentences[w.core].paragraph]
        return WindowText(
            text=" ".join(lead + members), core=sents.text(w.core),
            # The lead is shown with its item, so it counts as part of the quote.
            member_sims=tuple(sims[(w.doc_id, i)] for i in
                              ([w.lead] if w.lead is not None else []) + list(w.members)),
            core_sim=sims[(w.doc_id, w.core)], context=" ".join(context),
            doc_terms=terms_of(doc.text), title_terms=terms_of(doc.info.title),
            sentences=len(w.members), has_lead=w.lead is not None, chars=w.end - w.start)

    def _quotable(self, w: Window) -> Quotable:
        sents = self._sentences[w.doc_id]
        lead = None
        if w.lead is not None:
            span = sents.sentences[w.lead].span
            lead = (span.start, span.end, _from_index(w, span.start, span.end, sents))
        return Quotable(w.doc_id, w.start, w.end, _from_index(w, w.start, w.end, sents), lead)

    def _hand(self, ranked: list[Candidate], docs: dict[str, Document]) -> Drafted:
        """The previous hand-set scorer (kept for the ablation): single sentences,
        two fixed bars, answered or not covered."""
        cfg = self._settings
        best = ranked[0].score if ranked else 0.0
        closest = max((c.semantic for c in ranked[:10]), default=0.0)
        if not ranked or best < cfg.min_score or closest < cfg.min_semantic:
            return Drafted(NOT_COVERED, [], "not_covered", 0.0, best, ranked)
        chosen = [c for c in ranked[: cfg.max_quotes] if c.score >= best - cfg.quote_margin]
        citations = cite([Quotable.of(c) for c in chosen], docs)
        if not citations:
            return Drafted(NOT_COVERED, [], "not_covered", 0.0, best, ranked)
        return Drafted(" ".join(_quoted(c) for c in citations), citations, "answered",
                       min(1.0, max(0.0, best)), best, ranked)


def shown_windows(ev: Evidence, status: AnswerStatus,
                  settings: AnswerSettings) -> list[ScoredWindow]:
    """The windows quoted: an answer keeps further quotes the ranker rates nearly as
    likely as the best; an uncertain one shows the closest few."""
    if not ev.windows:
        return []
    floor = (ev.windows[0].p + math.log(settings.quote_share) if status == "answered"
             else -math.inf)
    return _distinct([s for s in ev.windows if s.p >= floor], settings.max_quotes)


def _around(w: Window, n: int) -> range:
    """The window's sentences and two on each side (the features' context)."""
    return range(max(0, w.first - 2), min(n, w.last + 3))


def _from_index(w: Window, start: int, end: int, sents: DocSentences) -> str:
    """Quote text from the retrieved passage when it holds the span (an independent
    copy that verification compares with the stored document), else the document."""
    chunk = w.hit.chunk
    if chunk.doc_id == w.doc_id and chunk.start <= start and end <= chunk.end:
        return chunk.text[start - chunk.start:end - chunk.start]
    return sents.doc.text[start:end]


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


def _quoted(c: Citation) -> str:
    return f"“{c.printed}” [{c.n}]"


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
