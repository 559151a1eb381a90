"""Thumbs up/down, appended to a local JSONL file (one line per vote)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class FeedbackLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, rating: str, question: str, answer: str,
               citations: list[dict[str, Any]]) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rating": rating,
                  "question": question, "answer": answer, "citations": citations}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
