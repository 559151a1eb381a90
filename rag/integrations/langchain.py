"""The project as LangChain components, for use in other people's chains.

- `NewsroomRetriever`: hybrid search (dense + BM25) and sentence reranking, the
  passages answers are built from, as `Document`s with their provenance.
- `NewsroomEmbeddings`: the packaged all-MiniLM-L6-v2 (or the configured model).
- `NewsroomQA`: the whole answering pipeline as a `Runnable`: a question in, the
  `rag ask --json` object out (verified quotes, citations, refusals).

All three call the one `Pipeline` through the `rag` facade (plus the embedding
model's LangChain wrapper); nothing here answers or retrieves by itself. Nothing
in `rag` imports this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import run_in_executor
from langchain_core.runnables.utils import AddableDict
from pydantic import ConfigDict, Field
# pydantic builds the input schema only from typing_extensions' TypedDict on 3.11.
from typing_extensions import NotRequired, TypedDict

from rag import Document, Hit, Pipeline, QuestionError, Settings, Token
from rag.config import EmbeddingSettings, RetrievalSettings, bounds
from rag.index.embed import LangChainEmbeddings, make_embedder

__all__ = ["NewsroomEmbeddings", "NewsroomQA", "NewsroomRetriever", "QAInput", "hit_to_document"]

_MAX_K = bounds(RetrievalSettings, "top_k")[1]  # the bound on `RAG_RETRIEVAL__TOP_K`


class NewsroomRetriever(BaseRetriever):
    """Passages for a question, best first, as LangChain `Document`s.

    `page_content` is the passage; `metadata` holds `doc_id`, `title`, `publisher`,
    `date`, `url`, `page`, `start`, `end` (offsets of the passage in the document's
    stored text), `kind`, `chunk_id`, `rank`, and `sentence_start`/`sentence_end`,
    the offsets of the passage's best sentence for the question (None when it has
    no sentence long enough to be an answer). `k` (constructor or invoke keyword)
    is the number of passages; None means the settings' `retrieval.top_k`. `kinds`
    restricts the documents searched to those kinds (report, news...).
    Raises `QuestionError` for an unusable question, `EmptyIndexError` when
    nothing is indexed.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Pipeline = Field(description="the pipeline whose index is searched")
    k: int | None = Field(None, ge=1, le=_MAX_K, description="passages returned")
    kinds: list[str] | None = Field(None, description="document kinds searched (all if None)")

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> NewsroomRetriever:
        """A retriever over the index `settings` point at (loads the model on first use)."""
        return cls(pipeline=Pipeline(settings), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, kinds: list[str] | None = None
                                ) -> list[LCDocument]:
        top_k = _check_k(self.k if k is None else k)
        wanted = self.kinds if kinds is None else kinds
        # `kinds` is passed only when set, so a pipeline without that filter still works.
        extra = {} if wanted is None else {"kinds": wanted}
        hits = self.pipeline.retrieve(query, top_k, **extra)
        docs = {d: self.pipeline.document(d) for d in {h.chunk.doc_id for h in hits}}
        return [hit_to_document(h, docs[h.chunk.doc_id]) for h in hits]

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun,
                                       k: int | None = None, kinds: list[str] | None = None
                                       ) -> list[LCDocument]:
        # Retrieval is CPU-bound (the model, BM25): run it off the event loop.
        return await run_in_executor(None, self._get_relevant_documents, query,
                                     run_manager=run_manager.get_sync(), k=k, kinds=kinds)


def _check_k(k: int | None) -> int | None:
    if k is not None and not (isinstance(k, int) and 1 <= k <= _MAX_K):
        raise ValueError(f"k must be a whole number from 1 to {_MAX_K}, got {k!r}")
    return k


