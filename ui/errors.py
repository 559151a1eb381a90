"""Domain errors as HTTP statuses: the one mapping the API and the chat share."""

from __future__ import annotations

from rag import EmptyIndexError, QuestionError, RagError


def http_status(exc: RagError) -> int:
    """400 for an unusable question, 503 while nothing is indexed, else 500."""
    if isinstance(exc, QuestionError):
        return 400
    if isinstance(exc, EmptyIndexError):
        return 503
    return 500
