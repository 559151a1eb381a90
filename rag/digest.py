"""The sha256 of a file, read in blocks: how shipped and assembled model files are
checked (the reader's weights, the assembled Qwen model). Imports nothing of `rag`."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file at `path` (read 1 MiB at a time)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
