"""Deterministic fakes: pure functions of their input, no randomness, no network."""

from __future__ import annotations

import hashlib

import numpy as np

from rag.lexical import tokenize


class FakeEmbedder:
    """Hashed bag of stemmed words, L2-normalized: similar words, similar vectors."""

    def __init__(self, dim: int = 256, name: str = "fake-hash-embedder") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                bucket = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
                out[row, bucket] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