def hit_to_document(hit: Hit, doc: Document | None) -> LCDocument:
    """A retrieval hit as a LangChain `Document` (see `NewsroomRetriever` for the metadata)."""
    chunk, best = hit.chunk, hit.sentence
    info = doc.info if doc is not None else None
    return LCDocument(page_content=chunk.text, id=chunk.chunk_id, metadata={
        "doc_id": chunk.doc_id,
        "title": info.title if info else "",
        "publisher": info.publisher if info else "",
        "date": info.date if info else "",
        "url": info.url if info else None,
        "kind": info.kind if info else "other",
        "page": chunk.page,
        "start": chunk.start,
        "end": chunk.end,
        "chunk_id": chunk.chunk_id,
        "rank": hit.rank,
        "sentence_start": best.start if best else None,
        "sentence_end": best.end if best else None,
    })


class NewsroomEmbeddings(LangChainEmbeddings):
    """The project's embedding model through LangChain's `Embeddings` interface:
    unit-length vectors, the model loaded on first use and never downloaded."""

    def __init__(self, model: str | None = None, device: str | None = None,
                 batch_size: int | None = None) -> None:
        """Each argument left None takes `EmbeddingSettings`' default."""
        given = {"model": model, "device": device, "batch_size": batch_size}
        settings = EmbeddingSettings(**{k: v for k, v in given.items() if v is not None})
        super().__init__(make_embedder(settings))

    @classmethod
    def from_settings(cls, settings: Settings) -> NewsroomEmbeddings:
        e = settings.embedding
        return cls(model=e.model, device=e.device, batch_size=e.batch_size)

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> NewsroomEmbeddings:
        """Shares the pipeline's already loaded model instead of loading another."""
        self = cls.__new__(cls)
        LangChainEmbeddings.__init__(self, pipeline.embedder)
        return self


class QAInput(TypedDict):
    """A question with the conversation so far (`{"role", "content"}` turns)."""

    question: str
    history: NotRequired[list[dict[str, str]]]


class NewsroomQA(Runnable[str | QAInput, dict[str, Any]]):
    """The answering pipeline as a `Runnable`.

    Input: a question string or `{"question": str, "history": [...]}`. Output: the
    `rag ask --json` object. `stream` yields, in llm mode, `{"token": text}` chunks
    as the model writes, then the checked answer's fields as the last chunk; the
    chunks are `AddableDict`s, so adding them up gives the answer (plus the draft
    under `token`). `batch` answers in parallel threads (the pipeline is
    thread-safe). Raises `QuestionError` for an unusable question.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @classmethod
    def from_settings(cls, settings: Settings) -> NewsroomQA:
        return cls(Pipeline(settings))

    def invoke(self, input: str | QAInput, config: RunnableConfig | None = None,
               **kwargs: Any) -> dict[str, Any]:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(self, input: str | QAInput, config: RunnableConfig | None = None,
               **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self._transform_stream_with_config(iter([input]), self._events, config,
                                                      run_type="chain")

    async def astream(self, input: str | QAInput, config: RunnableConfig | None = None,
                      **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        # The pipeline is synchronous: pull each chunk in a worker thread so the
        # event loop keeps serving while the model generates.
        chunks = self.stream(input, config)
        done = object()
        while (chunk := await run_in_executor(config, next, chunks, done)) is not done:
            yield chunk  # type: ignore[misc]

    def _answer(self, value: str | QAInput) -> dict[str, Any]:
        return self.pipeline.ask(*_parse(value)).to_dict()

    def _events(self, values: Iterator[str | QAInput]) -> Iterator[dict[str, Any]]:
        for value in values:
            for event in self.pipeline.ask_stream(*_parse(value)):
                if isinstance(event, Token):
                    yield AddableDict(token=event.text)
                else:
                    yield AddableDict(event.to_dict())


def _parse(value: object) -> tuple[str, Sequence[dict[str, Any]] | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping) and isinstance(value.get("question"), str):
        history = value.get("history")
        if history is not None and not isinstance(history, list | tuple):
            raise QuestionError("history must be a list of {'role', 'content'} turns")
        return value["question"], history
    raise QuestionError("NewsroomQA takes a question string or {'question': str, "
                        f"'history': [...]}}, not {type(value).__name__}")
