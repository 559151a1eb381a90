"""Hybrid retrieval: dense (Chroma) + BM25, merged by weighted reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import RetrievalSettings
from rag.index.lexical import LexicalIndex
from rag.index.store import ChunkStore
from rag.types import Chunk, Document, Hit


def rrf(rankings: list[tuple[list[str], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        if weight <= 0:  # a switched-off retriever contributes no candidates at all
            continue
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


@dataclass
class HybridRetriever:
    """Finds the passages for a question. Holds the in-memory BM25 view of the store."""

    store: ChunkStore
    settings: RetrievalSettings
    chunks: dict[str, Chunk]
    lexical: LexicalIndex
    _order: list[str]
    _row_kinds: np.ndarray  # the document kind of each BM25 row, for restricted searches

    @classmethod
    def build(cls, store: ChunkStore, settings: RetrievalSettings,
              docs: dict[str, Document]) -> HybridRetriever:
        """Load the current chunks of `docs` from the store and index them for BM25
        (with their document's title)."""
        chunks = store.chunks({d: doc.content_hash for d, doc in docs.items()})
        titles = {d: doc.info.title for d, doc in docs.items()}
        order = [c.chunk_id for c in chunks]
        lexical = LexicalIndex([f"{titles.get(c.doc_id, '')}\n{c.text}" for c in chunks])
        kinds = np.array([docs[c.doc_id].info.kind for c in chunks], dtype=object)
        return cls(store, settings, {c.chunk_id: c for c in chunks}, lexical, order, kinds)

    def search(self, question: str, query_vector: np.ndarray, top_k: int | None = None,
               kinds: Sequence[str] | None = None) -> list[Hit]:
        """Return up to `top_k` hits, best first, each with its dense and BM25 ranks.
        With `kinds`, both sides see only chunks of documents of those kinds."""
        s = self.settings
        dense = [cid for cid, _ in self.store.dense_search(query_vector, s.dense_k, kinds)
                 if cid in self.chunks]
        allowed = np.isin(self._row_kinds, list(kinds)) if kinds else None
        lexical = [self._order[row] for row, _ in
                   self.lexical.search(question, s.lexical_k, allowed)]
        fused = rrf([(dense, s.dense_weight), (lexical, s.lexical_weight)], s.rrf_k)
        dense_rank = {cid: r for r, cid in enumerate(dense, start=1)}
        lex_rank = {cid: r for r, cid in enumerate(lexical, start=1)}
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[: top_k or s.top_k]
        return [Hit(chunk=self.chunks[cid], score=score, rank=i,
                    dense_rank=dense_rank.get(cid), lexical_rank=lex_rank.get(cid))
                for i, (cid, score) in enumerate(best, start=1)]
