"""The Chroma index: chunk vectors (through langchain-chroma) and full document texts.

Three collections share one Chroma client:
- `<name>-chunks`: one record per chunk, its vector, and offsets and its document's
  kind (report, news...) as metadata, so a search can be restricted to some kinds;
  it also records the embedding/chunking fingerprint in its metadata.
- `<name>-sentences`: one vector per sentence of every chunk (id
  `<chunk_id>#<i>`), so reranking and quote selection need no embedding at
  question time.
- `<name>-docs`: one record per document holding the normalized full text, so any
  quote can be checked against it, and the content hash that makes ingest
  incremental. A document's record is written *after* its chunks, so it doubles
  as the commit marker: a crash mid-document leaves an old or missing hash and
  the next ingest redoes that document.
Raw Chroma results become our own types here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from rag.config import Settings
from rag.index.embed import Embedder, LangChainEmbeddings
from rag.errors import ConfigError, IndexMismatchError
from rag.types import Chunk, Document, SourceInfo, Span

log = logging.getLogger(__name__)

_PAGE_SIZE = 10_000  # records per Chroma `get` when reading a whole collection (fewer, larger reads)


def make_client(settings: Settings) -> ClientAPI:
    """A Chroma client: the server `chroma_url` names, else a persistent store under
    `data_dir/chroma` (telemetry off either way)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"RAG_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL")
        try:
            return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectError types
            raise ConfigError(f"cannot reach the Chroma server at {settings.chroma_url} "
                              f"({exc}); start it (`chroma run`) or fix RAG_CHROMA_URL") from exc
    path = Path(settings.data_dir) / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create data directory {path} ({exc}); set RAG_DATA_DIR "
                          "to a writable folder") from exc
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChunkStore:
    """Chunks and documents in Chroma, checked against the current settings.

    The collections of one index carry a generation number; a small `<name>-active`
    collection's metadata says which generation is live and a revision counter that
    every write bumps, so readers (in any process) notice changes. A rebuild writes a
    new generation and switches to it only when complete.
    """

    def __init__(self, client: ClientAPI, settings: Settings, embedder: Embedder) -> None:
        self._client = client
        self._settings = settings
        self._fingerprint = settings.index_fingerprint()
        self._base = settings.collection
        self._embedder = embedder
        self.generation: int | None = None
        self._chunks: Collection | None = None
        self._docs: Collection | None = None
        self._sentences: Collection | None = None
        self._lc: Chroma | None = None

    # -- generations -------------------------------------------------------------

    def _names(self, generation: int) -> tuple[str, str, str]:
        stem = f"{self._base}-g{generation}"
        return f"{stem}-chunks", f"{stem}-docs", f"{stem}-sentences"

    def _meta(self) -> Collection:
        return self._client.get_or_create_collection(
            f"{self._base}-active", embedding_function=None,
            metadata={"generation": 0, "revision": 0})

    def state(self) -> tuple[int, int]:
        """(live generation, revision); (0, 0) when nothing was ever built."""
        meta = self._meta().metadata or {}
        return int(meta.get("generation", 0)), int(meta.get("revision", 0))

    def _set_state(self, generation: int, revision: int) -> None:
        self._meta().modify(metadata={"generation": generation, "revision": revision})

    def bump_revision(self) -> None:
        generation, revision = self.state()
        self._set_state(generation, revision + 1)

    def _generations(self) -> set[int]:
        found = set()
        for c in self._client.list_collections():
            name = c.name if hasattr(c, "name") else str(c)
            if name.startswith(f"{self._base}-g") and name.endswith("-chunks"):
                middle = name[len(self._base) + 2:-len("-chunks")]
                if middle.isdigit():
                    found.add(int(middle))
        return found

    # -- opening -----------------------------------------------------------------

    def exists(self) -> bool:
        return self.state()[0] > 0

    def stored_fingerprint(self) -> dict[str, Any] | None:
        generation = self.state()[0]
        if not generation:
            return None
        return dict(self._client.get_collection(self._names(generation)[0]).metadata or {})

    def check(self) -> None:
        """Raise `IndexMismatchError` when the index was built with other settings."""
        stored = self.stored_fingerprint()
        if stored is None or stored.get("fingerprint") == self._fingerprint["fingerprint"]:
            return
        diffs = [f"{key}: index has {stored.get(key)!r}, settings say {value!r}"
                 for key, value in self._fingerprint.items()
                 if key != "fingerprint" and stored.get(key) != value]
        raise IndexMismatchError(
            f"the index in {self._settings.data_dir} was built with other settings ("
            + "; ".join(diffs or ["chunker version"])
            + "). Re-ingest with `rag ingest --rebuild`, or restore the old settings."
        )

    def open(self, create: bool) -> None:
        """Open the live generation (with `create`, make generation 1 when there is
        none) after checking the settings."""
        self.check()
        generation = self.state()[0]
        if not generation:
            if not create:
                return
            generation = 1
            self._attach(generation)
            self._set_state(generation, 0)
            return
        self._attach(generation)

    def _attach(self, generation: int) -> None:
        chunks, docs, sentences = self._names(generation)
        self._chunks = self._client.get_or_create_collection(
            chunks, embedding_function=None, metadata=self._fingerprint,
            configuration={"hnsw": {"space": "cosine"}})
        self._docs = self._client.get_or_create_collection(
            docs, embedding_function=None, metadata={"kind": "documents"})
        self._sentences = self._client.get_or_create_collection(
            sentences, embedding_function=None, metadata={"kind": "sentences"},
            configuration={"hnsw": {"space": "cosine"}})
        self._lc = Chroma(client=self._client, collection_name=chunks,
                          embedding_function=LangChainEmbeddings(self._embedder),
                          create_collection_if_not_exists=False)
        self.generation = generation

    def begin_rebuild(self) -> None:
        """Point this store at a fresh generation; readers keep the live one until
        `commit_rebuild`. Leftovers of an interrupted rebuild are removed first."""
        live = self.state()[0]
        for old in self._generations() - {live}:
            self._drop(old)
        self._attach(max(self._generations() | {live}) + 1)

    def commit_rebuild(self) -> None:
        """Make the generation this store writes to the live one; drop the old one."""
        if self.generation is None:
            raise RuntimeError("begin_rebuild() was not called")
        live, revision = self.state()
        self._set_state(self.generation, revision + 1)
        if live and live != self.generation:
            self._drop(live)

    def _drop(self, generation: int) -> None:
        for name in self._names(generation):
            try:
                self._client.delete_collection(name)
            except (ValueError, chromadb.errors.NotFoundError):
                pass

    @property
    def is_open(self) -> bool:
        return self._chunks is not None

    def _require(self) -> tuple[Collection, Collection]:
        if self._chunks is None or self._docs is None:
            raise RuntimeError("ChunkStore.open() was not called")
        return self._chunks, self._docs

    def _sentence_col(self) -> Collection:
        if self._sentences is None:
            raise RuntimeError("ChunkStore.open() was not called")
        return self._sentences

    # -- writing -----------------------------------------------------------------

    def stored_hash(self, doc_id: str) -> str | None:
        _, docs = self._require()
        got = docs.get(ids=[doc_id], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0]["content_hash"]) if metas and metas[0] else None

    def replace_document(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray,
                         sentence_vectors: np.ndarray) -> None:
        """Replace whatever is stored for `doc.doc_id` with these chunks.

        `sentence_vectors` has one row per sentence of every chunk, in order.
        """
        chunk_col, docs = self._require()
        sent_col = self._sentence_col()
        # Crash-safe order: the new chunks (ids carry the new content hash) go in
        # beside the old ones, the document record switches readers to them, and
        # only then are the old ones removed. Readers only use chunks whose hash
        # matches their document's record.
        step = max(1, min(self._client.get_max_batch_size(), 1000))
        for i in range(0, len(chunks), step):
            batch = chunks[i:i + step]
            chunk_col.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors[i:i + step],
                documents=[c.text for c in batch],
                metadatas=[_chunk_meta(c, doc.content_hash, doc.info.kind) for c in batch],
            )
        ids = [sentence_id(c.chunk_id, i) for c in chunks for i in range(len(c.sentences))]
        for i in range(0, len(ids), step):
            sent_col.upsert(ids=ids[i:i + step], embeddings=sentence_vectors[i:i + step],
                            metadatas=[{"doc_id": doc.doc_id, "content_hash": doc.content_hash}]
                            * len(ids[i:i + step]))
        docs.upsert(ids=[doc.doc_id], documents=[doc.text],
                    embeddings=np.ones((1, 1), np.float32),
                    metadatas=[_doc_meta(doc, len(chunks))])
        stale = cast(Where, {"$and": [{"doc_id": doc.doc_id},
                                      {"content_hash": {"$ne": doc.content_hash}}]})
        chunk_col.delete(where=stale)
        sent_col.delete(where=stale)
        self.bump_revision()

    def remove_document(self, doc_id: str) -> None:
        chunk_col, docs = self._require()
        docs.delete(ids=[doc_id])
        chunk_col.delete(where={"doc_id": doc_id})
        self._sentence_col().delete(where={"doc_id": doc_id})
        self.bump_revision()

    # -- reading -----------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the index; (0, 0) when it does not exist."""
        if not self.is_open:
            return 0, 0
        chunk_col, docs = self._require()
        return docs.count(), chunk_col.count()

    def documents(self) -> dict[str, Document]:
        _, docs = self._require()
        out = {}
        for got in _pages(docs, ["documents", "metadatas"]):
            for doc_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[doc_id] = _doc_from_record(doc_id, text, meta)
        return out

    def passages(self) -> dict[str, int]:
        """The number of chunks of each stored document's current version."""
        _, docs = self._require()
        return {doc_id: int(meta["n_chunks"]) for got in _pages(docs, ["metadatas"])
                for doc_id, meta in zip(got["ids"], got["metadatas"])}

    def chunks(self, current: dict[str, str] | None = None) -> list[Chunk]:
        """Every chunk; with `current` (doc id -> content hash), only the chunks of
        those documents' current versions (leftovers of an interrupted write and
        chunks of documents without a record are skipped)."""
        chunk_col, _ = self._require()
        out = []
        for got in _pages(chunk_col, ["documents", "metadatas"]):
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if current is not None and current.get(str(meta["doc_id"])) != meta.get(
                        "content_hash"):
                    continue
                out.append(_chunk_from_record(cid, text, meta))
        out.sort(key=lambda c: (c.doc_id, c.index))
        return out

    def sentence_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given sentence ids (missing ids are left out)."""
        if not ids:
            return {}
        got = self._sentence_col().get(ids=ids, include=["embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], vectors)}

    def dense_search(self, vector: np.ndarray, k: int, kinds: Sequence[str] | None = None
                     ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the `k` nearest chunks, best first; with
        `kinds`, only chunks of documents of those kinds (a Chroma `where` filter)."""
        if self._lc is None:
            raise RuntimeError("ChunkStore.open() was not called")
        total = self.counts()[1]
        if total == 0:
            return []
        found = self._lc.similarity_search_by_vector_with_relevance_scores(
            vector.tolist(), k=min(k, total), filter=kind_filter(kinds))
        # LangChain hands back Chroma's cosine *distance* here, despite the name.
        return [(str(doc.id), 1.0 - float(distance)) for doc, distance in found]


