"""Sentence vectors: stored at ingest, read back with a bounded in-process cache."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from rag.index.embed import Embedder
from rag.index.store import ChunkStore


class SentenceVectors:
    """Sentence vectors from the store, with a bounded in-process cache; a sentence
    the store lacks is embedded on the spot."""

    def __init__(self, store: ChunkStore, embedder: Embedder, size: int = 200_000) -> None:
        self._store = store
        self._embedder = embedder
        self._size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keyed: list[tuple[str, str]]) -> np.ndarray:
        """Vectors for (sentence id, text) pairs, in order."""
        with self._lock:
            missing = list(dict.fromkeys(k for k, _ in keyed if k not in self._data))
        found = self._store.sentence_vectors(missing)
        absent = [(k, t) for k, t in dict(keyed).items() if k in missing and k not in found]
        if absent:
            found.update(zip([k for k, _ in absent], self._embedder.embed([t for _, t in absent])))
        with self._lock:
            self._data.update(found)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
            return np.stack([self._data[k] if k in self._data else found[k] for k, _ in keyed])
