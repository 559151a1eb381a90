"""The `Ingestor`: files in, documents, chunks and vectors written to the store.

Unchanged documents are skipped by content hash; a changed one has its chunks
replaced; a rebuild writes a new generation and switches to it only when complete.
The sources desk (`rag.desk`) writes through the same object: `add_documents`
(documents it read itself), `remove_documents` and `inventory`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.config import Settings
from rag.errors import IndexMismatchError, LoadError
from rag.index.embed import Embedder
from rag.index.store import ChunkStore
from rag.ingest.chunk import chunk_document
from rag.ingest.load import discover, load_document
from rag.ingest.lock import ingest_lock
from rag.ingest.manifest import Manifest, load_manifest
from rag.ingest.provenance import desk_files, with_desk
from rag.types import Chunk, Document

# A document to write: its chunks, and whether an older version of it was stored.
Todo = tuple[Document, list[Chunk], bool]

# Told (stage, done, total) as documents are chunked, embedded and indexed.
Progress = Callable[[str, int, int], None]

# Texts embedded before their documents are stored: bounds memory on a big ingest.
_GROUP_TEXTS = 8192


@dataclass
class IngestReport:
    """What an ingest did; `failed` holds one error per file that could not be loaded."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[LoadError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    chunks_written: int = 0
    rebuilt: bool = False
    seconds: float = 0.0


