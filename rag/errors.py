"""The one exception hierarchy of the project.

::

    RagError                    anything this package raises on purpose
    ├── ConfigError             a setting is wrong or a model/file it names is missing
    ├── LoadError               one input file could not be turned into text
    ├── IndexMismatchError      the index was built with other embedding/chunking settings
    ├── EmptyIndexError         nothing has been ingested yet
    ├── IngestBusyError         another ingest is running on the same data directory
    └── QuestionError           a question is empty, too long or not text

Messages say what failed, for which file or setting, and what to do about it.
The CLI turns these into exit codes; nothing below the CLI exits the process.
"""

from __future__ import annotations

from pathlib import Path


class RagError(Exception):
    """Base class: every error this package raises deliberately."""


class ConfigError(RagError):
    """A setting is invalid, or names a model, file or service that is not there."""


class LoadError(RagError):
    """A single document could not be loaded; the rest of an ingest goes on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexMismatchError(RagError):
    """The stored index was built with settings other than the current ones."""


class EmptyIndexError(RagError):
    """A question was asked before any document was ingested."""


class IngestBusyError(RagError):
    """A second ingest was started while one is running on the same index."""


class QuestionError(RagError):
    """The question itself is unusable (empty, over the length cap, binary)."""
