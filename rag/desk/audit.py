"""The audit log: one JSON line per change (or refused attempt) on the sources desk:
who, what, when, which document and its content hash, and how it ended."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


class AuditLog:
    """Appends to `path` (`DATA_DIR/desk/audit.jsonl`); safe from several threads, and
    each line is one `write` on a file opened for appending, so lines never mix."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, editor: str, action: str, outcome: str, *, doc_id: str | None = None,
               content_hash: str | None = None, **detail: Any) -> None:
        """Append one entry; `outcome` is "ok", "failed" or "refused"."""
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "editor": editor, "action": action, "outcome": outcome,
                 "doc_id": doc_id, "content_hash": content_hash,
                 **{k: v for k, v in detail.items() if v is not None}}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line]
