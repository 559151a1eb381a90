"""`rag corpus fetch`: download the manifest's documents that are not local.

The Inspector General's report comes first. Each download is checked (HTTP status,
content type, and for PDFs the %PDF header), retried with backoff on network errors
and 5xx answers, and, when a PDF address serves HTML or fails, looked up again on the
entry's landing page. Files land in DATA_DIR/sources/ (never in the repository) and
their sha256 is recorded in corpus/sources.lock.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from .manifest import Manifest, ManifestEntry

RETRIES = 3


class FetchError(Exception):
    """One document could not be fetched (the others go on)."""


@dataclass(frozen=True)
class Fetched:
    doc_id: str
    path: Path
    url: str
    sha256: str
    content_type: str


def _wants_pdf(entry: ManifestEntry) -> bool:
    return entry.info.kind == "report" or (entry.info.url or "").lower().endswith(".pdf")


def _get(client: httpx.Client, url: str, backoff: float) -> httpx.Response:
    """GET with retries on network errors and 5xx; a 4xx fails at once."""
    last: Exception | None = None
    for attempt in range(RETRIES):
        try:
            response = client.get(url)
        except httpx.TransportError as exc:  # timeouts, refused connections
            last = exc
        else:
            if response.status_code < 500:
                if response.status_code >= 400:
                    raise FetchError(f"{url}: HTTP {response.status_code}")
                return response
            last = FetchError(f"{url}: HTTP {response.status_code}")
        time.sleep(backoff * 2 ** attempt)
    raise FetchError(f"{url}: failed after {RETRIES} tries ({last})")


def _pdf_link(page: httpx.Response) -> str | None:
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page.text)
    links = [urljoin(str(page.url), href) for href in tree.xpath("//a/@href")]
    pdfs = [link for link in links if link.lower().split("?")[0].endswith(".pdf")]
    return pdfs[0] if pdfs else None


def _download(client: httpx.Client, entry: ManifestEntry, backoff: float) -> tuple[str, bytes, str]:
    url = entry.info.url or ""
    wants_pdf = _wants_pdf(entry)
    try:
        response = _get(client, url, backoff)
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if not wants_pdf or (kind == "application/pdf" and response.content[:5] == b"%PDF-"):
            return url, response.content, kind
        problem = f"{url}: expected a PDF, got {kind or 'no content type'}"
    except FetchError as exc:
        problem = str(exc)
    if not entry.landing_url:
        raise FetchError(problem)
    link = _pdf_link(_get(client, entry.landing_url, backoff))
    if link is None:
        raise FetchError(f"{problem}; and {entry.landing_url} links to no PDF")
    response = _get(client, link, backoff)
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/pdf" or response.content[:5] != b"%PDF-":
        raise FetchError(f"{problem}; {link} (from the landing page) is {kind}, not a PDF")
    return link, response.content, kind


def fetch_missing(manifest: Manifest, corpus_dir: Path, dest: Path, *, timeout: float = 30.0,
                  backoff: float = 1.0) -> tuple[list[Fetched], list[str]]:
    """Fetch every redistributable entry that has a URL and no local file.

    Returns (fetched, problems); the lock file is updated for what was fetched.
    """
    todo = [e for e in manifest.entries if e.info.url and e.redistributable
            and not (e.info.path and (corpus_dir / e.info.path).exists())]
    todo.sort(key=lambda e: e.info.kind != "report")  # the report first
    dest.mkdir(parents=True, exist_ok=True)
    fetched, problems = [], []
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "newsroom-rag corpus fetch"}) as client:
        for entry in todo:
            try:
                url, data, kind = _download(client, entry, backoff)
            except FetchError as exc:
                problems.append(f"{entry.info.doc_id}: {exc}")
                continue
            suffix = ".pdf" if data[:5] == b"%PDF-" else ".html"
            path = dest / f"{entry.info.doc_id}{suffix}"
            tmp = path.with_suffix(path.suffix + ".partial")
            tmp.write_bytes(data)
            tmp.replace(path)
            fetched.append(Fetched(entry.info.doc_id, path, url,
                                   hashlib.sha256(data).hexdigest(), kind))
    if fetched:
        _record(corpus_dir / "sources.lock", fetched)
    return fetched, problems


def _record(lock: Path, fetched: list[Fetched]) -> None:
    data = json.loads(lock.read_text()) if lock.exists() else {}
    for f in fetched:
        data[f.doc_id] = {"url": f.url, "sha256": f.sha256, "content_type": f.content_type,
                          "file": f.path.name, "fetched": time.strftime("%Y-%m-%d")}
    lock.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
