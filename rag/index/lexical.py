"""Lexical side of retrieval: tokenization, stemming and a BM25 index (bm25s).

The index lives in memory and is rebuilt from the store's chunks, so the store
stays the single source of truth.
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from rag.vocabulary import tokenize

class LexicalIndex:
    """BM25 over chunk texts; `search` returns (row, score) pairs, best first."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG at import; keep its chatter out of our output.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._bm25 = bm25s.BM25()
        tokens = [tokenize(t) for t in texts]
        self.size = len(texts)
        df: Counter[str] = Counter()
        for toks in tokens:
            df.update(set(toks))
        self._df = df
        if self.size:
            self._bm25.index([t or ["\u2400"] for t in tokens], show_progress=False)

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency. A word the corpus never uses gets
        the highest value: a question that hinges on it is probably not covered."""
        if self.size == 0:
            return 0.0
        n = self._df.get(token, 0)
        return float(np.log(1 + (self.size - n + 0.5) / (n + 0.5)))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None
               ) -> list[tuple[int, float]]:
        """The `k` best rows for `query`; with `allowed` (a boolean mask over the rows),
        only those rows. IDF stays that of the whole index, so a restricted search ranks
        rows the same way an unrestricted one would."""
        words = [t for t in tokenize(query) if t in self._df]
        if not words or not self.size:
            return []
        scores = self._bm25.get_scores(words)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in top), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]
