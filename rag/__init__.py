"""Quoted, cited answers over the DOJ OIG zero-tolerance report and its coverage.

The public surface is small: build a `Settings`, hand it to a `Pipeline`, call
`ingest` and `ask`. Everything else is an implementation module.
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
