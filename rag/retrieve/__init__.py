"""Retrieval: the passages for a question.

`hybrid` (dense + BM25 candidates, reciprocal rank fusion) and `rerank` (every
sentence of the fused passages scored, passages ordered by their best sentence).
May import `rag.index`, `rag.config`, `rag.types` and `rag.vocabulary`.
"""
