"""The desk's operations (add a file or a URL, replace, edit, remove), each run as a
job through the ingest (`Ingestor.add_documents`, `remove_documents`, `inventory`:
its own chunking, embedding and crash-safe store writes). Give it the `Ingestor` of
the pipeline that answers (`Pipeline.ingestor`): answers switch to what it commits.

A job holds the desk lock (`DATA_DIR/desk/desk.lock`) from start to end, so jobs of
the app and of `rag sources` in another process queue rather than interleave. It
reads the file in a bounded child process, checks for a duplicate by content hash,
stores the file under a generated name, writes a pending provenance record, commits
to the index (readers switch at that moment, and not before), then records the
provenance. A job killed at any point leaves the previous index answering;
`recover` (at start) finishes or drops what it left in the desk manifest.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.desk.audit import AuditLog
from rag.desk.errors import DuplicateError, UnknownDocument, UploadError
from rag.desk.jobs import Job, JobKind, JobQueue, Work, new_job
from rag.desk.reader import read_file
from rag.desk.uploads import Staged, sniff
from rag.desk.urlguard import check_url, fetch, resolve
from rag.errors import RagError
from rag.ingest.ingestor import Ingestor
from rag.ingest.manifest import KINDS
from rag.ingest.provenance import DeskManifest, Provenance, safe_stem
from rag.types import Document, SourceInfo


@dataclass(frozen=True)
class Meta:
    """Metadata an editor gives; None keeps what the document already has."""

    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise UploadError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")

    def apply(self, info: SourceInfo) -> SourceInfo:
        given = {k: v.strip() for k, v in vars(self).items() if v is not None and v.strip()}
        return replace(info, **given)


class Desk:
    """The operations, as jobs, written through `ingestor`. `inline`: run each job in
    the calling thread (CLI)."""

    def __init__(self, ingestor: Ingestor, *, inline: bool = False) -> None:
        settings = ingestor.settings
        self.ingestor, self.cfg, self.inline = ingestor, settings.serve.desk, inline
        self.manifest = DeskManifest(settings.desk_dir)
        self.audit = AuditLog(settings.desk_dir / "audit.jsonl")
        self.jobs = JobQueue(self.cfg.jobs_kept, self.cfg.queue_size)
        self.staging = settings.desk_dir / "staging"
        self._lock_path = settings.desk_dir / "desk.lock"
        self.resolver = resolve  # tests may point it at their own loopback server

    # -- submitting ----------------------------------------------------------------

    def add_file(self, staged: Staged, editor: str, meta: Meta = Meta()) -> Job:
        return self._submit("add-file", staged.name, editor, self._file_work(staged, meta))

    def replace(self, doc_id: str, staged: Staged, editor: str) -> Job:
        return self._submit("replace", f"{doc_id} ← {staged.name}", editor,
                            self._file_work(staged, Meta(), doc_id))

    def add_url(self, url: str, editor: str, meta: Meta = Meta()) -> Job:
        check_url(url, self.cfg, self.resolver)  # refuse at once; checked again on fetch
        return self._submit("add-url", url, editor, self._url_work(url, meta))

    def edit(self, doc_id: str, meta: Meta, editor: str) -> Job:
        return self._submit("edit", doc_id, editor, lambda job: self._edit(job, doc_id, meta))

    def remove(self, doc_id: str, editor: str) -> Job:
        return self._submit("remove", doc_id, editor, lambda job: self._remove(job, doc_id))

    def _submit(self, kind: JobKind, subject: str, editor: str, work: Work) -> Job:
        job = new_job(kind, subject, editor)
        run = self._audited(self._locked_work(work))
        return self.jobs.run_now(job, run) if self.inline else self.jobs.submit(job, run)

    def _audited(self, work: Work) -> Work:
        def run(job: Job) -> str:
            try:
                result = work(job)
            except RagError as exc:
                self.audit.record(job.editor, job.kind, "failed", doc_id=job.doc_id,
                                  content_hash=job.content_hash, subject=job.subject,
                                  job=job.id, error=str(exc))
                raise
            self.audit.record(job.editor, job.kind, "ok", doc_id=job.doc_id,
                              content_hash=job.content_hash, subject=job.subject, job=job.id,
                              result=result)
            return result
        return run

    def _locked_work(self, work: Work) -> Work:
        def run(job: Job) -> str:
            with self._desk_lock(wait=True):
                return work(job)
        return run

    @contextmanager
    def _desk_lock(self, wait: bool) -> Iterator[bool]:
        """Hold the desk lock (one job at a time across processes); yields False when
        `wait` is off and another process holds it."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- the work ------------------------------------------------------------------

    def _file_work(self, staged: Staged, meta: Meta, replacing: str | None = None) -> Work:
        def work(job: Job) -> str:
            try:
                job.advance("reading")
                doc = read_file(staged.path, staged.name, self.cfg)
                return self._commit(job, doc, staged.path, meta, origin="upload",
                                    name=staged.name, replacing=replacing)
            finally:
                shutil.rmtree(staged.path.parent, ignore_errors=True)
        return work

    def _url_work(self, url: str, meta: Meta) -> Work:
        def work(job: Job) -> str:
            folder = self.staging / job.id
            try:
                job.advance("reading")
                got = fetch(url, folder / "download", self.cfg, self.resolver)
                tail = got.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                path = got.path.rename(folder / f"{safe_stem(tail, 'page')}{got.suffix}")
                with path.open("rb") as fh:
                    sniff(fh.read(8192), got.suffix, url)
                doc = read_file(path, url, self.cfg)
                return self._commit(job, doc, path, meta, origin="url", name=url,
                                    source_url=got.url)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return work

    def _commit(self, job: Job, doc: Document, file: Path, meta: Meta, *, origin: str,
                name: str, replacing: str | None = None, source_url: str | None = None) -> str:
        """Store `doc` (read from `file`) as a new document or a new version of
        `replacing`, with its provenance; returns the result line."""
        job.content_hash = doc.content_hash
        indexed = {d.doc_id: d for d, _ in self.ingestor.inventory()}
        _refuse_duplicate(doc, indexed, name, replacing)
        if replacing is not None:
            base = self._desk_record(replacing, indexed, "replace").info
            doc_id = replacing
        else:
            doc_id = self._new_id(safe_stem(name.split("?", 1)[0]), indexed)
            # A file that names no title of its own is titled after the client's name.
            title = doc.info.title if doc.info.title != file.stem else _display_name(name)
            base = replace(doc.info, doc_id=doc_id, url=source_url, title=title)
        stored = self.manifest.files / f"{doc_id}-{doc.content_hash[:12]}{file.suffix}"
        info = meta.apply(replace(base, path=str(stored)))
        job.doc_id = doc_id
        stored.parent.mkdir(parents=True, exist_ok=True)
        os.replace(file, stored)
        record = Provenance(info=info, origin=origin, added_by=job.editor, added_at=_now(),
                            content_hash=doc.content_hash, file=stored.name,
                            source_url=source_url, original_name=name[:300])
        self._index(job, replace(doc, info=info), record, force=False, new_file=stored)
        pages = f"{len(doc.page_starts)} pages, " if doc.page_starts else ""
        verb = "replaced" if replacing else "added as"
        return f"{name}: {verb} {doc_id!r} ({pages}{len(doc.text):,} characters)"

    def _index(self, job: Job, doc: Document, record: Provenance, *, force: bool,
               new_file: Path | None) -> None:
        """Commit `doc` to the index with its pending record, then record it."""
        old = self.manifest.get(record.doc_id)
        self.manifest.stage(job.id, record)
        try:
            self.ingestor.add_documents([doc], force=force, on_progress=job.advance)
        except BaseException:
            self.manifest.unstage(job.id)
            if new_file is not None:
                new_file.unlink(missing_ok=True)
            raise
        self.manifest.put(record)
        self.manifest.unstage(job.id)
        if old is not None and old.file and old.file != record.file:
            (self.manifest.files / old.file).unlink(missing_ok=True)

    def _edit(self, job: Job, doc_id: str, meta: Meta) -> str:
        indexed = {d.doc_id: d for d, _ in self.ingestor.inventory()}
        if doc_id not in indexed:
            raise UnknownDocument(f"no indexed document has the id {doc_id!r}")
        doc = indexed[doc_id]
        job.doc_id, job.content_hash = doc_id, doc.content_hash
        info = meta.apply(doc.info)
        old = self.manifest.get(doc_id)
        record = replace(old, info=info) if old is not None else Provenance(
            info=info, origin="manifest", added_by=job.editor, added_at=_now(),
            content_hash=doc.content_hash)
        self._index(job, replace(doc, info=info), record, force=True, new_file=None)
        return f"{doc_id}: metadata saved ({info.title}; {info.publisher or 'no publisher'}; " \
               f"{info.date or 'no date'}; {info.kind})"

    def _remove(self, job: Job, doc_id: str) -> str:
        indexed = {d.doc_id: d for d, _ in self.ingestor.inventory()}
        record = self._desk_record(doc_id, indexed, "remove")
        job.doc_id, job.content_hash = doc_id, indexed[doc_id].content_hash
        self.ingestor.remove_documents([doc_id])
        self.manifest.drop(doc_id)
        if record.file:
            (self.manifest.files / record.file).unlink(missing_ok=True)
        return f"{doc_id}: removed ({record.info.title}); answers no longer quote it"

    def _desk_record(self, doc_id: str, indexed: dict[str, Document], verb: str) -> Provenance:
        """The desk record of an indexed document added on the desk; raises
        `UnknownDocument` otherwise (shipped documents are changed in corpus/)."""
        record = self.manifest.get(doc_id)
        if doc_id not in indexed:
            raise UnknownDocument(f"no indexed document has the id {doc_id!r}")
        if record is None or record.origin == "manifest":
            path = indexed[doc_id].info.path or "corpus/"
            raise UnknownDocument(
                f"{doc_id!r} was not added on the desk but from {path}; to {verb} it, change "
                "that file and run `rag ingest` (`--rebuild` after removing one)")
        return record

    def _new_id(self, stem: str, indexed: dict[str, Document]) -> str:
        taken = set(indexed) | set(self.manifest.load())
        candidate, n = stem, 2
        while candidate in taken:
            candidate, n = f"{stem}-{n}", n + 1
        return candidate

    # -- reading -------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Finish or drop what killed jobs left (see `DeskManifest.reconcile`); does
        nothing while another process runs a job. Returns what was done."""
        with self._desk_lock(wait=False) as held:
            if not held:
                return []
            indexed = {d.doc_id: d.content_hash for d, _ in self.ingestor.inventory()}
            _clear_staging(self.staging)
            return self.manifest.reconcile(indexed)

    def documents(self) -> list[dict[str, Any]]:
        """Every indexed document with its metadata, size and provenance (the list the
        sources page shows)."""
        records = self.manifest.load()
        return [_row(doc, chunks, records.get(doc.doc_id))
                for doc, chunks in self.ingestor.inventory()]

    def provenance(self, doc_id: str) -> Provenance | None:
        return self.manifest.get(doc_id)


def _clear_staging(folder: Path, older_than: float = 3600.0) -> None:
    """Remove uploads staged by jobs that never ran (a killed process); a recent one
    may be arriving in another process, so it is left alone."""
    cutoff = time.time() - older_than
    for entry in folder.iterdir() if folder.is_dir() else []:
        if entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def _refuse_duplicate(doc: Document, indexed: dict[str, Document], name: str,
                      replacing: str | None) -> None:
    for other in indexed.values():
        if other.content_hash == doc.content_hash:
            what = ("the version already indexed" if other.doc_id == replacing else
                    f"the indexed {other.info.title!r} ({other.doc_id})")
            raise DuplicateError(f"{name}: same content as {what}; not indexed twice",
                                 other.doc_id)


def _row(doc: Document, chunks: int, record: Provenance | None) -> dict[str, Any]:
    info = doc.info
    added: str | None
    by: str | None
    if record is not None and record.origin != "manifest":
        origin, added, by = record.origin, record.added_at, record.added_by
    else:
        origin = "manifest" if info.license else "file"
        added, by = _file_time(info.path), None
    return {"doc_id": info.doc_id, "title": info.title, "publisher": info.publisher,
            "date": info.date, "kind": info.kind, "url": info.url,
            "pages": len(doc.page_starts) or None, "chunks": chunks,
            "content_hash": doc.content_hash, "origin": origin, "added_at": added,
            "added_by": by, "provenance": record.note() if record else None,
            "desk": record is not None and record.origin != "manifest"}


def _display_name(name: str) -> str:
    """The title a name gives: "Marina Works 2026" for ".../Marina Works 2026.pdf" or a URL's last segment."""
    base = name.split("?", 1)[0].rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    return " ".join(stem.replace("_", " ").split())[:200] or "Untitled"


def _file_time(path: str | None) -> str | None:
    try:
        stamp = os.path.getmtime(path) if path else None
    except OSError:
        return None
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(
        timespec="seconds")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