def kind_filter(kinds: Sequence[str] | None) -> dict[str, Any] | None:
    """The Chroma `where` clause keeping chunks of these kinds (None: no filter)."""
    if not kinds:
        return None
    return {"kind": {"$in": sorted(set(kinds))}}


def sentence_id(chunk_id: str, index: int) -> str:
    return f"{chunk_id}#{index}"


def _pages(col: Collection, include: list[str]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        got = col.get(include=include, limit=_PAGE_SIZE, offset=offset)  # type: ignore[arg-type]
        if not got["ids"]:
            return
        yield dict(got)
        offset += len(got["ids"])


def _chunk_meta(chunk: Chunk, content_hash: str, kind: str) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id, "content_hash": content_hash, "kind": kind,
        "index": chunk.index, "start": chunk.start,
        "end": chunk.end, "page": chunk.page if chunk.page is not None else -1,
        "sentences": json.dumps([[s.start, s.end] for s in chunk.sentences]),
    }


def _chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    page = int(meta["page"])
    return Chunk(
        chunk_id=chunk_id, doc_id=str(meta["doc_id"]), index=int(meta["index"]),
        start=int(meta["start"]), end=int(meta["end"]), text=text,
        page=None if page < 0 else page,
        sentences=tuple(Span(s, e) for s, e in json.loads(str(meta["sentences"]))),
    )


def _doc_meta(doc: Document, n_chunks: int) -> dict[str, Any]:
    info = doc.info
    return {
        "title": info.title, "publisher": info.publisher, "date": info.date,
        "kind": info.kind, "url": info.url or "", "license": info.license,
        "path": info.path or "", "content_hash": doc.content_hash,
        "page_starts": json.dumps(list(doc.page_starts)), "n_chunks": n_chunks,
    }


def _doc_from_record(doc_id: str, text: str, meta: dict[str, Any]) -> Document:
    info = SourceInfo(
        doc_id=doc_id, title=str(meta["title"]), publisher=str(meta["publisher"]),
        date=str(meta["date"]), kind=str(meta["kind"]), url=str(meta["url"]) or None,
        license=str(meta["license"]), path=str(meta["path"]) or None,
    )
    return Document(info=info, text=text, content_hash=str(meta["content_hash"]),
                    page_starts=tuple(json.loads(str(meta["page_starts"]))))
