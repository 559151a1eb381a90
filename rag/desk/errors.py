"""The desk's errors, children of `rag.errors.RagError`::

    RagError
    └── DeskError              a desk operation was refused or failed
        ├── UploadError        a file or URL that cannot be taken (type, size, address)
        ├── DuplicateError     the same content is already indexed
        ├── UnknownDocument    no indexed document has that id
        ├── DeskBusyError      the job queue is full
        └── AccessError        editing is off, or the request is not an editor's
                               (`status` says 401 or 403)

Messages name the file, URL or document and what to do. The web layer maps them to
HTTP statuses in one place (`ui.sources`); the CLI to exit codes.
"""

from __future__ import annotations

from rag.errors import RagError


class DeskError(RagError):
    """A desk operation was refused or failed."""


class UploadError(DeskError):
    """A file or URL cannot be taken: wrong type, too large, a refused address."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


class DuplicateError(DeskError):
    """The content is already indexed (as `doc_id`)."""

    def __init__(self, message: str, doc_id: str) -> None:
        self.doc_id = doc_id
        super().__init__(message)


class UnknownDocument(DeskError):
    """No indexed document has this id."""


class DeskBusyError(DeskError):
    """Too many jobs are waiting."""


class AccessError(DeskError):
    """Editing is off (403) or the request carries no valid editor credential (401)."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)
