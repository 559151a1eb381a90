"""The answer cache: the same question, asked again of the same index with the same
settings, is answered from memory.

Readers of one article ask the same few questions; computing each again costs a
retrieval and a rerank (and a generation in llm mode). An entry is keyed by
everything the answer depends on: the normalized question, the part of the history
the follow-up rewrite reads, the index state (generation, revision), a fingerprint of
the settings that shape answers, and the document-kind filter. A re-index bumps the
revision, so no stale answer is ever served; the cache also drops its entries then.
The cache lives in one process: in Chroma server mode each replica has its own and
sees the revision change through the store.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.config import Settings
from rag.question.followup import is_follow_up, last_user_question
from rag.types import Answer

_SPACES = re.compile(r"\s+")


def normalize_question(text: str) -> str:
    """Case, spacing, Unicode form and trailing question marks do not change an answer."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", folded).strip().rstrip("?").strip()


def relevant_history(question: str, history: Sequence[dict[str, Any]] | None) -> str | None:
    """What of the history the answer depends on: the previous user question, and only
    when `question` is a follow-up (the rewrite reads nothing else)."""
    if not is_follow_up(question):
        return None
    previous = last_user_question(history)
    return normalize_question(previous) if previous else None


def settings_fingerprint(settings: Settings) -> str:
    """A digest of the settings that shape an answer (answering, retrieval, llm and the
    index they read); serving, cache and path settings do not change answers."""
    parts = {
        "answer": settings.answer.model_dump(mode="json"),
        "retrieval": settings.retrieval.model_dump(mode="json"),
        "rerank": settings.rerank.model_dump(mode="json"),
        "llm": settings.llm.model_dump(mode="json"),
        "index": settings.index_fingerprint()["fingerprint"],
        "max_question_chars": settings.max_question_chars,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def answer_key(question: str, history: Sequence[dict[str, Any]] | None,
               state: tuple[int, int], fingerprint: str,
               kinds: Sequence[str] | None = None) -> str:
    """The cache key of one question (`question` already cleaned)."""
    parts = [normalize_question(question), relevant_history(question, history),
             list(state), fingerprint, sorted(set(kinds)) if kinds is not None else None]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


@dataclass(frozen=True)
class _Entry:
    asked: str  # the cleaned question the answer was computed for
    answer: Answer


class AnswerCache:
    """A bounded LRU of answers, safe to share between threads. `size` 0 stores nothing.

    Single flight: while one thread computes the answer to a key, others asking the
    same question wait for it (at most `wait_seconds`) instead of computing it again;
    200 readers opening an article at once cost one computation per question."""

    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._state: tuple[int, int] | None = None
        self._inflight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def sync(self, state: tuple[int, int]) -> None:
        """Drop every entry when the index state changed (a re-index or a write)."""
        with self._lock:
            if state != self._state:
                self._entries.clear()
                self._state = state

    def get(self, key: str, question: str) -> Answer | None:
        """The stored answer for `key`, marked as cached, or None (counted as a miss).

        When the stored answer was for the question as typed (no follow-up rewrite),
        it is returned for `question` as typed now, not the earlier spelling."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        answer = entry.answer
        if answer.question == entry.asked:
            answer = replace(answer, question=question)
        return replace(answer, cached=True)

    def lookup(self, key: str, question: str) -> Answer | None:
        """Like `get`, but when another thread is computing `key`, wait for its answer.
        A None means: compute it, then `put` it (or `release` the key on failure)."""
        with self._lock:
            entry = self._entries.get(key)
            computing = self._inflight.get(key) if entry is None else None
            if entry is None and computing is None:
                self._inflight[key] = threading.Event()  # this caller computes it
        if computing is not None:
            computing.wait(self.wait_seconds)
        return self.get(key, question)

    def put(self, key: str, question: str, answer: Answer) -> None:
        with self._lock:
            if self.size:
                self._entries[key] = _Entry(question, answer)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        self.release(key)

    def release(self, key: str) -> None:
        """Wake whoever waits for `key` (called after `put`, or when computing failed)."""
        with self._lock:
            computing = self._inflight.pop(key, None)
        if computing is not None:
            computing.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def served_from_cache(answer: Answer, started: float, now: float) -> Answer:
    """`answer` (from the cache) with honest timings: the time this lookup took. The
    original computation's timings are kept under `original_timings_ms`."""
    spent = round((now - started) * 1000, 2)
    return replace(answer, timings_ms={"retrieve": 0.0, "answer": 0.0, "cache_lookup": spent,
                                       "total": spent},
                   original_timings_ms=dict(answer.timings_ms), first_token_ms=None)
