"""Sentence-level rescoring: which sentences of the retrieved passages answer the question.

No cross-encoder ships offline, so the default scorer combines what does:
embedding similarity of question and sentence (same MiniLM model), IDF-weighted
lexical coverage of the question's words, and a small bonus when the sentence has
the kind of fact asked for (a number for "how many", a date for "when"). A
cross-encoder named in the settings replaces the embedding part.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import AnswerSettings
from .embed import Embedder
from .errors import ConfigError
from .lexical import tokenize
from .types import Document, Hit, Span

_MIN_WORDS = 4  # shorter "sentences" are headings or list stubs, never answers
_HOW_MANY = re.compile(r"\b(how (many|much|long)|number of|what (percent|share|amount))\b", re.I)
_WHEN = re.compile(r"\b(when|what (date|year|day|month)|which (date|year|day|month))\b", re.I)
_HAS_NUMBER = re.compile(r"\d")
_HAS_DATE = re.compile(r"\b(1[89]|20)\d\d\b|\b(January|February|March|April|May|June|July|"
                       r"August|September|October|November|December)\b")


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


class _VectorCache:
    """Bounded cache of sentence vectors, so popular passages are embedded once."""

    def __init__(self, embedder: Embedder, size: int = 50_000) -> None:
        self._embedder = embedder
        self._size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._data))
        if missing:
            vectors = self._embedder.embed(missing)
            with self._lock:
                for text, vec in zip(missing, vectors):
                    self._data[text] = vec
                while len(self._data) > self._size:
                    self._data.popitem(last=False)
        with self._lock:
            return np.stack([self._data[t] for t in texts])


class SentenceScorer:
    """Scores every sentence of the hits; returns candidates best first."""

    def __init__(self, embedder: Embedder, idf: Callable[[str], float],
                 settings: AnswerSettings) -> None:
        self._cache = _VectorCache(embedder)
        self._idf = idf
        self._settings = settings
        self._cross = None
        if settings.cross_encoder:
            self._cross = _load_cross_encoder(settings.cross_encoder)

    def candidates(self, question: str, query_vector: np.ndarray, hits: list[Hit],
                   docs: dict[str, Document]) -> list[Candidate]:
        pool: dict[str, tuple[Hit, Span, str]] = {}
        for hit in hits:
            chunk = hit.chunk
            if chunk.doc_id not in docs:
                continue
            for span in chunk.sentences:
                # Taken from the chunk as indexed; the answerer verifies it against
                # the document's stored full text, an independent copy.
                text = chunk.text[span.start - chunk.start:span.end - chunk.start]
                # The same sentence in two near-duplicate documents: keep the better hit.
                if len(text.split()) >= _MIN_WORDS and text not in pool:
                    pool[text] = (hit, span, text)
        if not pool:
            return []
        texts = list(pool)
        semantic = self._semantic(question, query_vector, texts)
        q_terms = set(tokenize(question))
        q_weight = sum(self._idf(t) for t in q_terms) or 1.0
        out = []
        for (hit, span, text), sem in zip(pool.values(), semantic):
            lex = sum(self._idf(t) for t in q_terms & set(tokenize(text))) / q_weight
            score = (self._settings.semantic_weight * float(sem)
                     + (1 - self._settings.semantic_weight) * lex
                     + self._settings.type_bonus * _answer_type_fit(question, text))
            out.append(Candidate(hit.chunk.doc_id, span, text, hit, float(sem), lex, score))
        out.sort(key=lambda c: (-c.score, c.hit.rank, c.span.start))
        return out

    def _semantic(self, question: str, query_vector: np.ndarray, texts: list[str]) -> np.ndarray:
        if self._cross is not None:
            logits = np.asarray(self._cross.predict([(question, t) for t in texts]))
            return 1.0 / (1.0 + np.exp(-logits))
        return self._cache.get(texts) @ query_vector


def _answer_type_fit(question: str, sentence: str) -> float:
    """+1 when the sentence holds the kind of fact asked for, -1 when it lacks it."""
    if _HOW_MANY.search(question):
        return 1.0 if _HAS_NUMBER.search(sentence) else -1.0
    if _WHEN.search(question):
        return 1.0 if _HAS_DATE.search(sentence) else -1.0
    return 0.0


def _load_cross_encoder(name: str):  # type: ignore[no-untyped-def]
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(name, device="cpu")
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot load cross-encoder {name!r} ({exc}); set "
                          "RAG_ANSWER__CROSS_ENCODER to a local model folder or unset it") from exc
