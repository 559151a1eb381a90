"""The one `Pipeline`: ingest documents, answer questions. Every front end calls it."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from .answer import Evidence, ExtractiveAnswerer
from .cache import AnswerCache, answer_key, served_from_cache, settings_fingerprint
from .chunk import chunk_document
from .confirm import confirm
from .config import Settings
from .desk.provenance import desk_files, with_desk
from .embed import Embedder, make_embedder
from .errors import EmptyIndexError, IndexMismatchError, LoadError, QuestionError
from .followup import is_follow_up, last_user_question, rewrite
from .generate import Generator, SupportChecker, compose, rewrite_with_model, timings
from .guard import INSTRUCTIONS_REFUSED, looks_like_injection
from .llm import ChatBackend, make_backend
from .load import discover, load_document
from .lock import ingest_lock
from .manifest import Manifest, load_manifest
from .question import clean_question
from .rerank import Candidate, SentenceScorer, SentenceVectors
from .scorer import Bars, LearnedScorer
from .retrieve import HybridRetriever
from .windows import DocSentences
from .store import ChunkStore, make_client
from .types import Answer, Chunk, Document, Hit, SourceInfo, Span, Token

if TYPE_CHECKING:
    from .langchain import NewsroomQA

log = logging.getLogger(__name__)

# Told (stage, done, total) as documents are chunked, embedded and indexed.
Progress = Callable[[str, int, int], None]


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
        # Each thread's last question and its vector: a LangChain retriever asks for
        # a question's hits, then for their best sentences, and embeds it once. One
        # slot per thread, so other requests never see a cached vector.
        self._last_query = threading.local()
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
        default = [self.settings.corpus_dir] + [
            d for d in (self.settings.sources_dir, desk_files(self.settings)) if d.is_dir()]
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
        # Documents added or edited on the sources desk keep their metadata on a rebuild.
        manifest = with_desk(load_manifest(self.settings.manifest_path), self.settings)
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
               progress: bool, on_progress: Progress | None = None) -> None:
        """Embed the chunks and sentences of several documents in one pass, then
        store each document. A sentence repeated (the overlap between chunks, or
        the same words twice) is embedded once, and the texts are sorted by length
        so that a batch holds texts of similar length (less padding)."""
        groups = [self._texts(group) for group in _groups(todo, _GROUP_TEXTS)]
        total = sum(len(texts) for _, texts, _ in groups)
        tell = on_progress or (lambda stage, done, total: None)
        tell("embedding", 0, total)
        with tqdm(total=total, desc="embedding", unit="text", disable=not progress) as bar:
            def embedded(n: int) -> None:
                bar.update(n)
                tell("embedding", bar.n, total)
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

    def _texts(self, group: list[tuple[Document, list[Chunk], bool]]
               ) -> tuple[list[tuple[Document, list[Chunk], bool]], list[str],
                          list[tuple[list[int], list[int]]]]:
        """The distinct texts to embed for these documents, and for each document
        the row of each chunk's and each sentence's vector among them."""
        texts: dict[str, int] = {}
        rows = []
        for doc, chunks, _ in group:
            chunk_rows = [texts.setdefault(self._embed_text(doc, c), len(texts)) for c in chunks]
            sentence_rows = [texts.setdefault(doc.text[s.start:s.end], len(texts))
                             for c in chunks for s in c.sentences]
            rows.append((chunk_rows, sentence_rows))
        return group, list(texts), rows

    def _embed_text(self, doc: Document, chunk: Chunk) -> str:
        if self.settings.embedding.with_title:
            return f"{doc.info.title}\n{chunk.text}"
        return chunk.text

    # -- the sources desk (rag/desk): documents read elsewhere, committed whole ------

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
        tell = on_progress or (lambda stage, done, total: None)
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
            self._write(todo, report, False, on_progress)
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
        """Every indexed document as answers see it now, with its number of passages,
        sorted by id; empty when nothing is indexed."""
        try:
            loaded = self._load()
        except EmptyIndexError:
            return []
        counts = Counter(c.doc_id for c in loaded.retriever.chunks.values())
        return [(loaded.docs[d], counts[d]) for d in sorted(loaded.docs)]

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
                scorer = SentenceScorer(vectors, retriever.lexical.idf, self.settings.answer)
                answerer = self._answerer(docs, retriever, vectors)
                generator = None
                if self.settings.answer.mode == "llm":
                    checker = SupportChecker(retriever.lexical.idf, self.settings.llm.min_support)
                    backend = self._backend or make_backend(self.settings)
                    generator = Generator(backend, checker, self.settings)
                self._loaded = _Loaded(docs, retriever, scorer, answerer, generator, state)
            return self._loaded

    def _answerer(self, docs: dict[str, Document], retriever: HybridRetriever,
                  vectors: SentenceVectors) -> ExtractiveAnswerer:
        cfg = self.settings.answer
        learned = None
        if cfg.scorer == "learned":
            learned = LearnedScorer.load(cfg.scorer_path)
            learned.bars = Bars(learned.bars.answered if cfg.answered_bar is None
                                else cfg.answered_bar,
                                learned.bars.relevant if cfg.relevant_bar is None
                                else cfg.relevant_bar)
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in retriever.chunks.values():
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        sentences = {d: DocSentences(docs[d], chunks) for d, chunks in by_doc.items()
                     if d in docs}
        idf = retriever.lexical.idf
        return ExtractiveAnswerer(cfg, vectors, idf, idf("\u2400"), sentences, learned)

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
            yield Answer(question=text, answer=INSTRUCTIONS_REFUSED, refused=True,
                         citations=(), timings_ms=timings(t0, t1, t1), status="not_covered")
            return
        query_vector = self.embedder.embed([text])[0]
        hits, ranked = self._retrieve(loaded, text, query_vector, kinds=kinds)
        t1 = time.perf_counter()
        # The refusal decision is made here, before any generation.
        drafted = loaded.answerer.answer(text, query_vector, ranked, loaded.docs)
        if self.settings.answer.verify_uncertain and drafted.status == "uncertain":
            drafted = confirm(self._chat_backend(), text, drafted)
        base = Answer(question=text, answer=drafted.text, refused=drafted.refused,
                      status=drafted.status, confidence=drafted.confidence,
                      citations=tuple(drafted.citations), timings_ms={}, hits=tuple(hits),
                      evidence_score=drafted.evidence_score)
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
        return self._retrieve(loaded, text, self._query_vector(text), top_k,
                              _check_kinds(loaded, kinds))[0]

    def _retrieve(self, loaded: _Loaded, text: str, query_vector: np.ndarray,
                  top_k: int | None = None, kinds: tuple[str, ...] | None = None
                  ) -> tuple[list[Hit], list[Candidate]]:
        """Hits (reranked, `top_k` or the setting's) and their scored sentences."""
        r = self.settings.retrieval
        k = top_k or r.top_k
        pool = loaded.retriever.search(text, query_vector, top_k=max(r.rerank_depth, k),
                                       kinds=kinds)
        ranked = loaded.scorer.candidates(text, query_vector, pool, loaded.docs)
        hits = loaded.scorer.rerank(pool, ranked, k) if r.rerank else pool[:k]
        kept = {h.chunk.chunk_id for h in hits}
        return hits, [c for c in ranked if c.hit.chunk.chunk_id in kept]

    def evidence(self, question: str, exclude_docs: Sequence[str] = ()) -> Evidence:
        """The scored windows and signals an answer to a standalone question is
        decided from (what the scorer is trained and calibrated on). `exclude_docs`
        leaves documents out, as if they were not indexed."""
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
        return loaded.answerer.evidence(text, query_vector, ranked, loaded.docs)

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
        self.embedder.embed(["warm up"])
        if loaded.generator is not None:
            loaded.generator.warm_up()

    def stored_documents(self) -> dict[str, Document]:
        """A fresh read of every stored document (not the copy answers are built from)."""
        self._load()
        return self.store.documents()

    def document(self, doc_id: str) -> Document | None:
        return self._load().docs.get(doc_id)

    def best_sentences(self, question: str, hits: Sequence[Hit]) -> dict[str, Span]:
        """The best sentence of each of `hits` for `question`, by chunk id, as the
        reranker scores them; a hit with no usable sentence is absent. Raises like
        `retrieve`."""
        text = clean_question(question, self.settings.max_question_chars)
        loaded = self._load()
        ranked = loaded.scorer.candidates(text, self._query_vector(text), list(hits),
                                          loaded.docs)
        best: dict[str, Span] = {}
        for cand in ranked:  # best first
            best.setdefault(cand.hit.chunk.chunk_id, cand.span)
        return best

    def _query_vector(self, text: str) -> np.ndarray:
        last = getattr(self._last_query, "pair", None)
        if last is None or last[0] != text:
            last = self._last_query.pair = (text, self.embedder.embed([text])[0])
        return last[1]

    def as_runnable(self) -> NewsroomQA:
        """This pipeline as a LangChain `Runnable` (see `rag.langchain.NewsroomQA`)."""
        from .langchain import NewsroomQA

        return NewsroomQA(self)

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


# Texts embedded before their documents are stored: bounds memory on a big ingest.
_GROUP_TEXTS = 8192


def _groups(todo: list[tuple[Document, list[Chunk], bool]], limit: int
            ) -> Iterator[list[tuple[Document, list[Chunk], bool]]]:
    group: list[tuple[Document, list[Chunk], bool]] = []
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
