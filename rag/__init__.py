"""Quoted, cited answers over the DOJ OIG zero-tolerance report and its coverage.

The public surface is small: build a `Settings`, hand it to a `Pipeline`, call
`ingest` and `ask`. Everything else is an implementation module.
"""

from .config import Settings
from .errors import (
    ConfigError,
    EmptyIndexError,
    IndexMismatchError,
    IngestBusyError,
    LoadError,
    QuestionError,
    RagError,
)
from .langchain import NewsroomEmbeddings, NewsroomQA, NewsroomRetriever
from .pipeline import IngestReport, Pipeline
from .types import Answer, Chunk, Citation, Document, Hit, SourceInfo, Span

__all__ = [
    "Answer", "Chunk", "Citation", "ConfigError", "Document", "EmptyIndexError", "Hit",
    "IndexMismatchError", "IngestBusyError", "IngestReport", "LoadError", "NewsroomEmbeddings",
    "NewsroomQA", "NewsroomRetriever", "Pipeline", "QuestionError",
    "RagError", "Settings", "SourceInfo", "Span",
]
