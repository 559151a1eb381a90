"""Reranking: score every sentence of the retrieved passages as an answer, then
order the passages by their best sentence.

No cross-encoder ships offline, so the default scorer combines what does:
embedding similarity of question and sentence (the same MiniLM model, sentence
vectors stored at ingest), IDF-weighted coverage of the question's words, a
bonus when the sentence has the kind of fact asked for (a number for "how many",
a date for "when"), and a malus for sentences that merely restate their
document's title (headings, metadata lines). A cross-encoder named in the
settings replaces the embedding part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag.config import RerankSettings
from rag.errors import ConfigError
from rag.vocabulary import FACTS, question_type, terms_of, tokenize
from rag.index.store import sentence_id
from rag.index.vectors import SentenceVectors
from rag.types import Chunk, Document, Hit, Span

_MIN_WORDS = 4  # shorter "sentences" are headings or list stubs, never answers
@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, scored as an answer to the question."""

    doc_id: str
    span: Span
    text: str
    hit: Hit
    semantic: float
    lexical: float
    score: float


class SentenceScorer:
    """Scores the sentences of the hits; reranks the hits by their best sentence."""

    def __init__(self, vectors: SentenceVectors, idf: Callable[[str], float],
                 settings: RerankSettings) -> None:
        self._vectors = vectors
        self._idf = idf
        self._settings = settings
        self._cross = _load_cross_encoder(settings.cross_encoder) if settings.cross_encoder else None

    def candidates(self, question: str, query_vector: np.ndarray, hits: list[Hit],
                   docs: dict[str, Document]) -> list[Candidate]:
        """Every usable sentence of `hits`, best first."""
        pool: dict[str, tuple[Hit, Span, str, str]] = {}
        for hit in hits:
            chunk = hit.chunk
            if chunk.doc_id not in docs:
                continue
            for i, span in enumerate(chunk.sentences):
                # Taken from the chunk as indexed; the answerer verifies it against
                # the document's stored full text, an independent copy.
                text = _sentence_text(chunk, span)
                # The same sentence in two near-duplicate documents: keep the better hit.
                if len(text.split()) >= _MIN_WORDS and text not in pool:
                    pool[text] = (hit, span, text, sentence_id(chunk.chunk_id, i))
        if not pool:
            return []
        entries = list(pool.values())
        semantic = self._semantic(question, query_vector, [(e[3], e[2]) for e in entries])
        q_terms = set(tokenize(question))
        titles = {d: set(tokenize(doc.info.title)) for d, doc in docs.items()}
        out = [self._score(question, q_terms, titles.get(hit.chunk.doc_id, set()), hit, span,
                           text, float(sem))
               for (hit, span, text, _), sem in zip(entries, semantic)]
        out.sort(key=lambda c: (-c.score, c.hit.rank, c.span.start))
        return out

    def _score(self, question: str, q_terms: set[str], title: set[str], hit: Hit, span: Span,
               text: str, sem: float) -> Candidate:
        cfg = self._settings
        s_terms = terms_of(text)
        # Words of the question that name the document ("the 2017 border order")
        # mostly pick the document, not the sentence: they weigh less here.
        weight = {t: self._idf(t) * (cfg.title_term_weight if t in title else 1.0)
                  for t in q_terms}
        # Words found only in the neighbouring sentences (a speaker named just before
        # the quote, a subject named just after) count for part of their weight.
        near = _neighbour_terms(hit.chunk, span) - s_terms
        lex = ((sum(weight[t] for t in q_terms & s_terms)
                + cfg.context_weight * sum(weight[t] for t in q_terms & near))
               / (sum(weight.values()) or 1.0))
        # A sentence that mostly restates its document's title is a heading.
        title_share = len(s_terms & title) / len(s_terms) if s_terms else 1.0
        # ...but a question that names a document prefers that document's sentences.
        names_doc = (sum(self._idf(t) for t in q_terms & title)
                     / (sum(self._idf(t) for t in q_terms) or 1.0))
        score = (cfg.semantic_weight * sem + (1 - cfg.semantic_weight) * lex
                 + cfg.type_bonus * _answer_type_fit(question, text)
                 - cfg.heading_penalty * title_share + cfg.title_match_weight * names_doc)
        return Candidate(hit.chunk.doc_id, span, text, hit, sem, lex, score)

    def rerank(self, hits: list[Hit], ranked: list[Candidate], top_k: int) -> list[Hit]:
        """Order hits by their best sentence (ties: fused rank); keep `top_k`."""
        best: dict[str, float] = {}
        for cand in ranked:
            best.setdefault(cand.hit.chunk.chunk_id, cand.score)
        order = sorted(hits, key=lambda h: (-best.get(h.chunk.chunk_id, -1.0), h.rank))
        return [replace(h, rank=i) for i, h in enumerate(order[:top_k], start=1)]

    def _semantic(self, question: str, query_vector: np.ndarray,
                  keyed: list[tuple[str, str]]) -> np.ndarray:
        if self._cross is not None:
            logits = np.asarray(self._cross.predict([(question, t) for _, t in keyed]))
            return 1.0 / (1.0 + np.exp(-logits))
        return self._vectors.get(keyed) @ query_vector


def with_sentences(hits: list[Hit], ranked: list[Candidate]) -> list[Hit]:
    """`hits` with their best sentence (`Hit.sentence`) from `ranked`, best first."""
    best: dict[str, Span] = {}
    for cand in ranked:
        best.setdefault(cand.hit.chunk.chunk_id, cand.span)
    return [replace(h, sentence=best.get(h.chunk.chunk_id)) for h in hits]


def _neighbour_terms(chunk: Chunk, span: Span, reach: int = 2) -> set[str]:
    """Words of the sentences up to `reach` before and one after `span` in its chunk."""
    at = chunk.sentences.index(span)
    around = chunk.sentences[max(0, at - reach):at] + chunk.sentences[at + 1:at + 2]
    return {t for s in around for t in terms_of(_sentence_text(chunk, s))}


def _sentence_text(chunk: Chunk, span: Span) -> str:
    return chunk.text[span.start - chunk.start:span.end - chunk.start]


_TYPED = ("date", "number", "duration")  # kinds of fact a sentence visibly holds or lacks


def _answer_type_fit(question: str, sentence: str) -> float:
    """+1 when the sentence holds the kind of fact asked for, -1 when it lacks it."""
    kind = question_type(question)
    if kind not in _TYPED:
        return 0.0
    return 1.0 if FACTS[kind].search(sentence) else -1.0


def _load_cross_encoder(name: str):  # type: ignore[no-untyped-def]
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(name, device="cpu")
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot load cross-encoder {name!r} ({exc}); set "
                          "RAG_RERANK__CROSS_ENCODER to a local model folder or unset it") from exc
