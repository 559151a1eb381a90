"""Editor tokens, sessions and CSRF for the sources desk.

Tokens are configured as `label:sha256:HEX` (`RAG_SERVE__EDITOR_TOKENS`): only
their hash is at rest, and a presented token is hashed and compared with every
configured hash in constant time. A login makes a session (an unguessable id in
an HttpOnly, SameSite=Strict cookie) holding a CSRF token that every state-changing
request made with the cookie must echo in a header. Sessions live in memory: a
restart logs editors out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from rag.desk.errors import AccessError


def token_entry(label: str) -> tuple[str, str]:
    """A new random token and the `label:sha256:HEX` line to configure for it."""
    token = secrets.token_urlsafe(32)
    return token, f"{label}:sha256:{_digest(token)}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Editors:
    """The configured editors; `enabled` is False when there are none."""

    def __init__(self, entries: list[str]) -> None:
        self._hashes = []
        for entry in entries:
            label, _, digest = entry.rsplit(":", 2)
            self._hashes.append((label, bytes.fromhex(digest)))

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def who(self, token: str) -> str | None:
        """The label of the editor whose token this is, or None. Every configured hash
        is compared (in constant time), so timing does not tell which came close."""
        presented = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        found = None
        for label, digest in self._hashes:
            if hmac.compare_digest(presented, digest):
                found = label
        return found


@dataclass(frozen=True)
class Session:
    id: str
    editor: str
    csrf: str
    expires: float

    def check_csrf(self, presented: str | None) -> None:
        """Raise `AccessError` (403) unless `presented` is this session's CSRF token."""
        if not presented or not hmac.compare_digest(presented.encode(), self.csrf.encode()):
            raise AccessError("missing or wrong CSRF token (X-CSRF-Token); reload the "
                              "sources page", 403)


class Sessions:
    """Logged-in editors, by session id; expired ones are forgotten."""

    def __init__(self, hours: float, limit: int = 10_000) -> None:
        self._ttl = hours * 3600
        self._limit = limit
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, editor: str) -> Session:
        session = Session(secrets.token_urlsafe(32), editor, secrets.token_urlsafe(32),
                          time.time() + self._ttl)
        with self._lock:
            self._expire()
            if len(self._by_id) >= self._limit:  # bounded: the oldest login goes
                self._by_id.pop(min(self._by_id, key=lambda k: self._by_id[k].expires))
            self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
            if session is not None and session.expires < time.time():
                del self._by_id[session_id]
                return None
            return session

    def drop(self, session_id: str | None) -> None:
        with self._lock:
            self._by_id.pop(session_id or "", None)

    def _expire(self) -> None:
        now = time.time()
        for key in [k for k, s in self._by_id.items() if s.expires < now]:
            del self._by_id[key]
