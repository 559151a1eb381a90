"""The one `Pipeline`: ingest documents, answer questions. Every front end calls it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .answer import ExtractiveAnswerer
from .cache import AnswerCache, answer_key, served_from_cache, settings_fingerprint
from .chunk import chunk_document
from .config import Settings
from .embed import Embedder, make_embedder
from .errors import EmptyIndexError, IndexMismatchError, LoadError
from .followup import is_follow_up, last_user_question, rewrite
from .generate import Generator, SupportChecker, compose, rewrite_with_model, timings
from .guard import INSTRUCTIONS_REFUSED, looks_like_injection
from .llm import ChatBackend, make_backend
from .load import discover, load_document
from .lock import ingest_lock
from .manifest import Manifest, load_manifest
from .question import clean_question
from .rerank import Candidate, SentenceScorer, SentenceVectors
from .retrieve import HybridRetriever
from .store import ChunkStore, make_client
from .types import Answer, Chunk, Document, Hit, SourceInfo, Token

log = logging.getLogger(__name__)


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


@dataclass
class _Loaded:
    """The read side, loaded once and swapped whole after an ingest."""

    docs: dict[str, Document]
    retriever: HybridRetriever
    scorer: SentenceScorer
    answerer: ExtractiveAnswerer
    generator: Generator | None
    state: tuple[int, int]  # the store's (generation, revision) when loaded


class Pipeline:
    """Owns the settings, the embedder and the store; answers and ingests.

    Heavy parts (model, index) load lazily and once. `ask` is safe to call from
    several threads.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 backend: ChatBackend | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedding)
        self._backend = backend  # llm mode's chat model; made from settings when None
        self.store = ChunkStore(make_client(settings), settings, self.embedder)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self.cache = AnswerCache(settings.cache.size, settings.cache.wait_seconds)
        self._fingerprint = settings_fingerprint(settings)

    def with_settings(self, settings: Settings) -> Pipeline:
        """A pipeline for other settings sharing this one's models (evals, ablations)."""
        return Pipeline(settings, embedder=self.embedder, backend=self._backend)

    # -- ingest --------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False,
               on_mismatch: str = "error", progress: bool = True) -> IngestReport:
        """Ingest files and folders (default: the corpus folder and fetched sources).

        Unchanged documents are skipped by content hash; a changed one has its
        chunks replaced. A rebuild (asked for, or `on_mismatch="rebuild"` when the
        index was built with other settings) writes a new index and switches to it
        only when complete, so an interrupted rebuild leaves the old one answering.
        Returns an `IngestReport`; per-file failures are in it rather than raised.
        Raises `IndexMismatchError` (settings differ, no rebuild asked) and
        `IngestBusyError` (another ingest holds the data directory).
        """
        default = [self.settings.corpus_dir] + (
            [self.settings.sources_dir] if self.settings.sources_dir.is_dir() else [])
        with ingest_lock(Path(self.settings.data_dir)):
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
        manifest = load_manifest(self.settings.manifest_path)
        files, report.failed = discover(paths)
        todo = self._read(files, manifest, report, progress)
        self._write(todo, report, progress)
        if rebuild:
            self.store.commit_rebuild()
        report.seconds = time.perf_counter() - started
        return report

    def _read(self, files: list[Path], manifest: Manifest, report: IngestReport,
              progress: bool) -> list[tuple[Document, list[Chunk], bool]]:
        todo: list[tuple[Document, list[Chunk], bool]] = []
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

    def _write(self, todo: list[tuple[Document, list[Chunk], bool]], report: IngestReport,
               progress: bool) -> None:
        total = sum(len(chunks) for _, chunks, _ in todo)
        step = self.settings.embedding.batch_size * 4
        with tqdm(total=total, desc="embedding", unit="chunk", disable=not progress) as bar:
            for doc, chunks, existed in todo:
                texts = [self._embed_text(doc, c) for c in chunks]
                parts = []
                for i in range(0, len(texts), step):
                    parts.append(self.embedder.embed(texts[i:i + step]))
                    bar.update(len(texts[i:i + step]))
                sentences = [doc.text[s.start:s.end] for c in chunks for s in c.sentences]
                sentence_vectors = _embed_all(self.embedder, sentences, step)
                self.store.replace_document(doc, chunks, np.concatenate(parts), sentence_vectors)
                (report.updated if existed else report.added).append(doc.doc_id)
                report.chunks_written += len(chunks)

    def _embed_text(self, doc: Document, chunk: Chunk) -> str:
        if self.settings.embedding.with_title:
            return f"{doc.info.title}\n{chunk.text}"
        return chunk.text

    # -- read side -----------------------------------------------------------------

    def _load(self) -> _Loaded:
        with self._lock:
            state = self.store.state()
            # Another process (or this one) wrote to the index since it was loaded:
            # reload, so every reader answers from what is stored now.
            if self._loaded is not None and self._loaded.state != state:
                self._loaded = None
            if self._loaded is None:
                self.store.open(create=False)
                if self.store.counts()[1] == 0:
                    raise EmptyIndexError(
                        f"no documents are indexed in {self.settings.data_dir}; run "
                        "`rag ingest` (or `rag ingest PATH`) first")
                docs = self.store.documents()
                retriever = HybridRetriever.build(self.store, self.settings.retrieval, docs)
                scorer = SentenceScorer(SentenceVectors(self.store, self.embedder),
                                        retriever.lexical.idf, self.settings.answer)
                generator = None
                if self.settings.answer.mode == "llm":
                    checker = SupportChecker(retriever.lexical.idf, self.settings.llm.min_support)
                    backend = self._backend or make_backend(self.settings)
                    generator = Generator(backend, checker, self.settings)
                self._loaded = _Loaded(docs, retriever, scorer,
                                       ExtractiveAnswerer(self.settings.answer), generator,
                                       state)
            return self._loaded

    def ask(self, question: str, history: Sequence[dict[str, Any]] | None = None, *,
            use_cache: bool = True) -> Answer:
        """Answer one question with verified quotes, or refuse.

        `history` is the conversation so far (`{"role", "content"}` turns); a
        follow-up is rewritten into a standalone question, which is what the
        returned `Answer.question` holds. Raises `QuestionError` for an unusable
        question, `EmptyIndexError` when nothing is indexed and `ConfigError` when
        llm mode's model cannot be used. `use_cache=False` always computes the
        answer (evals); otherwise a repeat is served from the answer cache.
        """
        for event in self.ask_stream(question, history, use_cache=use_cache):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ended without an answer")

    def ask_stream(self, question: str, history: Sequence[dict[str, Any]] | None = None,
                   *, use_cache: bool = True) -> Iterator[Token | Answer]:
        """Like `ask`, but in llm mode yields the generated text as it comes (`Token`s)
        before the checked `Answer`, which is always the last event."""
        t0 = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        loaded = self._load()
        key = None
        if use_cache and self.cache.size:
            self.cache.sync(loaded.state)  # a re-index drops every cached answer
            key = answer_key(text, history, loaded.state, self._fingerprint)
            hit = self.cache.lookup(key, text)  # waits if another thread computes it
            if hit is not None:
                yield served_from_cache(hit, t0, time.perf_counter())
                return
        try:
            for event in self._answer_stream(text, history, loaded, t0):
                if key is not None and isinstance(event, Answer):
                    self.cache.put(key, text, event)
                yield event
        finally:
            if key is not None:
                self.cache.release(key)  # a failed computation must not keep others waiting

    def _answer_stream(self, text: str, history: Sequence[dict[str, Any]] | None,
                       loaded: _Loaded, t0: float) -> Iterator[Token | Answer]:
        text = self._standalone(text, history, loaded)
        if self.settings.answer.injection_guard and looks_like_injection(text):
            # The extractive path cannot be steered by a question, but answering
            # one that tries would present quotes as a reply to it.
            t1 = time.perf_counter()
            yield Answer(question=text, answer=INSTRUCTIONS_REFUSED, refused=True,
                         citations=(), timings_ms=timings(t0, t1, t1), status="not_covered")
            return
        hits, ranked = self._retrieve(loaded, text)
        t1 = time.perf_counter()
        # The refusal decision is made here, before any generation.
        drafted = loaded.answerer.answer(text, ranked, loaded.docs)
        base = Answer(question=text, answer=drafted.text, refused=drafted.refused,
                      status="not_covered" if drafted.refused else "answered",
                      citations=tuple(drafted.citations), timings_ms={}, hits=tuple(hits),
                      evidence_score=drafted.evidence_score)
        if drafted.refused or loaded.generator is None:
            yield replace(base, timings_ms=timings(t0, t1, time.perf_counter()))
            return
        yield from compose(loaded.generator, base, drafted.admitted, loaded.docs, t0, t1)

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        """The passages for a standalone question, best first (hybrid search, then
        sentence reranking): what answers are built from. Raises `QuestionError`
        for an unusable question and `EmptyIndexError` when nothing is indexed."""
        text = clean_question(question, self.settings.max_question_chars)
        return self._retrieve(self._load(), text, top_k)[0]

    def _retrieve(self, loaded: _Loaded, text: str, top_k: int | None = None
                  ) -> tuple[list[Hit], list[Candidate]]:
        """Hits (reranked, `top_k` or the setting's) and their scored sentences."""
        query_vector = self.embedder.embed([text])[0]
        r = self.settings.retrieval
        k = top_k or r.top_k
        pool = loaded.retriever.search(text, query_vector, top_k=max(r.rerank_depth, k))
        ranked = loaded.scorer.candidates(text, query_vector, pool, loaded.docs)
        hits = loaded.scorer.rerank(pool, ranked, k) if r.rerank else pool[:k]
        kept = {h.chunk.chunk_id for h in hits}
        return hits, [c for c in ranked if c.hit.chunk.chunk_id in kept]

    def _standalone(self, text: str, history: Sequence[dict[str, Any]] | None,
                    loaded: _Loaded) -> str:
        previous = last_user_question(history)
        if previous and loaded.generator is not None and self.settings.llm.rewrite_followups \
                and is_follow_up(text):
            better = rewrite_with_model(loaded.generator.backend, text, previous)
            if better:
                return better
        return rewrite(text, history)

    def sources(self) -> list[SourceInfo]:
        """The ingested documents' metadata, sorted by id (empty when nothing is indexed)."""
        self.store.open(create=False)
        if not self.store.is_open:
            return []
        return sorted((d.info for d in self.store.documents().values()), key=lambda i: i.doc_id)

    def warm_up(self) -> None:
        """Load the index and the model now, so the first question is not the slow one.
        Raises `EmptyIndexError` when nothing is indexed."""
        loaded = self._load()
        self.embedder.embed(["warm up"])
        if loaded.generator is not None:
            loaded.generator.warm_up()

    def stored_documents(self) -> dict[str, Document]:
        """A fresh read of every stored document (not the copy answers are built from)."""
        self._load()
        return self.store.documents()

    def document(self, doc_id: str) -> Document | None:
        return self._load().docs.get(doc_id)

    def stats(self) -> dict[str, object]:
        self.store.open(create=False)
        docs, chunks = self.store.counts()
        return {"documents": docs, "chunks": chunks, "embedding_model": self.embedder.name}



def _embed_all(embedder: Embedder, texts: list[str], step: int) -> np.ndarray:
    return np.concatenate([embedder.embed(texts[i:i + step]) for i in range(0, len(texts), step)])
