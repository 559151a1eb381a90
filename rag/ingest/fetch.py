"""`rag corpus fetch`: download the manifest's documents that are not local.

The Inspector General's report comes first. Each download is checked (HTTP status,
content type, and for PDFs the %PDF header), retried with backoff on network errors
and 5xx answers, and, when a PDF address serves HTML or fails, looked up again on the
entry's landing page. Files land in DATA_DIR/sources/ (never in the repository) and
their sha256 is recorded in corpus/sources.lock; a document whose file is there with
the recorded digest is not fetched again.

The quick mode (`--quick`, what `make run` does before ingesting) must never hold up
the start of the app: a short connect timeout that covers the name lookup too, no
retries, and a host that cannot be reached is not tried again for other documents.
Offline, that is a few seconds at most, and the result says so (`offline`).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx

from rag.config import FetchSettings
from rag.ingest.manifest import Manifest, ManifestEntry

RETRIES = 3

Resolver = Callable[[str, Any], Any]  # socket.getaddrinfo's shape: (host, port) -> addresses


class FetchError(Exception):
    """One document could not be fetched (the others go on)."""


class Unreachable(FetchError):
    """No connection could be made to the host (quick mode: not tried again)."""


@dataclass(frozen=True)
class FetchPolicy:
    """How hard to try. `quick` adds: a host that cannot be looked up or reached within
    `connect_timeout` is marked unreachable, and nothing is retried."""

    timeout: float = 30.0
    connect_timeout: float | None = None  # None: `timeout`
    retries: int = RETRIES
    backoff: float = 1.0
    quick: bool = False

    @classmethod
    def from_settings(cls, s: FetchSettings, quick: bool = False) -> FetchPolicy:
        if quick:
            return cls(s.quick_timeout, s.quick_connect_timeout, 1, 0.0, True)
        return cls(s.timeout, None, s.retries, s.backoff, False)


@dataclass(frozen=True)
class Fetched:
    doc_id: str
    path: Path
    url: str
    sha256: str
    content_type: str


@dataclass
class FetchResult:
    """What a fetch did. `problems` has one line per document that failed."""

    fetched: list[Fetched] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # fetched before, file and digest intact
    unreachable: list[str] = field(default_factory=list)  # hosts no connection was made to
    _unreachable_docs: int = 0

    @property
    def offline(self) -> bool:
        """Nothing was fetched and every failure was a host that could not be reached."""
        return not self.fetched and bool(self.problems) and \
            self._unreachable_docs == len(self.problems)


class _Session:
    """One HTTP client, the policy, and (quick mode) the hosts found unreachable."""

    def __init__(self, client: httpx.Client, policy: FetchPolicy, resolve: Resolver) -> None:
        self.client = client
        self.policy = policy
        self._resolve = resolve
        self.unreachable: dict[str, str] = {}
        self._looked_up: set[str] = set()

    def get(self, url: str) -> httpx.Response:
        """GET with retries on network errors and 5xx; a 4xx fails at once."""
        host = urlparse(url).hostname or url
        if host in self.unreachable:
            raise Unreachable(f"{url}: {host} unreachable ({self.unreachable[host]})")
        if self.policy.quick and host not in self._looked_up:
            self._look_up(host, url)
        last: Exception | None = None
        for attempt in range(self.policy.retries):
            try:
                response = self.client.get(url)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if self.policy.quick:
                    raise self._mark(host, url, str(exc) or type(exc).__name__) from exc
                last = exc
            except httpx.TransportError as exc:  # read timeouts, dropped connections
                last = exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code < 500:
                    raise FetchError(f"{url}: HTTP {response.status_code}")
                last = FetchError(f"{url}: HTTP {response.status_code}")
            if attempt + 1 < self.policy.retries:
                time.sleep(self.policy.backoff * 2 ** attempt)
        tries = self.policy.retries
        raise FetchError(f"{url}: failed after {tries} {'try' if tries == 1 else 'tries'} "
                         f"({last})")

    def _mark(self, host: str, url: str, why: str) -> Unreachable:
        self.unreachable[host] = why
        return Unreachable(f"{url}: {host} unreachable ({why})")

    def _look_up(self, host: str, url: str) -> None:
        """Resolve `host` within the connect timeout. httpx's connect timeout does not
        bound the name lookup, which can hang for long on a machine without DNS."""
        self._looked_up.add(host)
        if _uses_proxy():
            return  # the proxy looks names up, not this machine
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                self._resolve(host, None)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(self.policy.connect_timeout or self.policy.timeout)
        if not outcome:
            raise self._mark(host, url, "name lookup timed out")
        if outcome[0] is not None:
            raise self._mark(host, url, f"name lookup failed: {outcome[0]}")


def _uses_proxy() -> bool:
    return any(k in urllib.request.getproxies() for k in ("http", "https", "all"))


def _wants_pdf(entry: ManifestEntry) -> bool:
    return entry.info.kind == "report" or (entry.info.url or "").lower().endswith(".pdf")


def _pdf_link(page: httpx.Response) -> str | None:
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page.text)
    links = [urljoin(str(page.url), href) for href in tree.xpath("//a/@href")]
    pdfs = [link for link in links if link.lower().split("?")[0].endswith(".pdf")]
    return pdfs[0] if pdfs else None


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def _download(session: _Session, entry: ManifestEntry) -> tuple[str, bytes, str]:
    url = entry.info.url or ""
    wants_pdf = _wants_pdf(entry)
    try:
        response = session.get(url)
        kind = _content_type(response)
        if not wants_pdf or (kind == "application/pdf" and response.content[:5] == b"%PDF-"):
            return url, response.content, kind
        failure = FetchError(f"{url}: expected a PDF, got {kind or 'no content type'}")
    except FetchError as exc:
        failure = exc
    if not entry.landing_url:
        raise failure
    problem = str(failure)
    link = _pdf_link(session.get(entry.landing_url))
    if link is None:
        raise FetchError(f"{problem}; and {entry.landing_url} links to no PDF")
    response = session.get(link)
    kind = _content_type(response)
    if kind != "application/pdf" or response.content[:5] != b"%PDF-":
        raise FetchError(f"{problem}; {link} (from the landing page) is {kind}, not a PDF")
    return link, response.content, kind


def _still_there(doc_id: str, dest: Path, lock: dict[str, Any]) -> bool:
    """True when a file fetched earlier is in `dest` with the digest the lock records."""
    record = lock.get(doc_id)
    if not record or not record.get("file"):
        return False
    path = dest / str(record["file"])
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == record.get("sha256")


def _save(dest: Path, doc_id: str, url: str, data: bytes, kind: str) -> Fetched:
    suffix = ".pdf" if data[:5] == b"%PDF-" else ".html"
    path = dest / f"{doc_id}{suffix}"
    tmp = path.with_suffix(path.suffix + ".partial")
    tmp.write_bytes(data)
    tmp.replace(path)
    return Fetched(doc_id, path, url, hashlib.sha256(data).hexdigest(), kind)


def fetch_missing(manifest: Manifest, corpus_dir: Path, dest: Path,
                  policy: FetchPolicy | None = None,
                  resolve: Resolver = socket.getaddrinfo) -> FetchResult:
    """Fetch every redistributable entry that has a URL and no local file (neither
    shipped in `corpus_dir` nor fetched earlier into `dest`).

    Returns a `FetchResult`; the lock file is updated for what was fetched. `resolve`
    is the name lookup quick mode bounds in time (tests inject a slow one).
    """
    policy = policy or FetchPolicy()
    lock_path = corpus_dir / "sources.lock"
    lock = json.loads(lock_path.read_text()) if lock_path.exists() else {}
    result = FetchResult()
    todo = []
    for e in manifest.entries:
        if not e.info.url or not e.redistributable or (
                e.info.path and (corpus_dir / e.info.path).exists()):
            continue
        if _still_there(e.info.doc_id, dest, lock):
            result.kept.append(e.info.doc_id)
        else:
            todo.append(e)
    todo.sort(key=lambda e: e.info.kind != "report")  # the report first
    dest.mkdir(parents=True, exist_ok=True)
    timeout = httpx.Timeout(policy.timeout, connect=policy.connect_timeout or policy.timeout)
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "newsroom-rag corpus fetch"}) as client:
        session = _Session(client, policy, resolve)
        for entry in todo:
            try:
                url, data, kind = _download(session, entry)
            except FetchError as exc:
                result.problems.append(f"{entry.info.doc_id}: {exc}")
                result._unreachable_docs += isinstance(exc, Unreachable)
                continue
            result.fetched.append(_save(dest, entry.info.doc_id, url, data, kind))
        result.unreachable = sorted(session.unreachable)
    if result.fetched:
        _record(lock_path, result.fetched)
    return result


def _record(lock: Path, fetched: list[Fetched]) -> None:
    data = json.loads(lock.read_text()) if lock.exists() else {}
    for f in fetched:
        data[f.doc_id] = {"url": f.url, "sha256": f.sha256, "content_type": f.content_type,
                          "file": f.path.name, "fetched": time.strftime("%Y-%m-%d")}
    lock.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
