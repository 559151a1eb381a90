"""Quoted, cited answers over the DOJ OIG zero-tolerance report and its coverage.

The public surface is small: build a `Settings`, hand it to a `Pipeline`, call
`ingest` and `ask`. Everything else is an implementation module, one sub-package
per stage (arrows point down; `rag` never imports `ui`, `evals` or `cli`):

    config, errors, types   settings, the error hierarchy, the value types
    vocabulary              what every stage asks of English text
    ingest/                 files -> documents -> chunks -> the index (`Ingestor`)
    index/                  store (Chroma), embed, lexical (BM25), sentence vectors
    retrieve/               hybrid fusion, sentence reranking
    question/               clean, guard, follow-up rewrite
    answer/                 windows, features, scorer, states, citations
    llm/                    backends, grounded generation, confirm, models
    cache                   the answer cache
    pipeline                `Pipeline`: ask, ask_stream, retrieve, sources (and
                            `ingestor`, the write side the desk uses)
    desk/                   the sources desk, above ingest (used by `ui` and `cli`)
    integrations/           LangChain adapters over this facade
"""

from rag.config import Settings
from rag.errors import (
    ConfigError,
    EmptyIndexError,
    IndexMismatchError,
    IngestBusyError,
    LoadError,
    QuestionError,
    RagError,
)
from rag.ingest.ingestor import Ingestor, IngestReport
from rag.pipeline import Pipeline
from rag.types import Answer, Chunk, Citation, Document, Hit, SourceInfo, Span, Token

__all__ = [
    "Answer", "Chunk", "Citation", "ConfigError", "Document", "EmptyIndexError", "Hit",
    "IndexMismatchError", "IngestBusyError", "IngestReport", "Ingestor", "LoadError",
    "Pipeline", "QuestionError", "RagError", "Settings", "SourceInfo", "Span", "Token",
]
