"""The index: what ingest writes and retrieval reads.

`store` (Chroma through langchain-chroma, generations, revisions), `embed` (the
MiniLM embedder), `lexical` (BM25), `vectors` (stored sentence vectors, cached).
May import `rag.config`, `rag.errors`, `rag.types` and `rag.vocabulary` only.
"""
