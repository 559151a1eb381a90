"""Loaders: one file in, one `Document` (normalized text + provenance) out.

Every failure is a `LoadError` naming the file and the reason, so an ingest can
report it in one line and go on with the other files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from rag.errors import LoadError
from rag.ingest.manifest import Manifest
from rag.ingest.normalize import markdown_to_text, normalize_text, split_front_matter
from rag.ingest.pdf import page_texts
from rag.types import Document, SourceInfo

log = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@dataclass
class Extracted:
    """What a format-specific reader returns before provenance is attached."""

    text: str
    page_starts: tuple[int, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError(path, "binary data, not text (wrong file extension?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc


def _read_txt(path: Path, data: bytes) -> Extracted:
    return Extracted(normalize_text(_decode(path, data)))


def _read_markdown(path: Path, data: bytes) -> Extracted:
    body, front = split_front_matter(_decode(path, data))
    meta: dict[str, Any] = {}
    if front is not None:
        try:
            loaded = yaml.safe_load(front)
        except yaml.YAMLError as exc:
            raise LoadError(path, f"front matter is not valid YAML ({exc})") from exc
        meta = loaded if isinstance(loaded, dict) else {}
    return Extracted(normalize_text(markdown_to_text(body)), meta=meta)


def _read_html(path: Path, data: bytes) -> Extracted:
    import trafilatura  # heavy import, only when an HTML file is met

    html = _decode(path, data)
    text = trafilatura.extract(html, include_comments=False, include_tables=True,
                               favor_precision=True, output_format="txt")
    meta_obj = trafilatura.extract_metadata(html)
    meta: dict[str, Any] = {}
    if meta_obj is not None:
        meta = {k: v for k, v in (("title", meta_obj.title), ("date", meta_obj.date),
                                  ("source_url", meta_obj.url),
                                  ("publisher", meta_obj.sitename)) if v}
    return Extracted(normalize_text(text or ""), meta=meta)


def _read_pdf(path: Path, data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError(path, "encrypted PDF; save an unencrypted copy and ingest that")
        pages = page_texts(reader)  # headers, footers, hyphens and columns handled there
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(path, f"not a readable PDF ({exc})") from exc
    if pages and not any(pages):
        raise LoadError(path, f"no text layer in {len(pages)} page(s): a scanned PDF? "
                        "run OCR (e.g. ocrmypdf) first")
    starts, parts, offset = [], [], 0
    for page_text in pages:
        starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2  # the "\n\n" joining pages
    title = reader.metadata.get("/Title") if reader.metadata else None
    return Extracted("\n\n".join(parts), tuple(starts), {"title": str(title)} if title else {})


READERS: dict[str, Callable[[Path, bytes], Extracted]] = {
    ".txt": _read_txt, ".md": _read_markdown, ".markdown": _read_markdown,
    ".html": _read_html, ".htm": _read_html, ".pdf": _read_pdf,
}


def _info_from_meta(path: Path, meta: dict[str, Any]) -> SourceInfo:
    date = meta.get("date") or ""
    if isinstance(date, dt.date | dt.datetime):
        date = date.isoformat()
    return SourceInfo(
        doc_id=path.stem, title=str(meta.get("title") or path.stem).strip(),
        publisher=str(meta.get("publisher") or ""), date=str(date),
        kind=str(meta.get("kind") or "other"),
        url=str(meta["source_url"]) if meta.get("source_url") else None,
        license=str(meta.get("license") or ""), path=str(path),
    )


def load_document(path: Path, manifest: Manifest, max_bytes: int = 64 * 2**20) -> Document:
    """Load one file.

    Returns the `Document` with manifest metadata when the file is listed there,
    otherwise metadata from its front matter or file name.
    Raises `LoadError` for unsupported, empty, oversized, mislabelled or unreadable
    files.
    """
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise LoadError(path, f"unsupported file type {suffix or '(none)'!r}; "
                        f"supported: {', '.join(SUPPORTED)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(path, f"{size / 2**20:.0f} MiB is over the {max_bytes // 2**20} "
                            "MiB limit (RAG_MAX_FILE_MB); split the file or raise the limit")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise LoadError(path, "empty file")
    is_pdf = data.lstrip()[:5] == b"%PDF-"
    if is_pdf and suffix != ".pdf":
        raise LoadError(path, f"this is a PDF named {suffix!r}; rename it to .pdf")
    if suffix == ".pdf" and not is_pdf:
        raise LoadError(path, "not a PDF (no %PDF header): a wrong file extension?")
    extracted = reader(path, data)
    if not extracted.text.strip():
        raise LoadError(path, "no text could be extracted")
    listed = manifest.lookup(path)
    # The stored path is where this copy was read from, so a re-index can find it.
    info = replace(listed, path=str(path)) if listed else _info_from_meta(path, extracted.meta)
    digest = hashlib.sha256(extracted.text.encode("utf-8")).hexdigest()
    return Document(info=info, text=extracted.text, content_hash=digest,
                    page_starts=extracted.page_starts)


def discover(paths: list[Path]) -> tuple[list[Path], list[LoadError]]:
    """Expand folders into files (sorted, hidden and manifest files skipped)."""
    files: list[Path] = []
    errors: list[LoadError] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.name in ("sources.toml", "SOURCES.md", "README.md", "sources.lock"):
                    continue
                files.append(child)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(LoadError(path, "no such file or folder"))
    return files, errors
