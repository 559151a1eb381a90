"""The one `Pipeline`: ingest documents, answer questions. Every front end calls it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.evidence import Evidence, WindowScorer
from rag.answer.reader import WindowReader, shared_reader
from rag.answer.scorer import LearnedScorer
from rag.answer.states import decide
from rag.answer.windows import DocSentences
from rag.answer.wording import not_covered
from rag.cache import AnswerCache, answer_key, served_from_cache, settings_fingerprint
from rag.config import Settings
from rag.errors import EmptyIndexError, QuestionError
from rag.index.embed import Embedder, make_embedder
from rag.index.store import ChunkStore, make_client
from rag.index.vectors import SentenceVectors
from rag.ingest.ingestor import Ingestor, IngestReport
from rag.llm.backends import ChatBackend, make_backend
from rag.llm.confirm import confirm
from rag.llm.generate import Generator, SupportChecker, compose, rewrite_with_model, timings
from rag.question.clean import clean_question
from rag.question.followup import is_follow_up, last_user_question, rewrite
from rag.question.guard import INSTRUCTIONS_REASON, looks_like_injection
from rag.retrieve.hybrid import HybridRetriever
from rag.retrieve.rerank import Candidate, SentenceScorer, with_sentences
from rag.types import Answer, Chunk, Document, Hit, SourceInfo, Token

log = logging.getLogger(__name__)


@dataclass
class _Loaded:
    """The read side, loaded once and swapped whole after an ingest."""

    docs: dict[str, Document]
    retriever: HybridRetriever
    scorer: SentenceScorer
    windows: WindowScorer
    generator: Generator | None
    state: tuple[int, int]  # the store's (generation, revision) when loaded


class Pipeline:
    """Owns the settings, the embedder and the store; answers and ingests.

    Heavy parts (model, index) load lazily and once. `ask` is safe to call from
    several threads. `ingestor` is the write side (an `Ingestor` on this pipeline's
    store and embedder): the one seam for code that changes the index while this
    pipeline answers (the sources desk); answers switch to what it commits, at the
    next question.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 backend: ChatBackend | None = None,
                 reader: WindowReader | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedding)
        self._backend = backend  # llm mode's chat model; made from settings when None
        self.store = ChunkStore(make_client(settings), settings, self.embedder)
        self.ingestor = Ingestor(settings, self.store, self.embedder)
        self._loaded: _Loaded | None = None
        self._scorer: LearnedScorer | None = None
        # The answer reader, loaded from settings when first needed; injected by tests
        # and by the calibration (which reads with a reader not calibrated yet).
        self._reader = reader
        self._lock = threading.Lock()
        self.cache = AnswerCache(settings.cache.size, settings.cache.wait_seconds)
        self._fingerprint = settings_fingerprint(settings)

    def with_settings(self, settings: Settings) -> Pipeline:
        """A pipeline for other settings sharing this one's models (evals, ablations)."""
        same = settings.answer.reader_path == self.settings.answer.reader_path
        return Pipeline(settings, embedder=self.embedder, backend=self._backend,
                        reader=self._reader if same else None)

    # -- ingest --------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False,
               on_mismatch: str = "error", progress: bool = True) -> IngestReport:
        """`Ingestor.ingest` on this pipeline's store and embedder (see there)."""
        return self.ingestor.ingest(paths, rebuild=rebuild, on_mismatch=on_mismatch,
                                    progress=progress)

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
                vectors = SentenceVectors(self.store, self.embedder)
                scorer = SentenceScorer(vectors, retriever.lexical.idf, self.settings.rerank)
                windows = self._window_scorer(docs, retriever, vectors)
                generator = None
                if self.settings.answer.mode == "llm":
                    checker = SupportChecker(retriever.lexical.idf, self.settings.llm.min_support)
                    backend = self._backend or make_backend(self.settings)
                    generator = Generator(backend, checker, self.settings)
                self._loaded = _Loaded(docs, retriever, scorer, windows, generator, state)
            return self._loaded

    def _window_scorer(self, docs: dict[str, Document], retriever: HybridRetriever,
                       vectors: SentenceVectors) -> WindowScorer:
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in retriever.chunks.values():
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        sentences = {d: DocSentences(docs[d], chunks) for d, chunks in by_doc.items()
                     if d in docs}
        idf = retriever.lexical.idf
        return WindowScorer(self.settings.answer, vectors, idf, idf("\u2400"), sentences)

    def _learned(self) -> LearnedScorer:
        """The answer scorer, read once when first needed (not for training, which
        asks for unscored evidence). Raises `ConfigError` for a stale artefact."""
        with self._lock:
            if self._scorer is None:
                self._scorer = LearnedScorer.from_settings(self.settings.answer)
            return self._scorer

    def _answer_reader(self) -> WindowReader | None:
        """The answer reader when it judges (`answer.judge == "reader"`), read once.
        Raises `ConfigError` for a missing, stale or uncalibrated artefact."""
        if self.settings.answer.judge != "reader":
            return None
        with self._lock:
            if self._reader is None:
                self._reader = shared_reader(self.settings.answer.reader_path)
            return self._reader

    def ask(self, question: str, history: Sequence[dict[str, Any]] | None = None,
            kinds: Sequence[str] | None = None, *, use_cache: bool = True) -> Answer:
        """Answer one question with verified quotes, or refuse.

        `history` is the conversation so far (`{"role", "content"}` turns); a
        follow-up is rewritten into a standalone question, which is what the
        returned `Answer.question` holds. `kinds` (e.g. ["report"]) restricts the
        search to documents of those kinds; None or empty searches everything.
        Raises `QuestionError` for an unusable question or a kind the index does
        not hold, `EmptyIndexError` when nothing is indexed and `ConfigError` when
        llm mode's model cannot be used. `use_cache=False` always computes the
        answer (evals); otherwise a repeat is served from the answer cache.
        """
        for event in self.ask_stream(question, history, kinds, use_cache=use_cache):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ended without an answer")

    def ask_stream(self, question: str, history: Sequence[dict[str, Any]] | None = None,
                   kinds: Sequence[str] | None = None, *,
                   use_cache: bool = True) -> Iterator[Token | Answer]:
        """Like `ask`, but in llm mode yields the generated text as it comes (`Token`s)
        before the checked `Answer`, which is always the last event."""
        t0 = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        loaded = self._load()
        # `kinds` changes the answer: it belongs in the answer-cache key.
        checked = _check_kinds(loaded, kinds)
        key = None
        if use_cache and self.cache.size:
            self.cache.sync(loaded.state)  # a re-index drops every cached answer
            key = answer_key(text, history, loaded.state, self._fingerprint, checked)
            hit = self.cache.lookup(key, text)  # waits if another thread computes it
            if hit is not None:
                yield served_from_cache(hit, t0, time.perf_counter())
                return
        try:
            for event in self._answer_stream(text, history, loaded, t0, checked):
                if key is not None and isinstance(event, Answer):
                    self.cache.put(key, text, event)
                yield event
        finally:
            if key is not None:
                self.cache.release(key)  # a failed computation must not keep others waiting

    def _answer_stream(self, text: str, history: Sequence[dict[str, Any]] | None,
                       loaded: _Loaded, t0: float, kinds: tuple[str, ...] | None
                       ) -> Iterator[Token | Answer]:
        text = self._standalone(text, history, loaded)
        if self.settings.answer.injection_guard and looks_like_injection(text):
            # The extractive path cannot be steered by a question, but answering
            # one that tries would present quotes as a reply to it.
            t1 = time.perf_counter()
            yield Answer(question=text, answer=not_covered(INSTRUCTIONS_REASON), refused=True,
                         citations=(), timings_ms=timings(t0, t1, t1), status="not_covered",
                         reason=INSTRUCTIONS_REASON)
            return
        query_vector = self.embedder.embed([text])[0]
        hits, ranked = self._retrieve(loaded, text, query_vector, kinds=kinds)
        t1 = time.perf_counter()
        # The refusal decision is made here, before any generation.
        scorer = self._learned()
        reader = self._answer_reader()
        ev = loaded.windows.evidence(text, query_vector, ranked, loaded.docs, scorer, reader)
        drafted = decide(ev, scorer, self.settings.answer, loaded.docs,
                         reader.bars if reader is not None else None)
        if self.settings.answer.verify_uncertain and drafted.status == "uncertain":
            drafted = confirm(self._chat_backend(), text, drafted)
        base = Answer(question=text, answer=drafted.text, refused=drafted.refused,
                      status=drafted.status, confidence=drafted.confidence,
                      citations=tuple(drafted.citations), timings_ms={}, hits=tuple(hits),
                      evidence_score=drafted.evidence_score, reason=drafted.reason)
        if drafted.refused or loaded.generator is None:
            yield replace(base, timings_ms=timings(t0, t1, time.perf_counter()))
            return
        yield from compose(loaded.generator, base, drafted.admitted, loaded.docs, t0, t1)

    def retrieve(self, question: str, top_k: int | None = None,
                 kinds: Sequence[str] | None = None) -> list[Hit]:
        """The passages for a standalone question, best first (hybrid search, then
        sentence reranking): what answers are built from; with `kinds`, only from
        documents of those kinds. Raises `QuestionError` for an unusable question or
        an unknown kind, and `EmptyIndexError` when nothing is indexed."""
        text = clean_question(question, self.settings.max_question_chars)
        loaded = self._load()
        return self._retrieve(loaded, text, self.embedder.embed([text])[0], top_k,
                              _check_kinds(loaded, kinds))[0]

    def _retrieve(self, loaded: _Loaded, text: str, query_vector: np.ndarray,
                  top_k: int | None = None, kinds: tuple[str, ...] | None = None
                  ) -> tuple[list[Hit], list[Candidate]]:
        """Hits (reranked, `top_k` or the setting's) and their scored sentences."""
        k = top_k or self.settings.retrieval.top_k
        rerank = self.settings.rerank
        pool = loaded.retriever.search(text, query_vector, top_k=max(rerank.depth, k),
                                       kinds=kinds)
        ranked = loaded.scorer.candidates(text, query_vector, pool, loaded.docs)
        hits = loaded.scorer.rerank(pool, ranked, k) if rerank.enabled else pool[:k]
        kept = {h.chunk.chunk_id for h in hits}
        ranked = [c for c in ranked if c.hit.chunk.chunk_id in kept]
        return with_sentences(hits, ranked), ranked

    def evidence(self, question: str, scorer: LearnedScorer | None,
                 exclude_docs: Sequence[str] = (), *, read: bool = False) -> Evidence:
        """The windows and signals an answer to a standalone question is decided
        from, scored by `scorer` (None: unscored, for training): what the scorer is
        trained and calibrated on; with `read`, also read by this pipeline's reader
        (what the reader is calibrated on). `exclude_docs` leaves documents out, as if
        they were not indexed."""
        loaded = self._load()
        text = clean_question(question, self.settings.max_question_chars)
        query_vector = self.embedder.embed([text])[0]
        if exclude_docs:  # look deeper, so as many passages remain as in a real run
            k = self.settings.retrieval.top_k
            hits, ranked = self._retrieve(loaded, text, query_vector, 3 * k)
            kept = {h.chunk.chunk_id for h in hits if h.chunk.doc_id not in exclude_docs}
            kept = set(list(dict.fromkeys(c.hit.chunk.chunk_id for c in ranked
                                          if c.hit.chunk.chunk_id in kept))[:k])
            ranked = [c for c in ranked if c.hit.chunk.chunk_id in kept]
        else:
            _, ranked = self._retrieve(loaded, text, query_vector)
        reader = self._reader_or_injected() if read else None
        return loaded.windows.evidence(text, query_vector, ranked, loaded.docs, scorer,
                                       reader)

    def _reader_or_injected(self) -> WindowReader:
        """The injected reader (calibration), else the configured one."""
        reader = self._reader or self._answer_reader()
        if reader is None:
            raise ValueError("evidence(read=True) needs a reader: inject one or set "
                             "answer.judge to 'reader'")
        return reader

    def _chat_backend(self) -> ChatBackend:
        """The chat model, made from the settings once, when first needed."""
        with self._lock:
            if self._backend is None:
                self._backend = make_backend(self.settings)
            return self._backend

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

    def kinds(self) -> list[str]:
        """The kinds of document in the index (e.g. news, report), sorted; empty when
        nothing is indexed."""
        try:
            return _known_kinds(self._load())
        except EmptyIndexError:
            return []

    def warm_up(self) -> None:
        """Load the index and the model now, so the first question is not the slow one.
        Raises `EmptyIndexError` when nothing is indexed."""
        loaded = self._load()
        self._learned()  # a stale scorer artefact is reported now, not at the first question
        reader = self._answer_reader()
        if reader is not None:  # its model loads now, not at the first question
            reader.logits("warm up", ["warm up"])
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


def _known_kinds(loaded: _Loaded) -> list[str]:
    return sorted({doc.info.kind for doc in loaded.docs.values()})


def _check_kinds(loaded: _Loaded, kinds: Sequence[str] | None) -> tuple[str, ...] | None:
    """The requested kinds, deduplicated (None: every kind). Raises `QuestionError`
    naming the known kinds when one is not in the index."""
    if not kinds:
        return None
    known = _known_kinds(loaded)
    unknown = [k for k in dict.fromkeys(kinds) if k not in known]
    if unknown:
        raise QuestionError(
            f"unknown kind of source {', '.join(repr(k) for k in unknown)}; the index "
            f"holds: {', '.join(known)}")
    return tuple(sorted(set(kinds)))
