"""One ingest at a time per data directory (an advisory file lock)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IngestBusyError


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's ingest lock; raise `IngestBusyError` when another
    process holds it. The kernel releases it if the holder dies, even by SIGKILL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ingest.lock"
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IngestBusyError(
                f"another ingest is running on {data_dir} ({holder}); wait for it to "
                "finish, then run this one again") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