class Ingestor:
    """Reads files into documents and writes them, embedded, to `store`.

    `write` is the seam a benchmark may override (another embedding order). The
    `Pipeline` that owns it (`Pipeline.ingestor`) reloads whatever it commits."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder

    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False,
               on_mismatch: str = "error", progress: bool = True) -> IngestReport:
        """Ingest files and folders (default: the corpus folder, fetched sources and
        the files the sources desk stored).

        A rebuild (asked for, or `on_mismatch="rebuild"` when the index was built
        with other settings) writes a new index and switches to it only when
        complete, so an interrupted rebuild leaves the old one answering.
        Returns an `IngestReport`; per-file failures are in it rather than raised.
        Raises `IndexMismatchError` (settings differ, no rebuild asked) and
        `IngestBusyError` (another ingest holds the data directory).
        """
        s = self.settings
        default = [s.corpus_dir] + [d for d in (s.sources_dir, desk_files(s)) if d.is_dir()]
        with ingest_lock(Path(s.data_dir)):
            return self._ingest(list(paths or default), rebuild, on_mismatch, progress)

    def _ingest(self, paths: list[Path], rebuild: bool, on_mismatch: str,
                progress: bool) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        try:
            self.store.check()
        except IndexMismatchError:
            if on_mismatch != "rebuild":
                raise
            rebuild = True
        if rebuild:
            self.store.begin_rebuild()
            report.rebuilt = True
        else:
            self.store.open(create=True)
        # Documents added or edited on the sources desk keep their metadata on a rebuild.
        manifest = with_desk(load_manifest(self.settings.manifest_path), self.settings)
        files, report.failed = discover(paths)
        todo = self.read(files, manifest, report, progress)
        self.write(todo, report, progress)
        if rebuild:
            self.store.commit_rebuild()
        report.seconds = time.perf_counter() - started
        return report

    def read(self, files: list[Path], manifest: Manifest, report: IngestReport,
             progress: bool) -> list[Todo]:
        """Load and chunk the new or changed files; notes and failures go to `report`."""
        todo: list[Todo] = []
        seen: dict[str, Path] = {}
        by_hash: dict[str, tuple[str, Path]] = {}
        for path in tqdm(files, desc="reading", unit="file", disable=not progress):
            try:
                doc = load_document(path, manifest, self.settings.max_file_mb * 2**20)
            except LoadError as exc:
                report.failed.append(exc)
                continue
            twin = by_hash.get(doc.content_hash)
            if twin is not None:
                # The same text under another name or folder is indexed once.
                report.notes.append(f"{path}: same content as {twin[1]}; indexed once "
                                    f"as {twin[0]!r}")
                continue
            if doc.doc_id in seen:
                report.failed.append(LoadError(path, f"same document id {doc.doc_id!r} as "
                                               f"{seen[doc.doc_id]}; rename one of them"))
                continue
            seen[doc.doc_id] = path
            by_hash[doc.content_hash] = (doc.doc_id, path)
            stored = self.store.stored_hash(doc.doc_id)
            if stored == doc.content_hash:
                report.unchanged.append(doc.doc_id)
                continue
            todo.append((doc, chunk_document(doc, self.settings.chunking), stored is not None))
        return todo

    def write(self, todo: list[Todo], report: IngestReport, progress: bool,
              on_progress: Progress | None = None) -> None:
        """Embed the chunks and sentences of several documents in one pass, then
        store each document. A sentence repeated (the overlap between chunks, or
        the same words twice) is embedded once, and the texts are sorted by length
        so that a batch holds texts of similar length (less padding).
        `on_progress(stage, done, total)` hears "embedding" and "indexing"."""
        groups = [self._texts(group) for group in _groups(todo, _GROUP_TEXTS)]
        total = sum(len(texts) for _, texts, _ in groups)
        tell = on_progress or _silent
        tell("embedding", 0, total)
        with tqdm(total=total, desc="embedding", unit="text", disable=not progress) as bar:
            done = 0

            def embedded(n: int) -> None:
                nonlocal done
                done += n
                bar.update(n)  # a disabled bar counts nothing: count here
                tell("embedding", done, total)
            for group, texts, rows in groups:
                vectors = _embed_sorted(self.embedder, texts,
                                        self.settings.embedding.batch_size * 8, embedded)
                for (doc, chunks, existed), (chunk_rows, sentence_rows) in zip(group, rows,
                                                                               strict=True):
                    tell("indexing", len(report.added) + len(report.updated), len(todo))
                    self.store.replace_document(doc, chunks, vectors[chunk_rows],
                                                vectors[sentence_rows])
                    (report.updated if existed else report.added).append(doc.doc_id)
                    report.chunks_written += len(chunks)

    # -- the sources desk: documents read elsewhere, committed whole --------------

    def add_documents(self, docs: Sequence[Document], *, force: bool = False,
                      on_progress: Progress | None = None) -> IngestReport:
        """Index documents already read (the desk reads uploads in a sandbox) the way
        `ingest` does: chunked, embedded, each one stored whole (readers switch to
        it when its record is written, and a crash before leaves the previous
        version answering). Unchanged documents are skipped unless `force` (a
        metadata edit). `on_progress(stage, done, total)` hears "chunking",
        "embedding" and "indexing". Raises `IngestBusyError` and `IndexMismatchError`."""
        started = time.perf_counter()
        report = IngestReport()
        tell = on_progress or _silent
        with ingest_lock(Path(self.settings.data_dir)):
            self.store.open(create=True)
            todo = []
            for i, doc in enumerate(docs):
                tell("chunking", i, len(docs))
                stored = self.store.stored_hash(doc.doc_id)
                if stored == doc.content_hash and not force:
                    report.unchanged.append(doc.doc_id)
                    continue
                todo.append((doc, chunk_document(doc, self.settings.chunking),
                             stored is not None))
            self.write(todo, report, False, on_progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove_documents(self, doc_ids: Sequence[str]) -> list[str]:
        """Remove documents from the index; answers (and the answer cache, keyed by
        the index revision) drop them at once. Returns the ids that were indexed.
        Raises `IngestBusyError` when another ingest holds the data directory."""
        with ingest_lock(Path(self.settings.data_dir)):
            self.store.open(create=False)
            if not self.store.is_open:
                return []
            present = [d for d in doc_ids if self.store.stored_hash(d) is not None]
            for doc_id in present:
                self.store.remove_document(doc_id)
            return present

    def inventory(self) -> list[tuple[Document, int]]:
        """Every indexed document with its number of passages, sorted by id (read
        from the documents' records, which switch with their passages); empty when
        nothing is indexed."""
        self.store.open(create=False)
        if not self.store.is_open:
            return []
        docs, passages = self.store.documents(), self.store.passages()
        return [(docs[d], passages.get(d, 0)) for d in sorted(docs)]

    def embed_text(self, doc: Document, chunk: Chunk) -> str:
        """What is embedded for a chunk (with its document's title when set so)."""
        if self.settings.embedding.with_title:
            return f"{doc.info.title}\n{chunk.text}"
        return chunk.text

    def _texts(self, group: list[Todo]
               ) -> tuple[list[Todo], list[str], list[tuple[list[int], list[int]]]]:
        """The distinct texts to embed for these documents, and for each document
        the row of each chunk's and each sentence's vector among them."""
        texts: dict[str, int] = {}
        rows = []
        for doc, chunks, _ in group:
            chunk_rows = [texts.setdefault(self.embed_text(doc, c), len(texts)) for c in chunks]
            sentence_rows = [texts.setdefault(doc.text[s.start:s.end], len(texts))
                             for c in chunks for s in c.sentences]
            rows.append((chunk_rows, sentence_rows))
        return group, list(texts), rows


def _silent(stage: str, done: int, total: int) -> None:
    """A progress callback that hears nothing."""


def _groups(todo: list[Todo], limit: int) -> Iterator[list[Todo]]:
    group: list[Todo] = []
    size = 0
    for item in todo:
        group.append(item)
        size += sum(1 + len(c.sentences) for c in item[1])
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


def _embed_sorted(embedder: Embedder, texts: list[str], step: int,
                  done: Callable[[int], object]) -> np.ndarray:
    """Vectors of `texts` (in their order), embedded longest first in calls of `step`;
    `done(n)` is told after each call."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    parts = []
    for i in range(0, len(order), step):
        parts.append(embedder.embed([texts[j] for j in order[i:i + step]]))
        done(len(parts[-1]))
    stacked = np.concatenate(parts)
    out = np.empty_like(stacked)
    out[order] = stacked
    return out
