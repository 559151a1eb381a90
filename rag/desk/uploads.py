"""Upload checks: the file name (type only; never used as a path), the size (counted
while the bytes arrive, so an oversized upload is refused before it is read whole)
and the content's first bytes against the name's extension."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.desk.errors import UploadError
from rag.ingest.load import SUPPORTED
from rag.ingest.provenance import safe_stem

# First bytes of formats that are never a document we read, whatever the name says.
_MAGIC = (
    (b"%PDF-", "a PDF"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"), (b"PK\x03\x04", "a ZIP archive (Word, Excel…)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "a program"), (b"MZ", "a Windows program"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"), (b"Rar!", "a RAR archive"),
)


@dataclass(frozen=True)
class Staged:
    """An upload written to the desk's staging folder."""

    path: Path
    name: str  # the client's name, for messages and provenance only
    size: int
    sha256: str


def check_name(name: str) -> str:
    """The lowercase extension of a client file name; raises `UploadError` naming the
    file when it is not a supported type."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = ("." + base.rsplit(".", 1)[1].lower()) if "." in base else ""
    if suffix not in SUPPORTED:
        raise UploadError(f"{base or name!r}: unsupported file type {suffix or '(none)'!r}; "
                          f"supported: {', '.join(SUPPORTED)}")
    return suffix


def sniff(head: bytes, suffix: str, name: str) -> None:
    """Raise `UploadError` when the first bytes say another format than `suffix`."""
    start = head.lstrip()[:8]
    for magic, what in _MAGIC:
        if start.startswith(magic) if magic == b"%PDF-" else head.startswith(magic):
            if magic == b"%PDF-" and suffix == ".pdf":
                return
            raise UploadError(f"{name!r}: the content is {what}, not a {suffix} file; "
                              "upload it under its real type (PDF, HTML, Markdown or text)",
                              status=415)
    if suffix == ".pdf":
        raise UploadError(f"{name!r}: not a PDF (no %PDF header): a wrong extension?",
                          status=415)
    if b"\x00" in head:
        raise UploadError(f"{name!r}: binary data, not {suffix} text", status=415)


def too_large(name: str, max_bytes: int) -> UploadError:
    return UploadError(f"{name!r} is over the {max_bytes // 2**20} MB upload limit "
                       "(RAG_SERVE__DESK__MAX_UPLOAD_MB); split it or raise the limit", status=413)


def staged_path(folder: Path, job_id: str, name: str, suffix: str) -> Path:
    """Where an upload is written: a fresh folder per job, a slug of the name."""
    return folder / job_id / f"{safe_stem(name)}{suffix}"


class _Sink:
    def __init__(self, path: Path, name: str, suffix: str, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.name, self.suffix, self.max = path, name, suffix, max_bytes
        self.fh = path.open("xb")
        self.size, self.digest, self.head = 0, hashlib.sha256(), b""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max:
            self.abort()
            raise too_large(self.name, self.max)
        if len(self.head) < 8192:
            self.head += chunk[:8192 - len(self.head)]
        self.digest.update(chunk)
        self.fh.write(chunk)

    def finish(self) -> Staged:
        self.fh.close()
        if self.size == 0:
            self.path.unlink(missing_ok=True)
            raise UploadError(f"{self.name!r}: empty file")
        try:
            sniff(self.head, self.suffix, self.name)
        except UploadError:
            self.path.unlink(missing_ok=True)
            raise
        return Staged(self.path, self.name, self.size, self.digest.hexdigest())

    def abort(self) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)


async def receive(chunks: AsyncIterator[bytes], path: Path, name: str, suffix: str,
                  max_bytes: int) -> Staged:
    """Write an upload arriving in `chunks` to `path`, refusing it (and deleting what
    arrived) as soon as it passes `max_bytes`. Raises `UploadError`."""
    sink = _Sink(path, name, suffix, max_bytes)
    try:
        async for chunk in chunks:
            sink.write(chunk)
    except BaseException:
        sink.abort()
        raise
    return sink.finish()


def copy_in(source: Path, path: Path, suffix: str, max_bytes: int) -> Staged:
    """The CLI's upload: copy a local file to `path` with the same checks."""
    sink = _Sink(path, source.name, suffix, max_bytes)
    try:
        if os.path.getsize(source) > max_bytes:
            raise too_large(source.name, max_bytes)  # refused before reading
        with source.open("rb") as fh:
            for chunk in _blocks(fh):
                sink.write(chunk)
    except OSError as exc:
        sink.abort()
        raise UploadError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    except BaseException:
        sink.abort()
        raise
    return sink.finish()


def _blocks(fh: object, size: int = 2**20) -> Iterable[bytes]:
    read = getattr(fh, "read")
    while block := read(size):
        yield block
