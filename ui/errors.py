"""Domain errors as HTTP statuses: the one mapping the API, the chat and the sources
desk share."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from rag import EmptyIndexError, LoadError, QuestionError, RagError
from rag.desk.errors import AccessError, DeskBusyError, DuplicateError, UnknownDocument, UploadError


def http_status(exc: RagError) -> int:
    """400 for an unusable question or an unreadable file, 503 while nothing is indexed
    or the desk's queue is full; the desk's: 401/403 (access, as the error says),
    4xx for an upload or URL refused (as the error says: 400, 413, 415...), 404 for
    an unknown document, 409 for a duplicate; else 500."""
    if isinstance(exc, AccessError | UploadError):
        return exc.status
    for kind, status in ((QuestionError, 400), (LoadError, 400), (EmptyIndexError, 503),
                         (DeskBusyError, 503), (UnknownDocument, 404), (DuplicateError, 409)):
        if isinstance(exc, kind):
            return status
    return 500


async def error_response(request: Request, exc: Exception) -> Response:
    """A domain error a route raised, as `{"error": message}` with its status (a 401
    says how to authenticate)."""
    status = http_status(exc) if isinstance(exc, RagError) else 500
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)
