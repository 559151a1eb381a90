"""The evidence an answer is decided from: quote windows around the best sentences,
their features, and their scores.

`WindowScorer.windows` is where window scoring happens: every window of the question gets
its feature row (`rag.answer.features`), and `rank_windows` orders them with the
learned ranker (or, for training, by similarity alone). With a reader
(`rag.answer.reader`), the ranker's best windows are shortlisted (`shortlist`) and read
by it, and the reader's order and calibrated confidence are what the states
(`rag.answer.states`) read; they only ever read the ordered `Evidence`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.cite import Quotable
from rag.answer.reader import WindowReader, window_text
from rag.answer.features import WindowText, analyse, coverage, features
from rag.answer.scorer import LearnedScorer, question_row
from rag.answer.windows import CORES, DocSentences, Window, windows_around
from rag.answer.years import document_years, years_in
from rag.config import AnswerSettings
from rag.index.vectors import SentenceVectors
from rag.question.guard import looks_like_injection
from rag.retrieve.rerank import Candidate
from rag.types import Document
from rag.vocabulary import common_words, terms_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredWindow:
    """A window with the learned ranker's score `p` and, once the reader has read it,
    the reader's logit, the window's score (the logit with `p`, see
    `rag.answer.reader.Calibration`) and its calibrated confidence."""

    window: Window
    quote: Quotable
    features: np.ndarray
    p: float
    reader_logit: float | None = None
    reader_score: float | None = None
    confidence: float | None = None


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
    read: bool = False


class WindowScorer:
    """Grows windows around a question's best sentences and scores them."""

    def __init__(self, settings: AnswerSettings, vectors: SentenceVectors,
                 idf: Callable[[str], float], max_idf: float,
                 sentences: dict[str, DocSentences]) -> None:
        self._settings = settings
        self._vectors = vectors
        self._idf = idf
        self._max_idf = max_idf
        self._sentences = sentences
        # What the documents write in lower case: read once per index (see features).
        self._common = common_words(s.doc.text for s in sentences.values())

    def evidence(self, question: str, query_vector: np.ndarray, ranked: list[Candidate],
                 docs: dict[str, Document], scorer: LearnedScorer | None,
                 reader: WindowReader | None = None) -> Evidence:
        """What the state is decided from. With `match_years`, only documents that
        mention every year the question names may answer. With no `scorer` (training)
        the windows are ordered by similarity and `strength` is 0. With a `reader`, the
        scorer's shortlist is read by it and ordered by its score."""
        asked = years_in(question) if self._settings.match_years else frozenset()
        if asked:
            ranked = [c for c in ranked
                      if c.doc_id in docs and asked <= document_years(docs[c.doc_id])]
            if not ranked:
                log.info("not covered: no retrieved document mentions %s", sorted(asked))
                return Evidence(tuple(sorted(asked)), [], [], 0.0)
        closest = max((c.semantic for c in ranked[:10]), default=0.0)
        windows = self.windows(question, query_vector, ranked, docs, scorer)
        if scorer is None or not windows:
            return Evidence((), ranked, windows, closest)
        if reader is not None:
            read = self.read(question, windows, reader)
            return Evidence((), ranked, read, closest, None, float(read[0].reader_score or 0.0),
                            read=True)
        best = windows[0]
        row = question_row(best.features, best.p)
        return Evidence((), ranked, windows, closest, row, scorer.answer_probability(row))

    def read(self, question: str, windows: list[ScoredWindow], reader: WindowReader
             ) -> list[ScoredWindow]:
        """The ranker's shortlist read by the reader, best first by its score."""
        short = shortlist(windows, self._settings.reader_shortlist)
        texts = [window_text(self._sentences[s.window.doc_id], s.window) for s in short]
        logits = reader.logits(question, texts)
        scores = reader.score(logits, np.array([s.p for s in short]))
        conf = reader.confidence(scores)
        read = [replace(s, reader_logit=float(z), reader_score=float(v), confidence=float(c))
                for s, z, v, c in zip(short, logits, scores, conf, strict=True)]
        read.sort(key=lambda s: (-(s.reader_score or 0.0), -s.p, s.window.start))
        return read

    def windows(self, question: str, query_vector: np.ndarray, ranked: list[Candidate],
                docs: dict[str, Document], scorer: LearnedScorer | None
                ) -> list[ScoredWindow]:
        """Windows around the best sentences, scored by the learned model, best first.
        (Training reads the same windows and features, so what is fitted is what runs.)"""
        cores = [c for c in ranked[:CORES] if c.doc_id in self._sentences]
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
        q = analyse(question, self._idf, self._max_idf, max(sims.values(), default=0.0),
                    self._common)
        texts = [(w, self._window_text(w, sims, docs[w.doc_id])) for w in found.values()]
        best_lex = max(coverage(q, terms_of(t.text)) for _, t in texts)
        x = np.stack([features(q, t, best_lex) for _, t in texts])
        p = rank_windows(x, scorer)
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


def rank_windows(x: np.ndarray, scorer: LearnedScorer | None) -> np.ndarray:
    """Scores of window feature rows, higher first: the learned ranker's, or with no
    scorer (training) the windows' best similarity."""
    return scorer.rank(x) if scorer is not None else x[:, 1]


def shortlist(windows: list[ScoredWindow], limit: int, per_sentence: int = 3
              ) -> list[ScoredWindow]:
    """The ranker's best `limit` windows, with at most `per_sentence` of those that
    hold any one sentence: the reader's time goes to distinct passages, not to six
    cuts around the same sentence."""
    out: list[ScoredWindow] = []
    held: dict[tuple[str, int], int] = {}
    for s in windows:
        w = s.window
        if any(held.get((w.doc_id, i), 0) >= per_sentence for i in w.members):
            continue
        out.append(s)
        for i in w.members:
            held[(w.doc_id, i)] = held.get((w.doc_id, i), 0) + 1
        if len(out) == limit:
            break
    return out


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
