"""The desk's manifest: where each document added or edited on the sources desk came
from (an upload by an editor, a URL, the shipped manifest), when, and its hash.

It belongs to ingest beside `manifest` (the shipped `sources.toml`): the `Ingestor`
reads both, so a rebuild keeps desk documents and the metadata editors gave.

`DATA_DIR/desk/manifest.json` holds one record per document; the files the desk
stored are under `DATA_DIR/desk/files/` with names made here (never the client's).
A job first writes a *pending* record (`DATA_DIR/desk/pending/JOB.json`), then
commits to the index, then moves the record into the manifest; `reconcile` finishes
or undoes what a killed job left, judged by the index (the one source of truth).
Every write goes to a temporary file renamed over the old one, so a crash leaves
either the old or the new manifest, never half of one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.ingest.manifest import Manifest, ManifestEntry
from rag.types import SourceInfo

ORIGINS = ("upload", "url", "manifest")


@dataclass(frozen=True)
class Provenance:
    """Where one document came from, and the metadata the desk gave it.

    `origin`: "upload" (a file an editor sent), "url" (fetched server-side) or
    "manifest" (a shipped document whose metadata an editor edited)."""

    info: SourceInfo
    origin: str
    added_by: str
    added_at: str  # ISO 8601, UTC
    content_hash: str
    file: str | None = None  # the stored file's name under desk/files/
    source_url: str | None = None
    original_name: str | None = None  # the name the client gave (shown, never used as a path)

    @property
    def doc_id(self) -> str:
        return self.info.doc_id

    def note(self) -> str:
        """One line for a citation card: "uploaded by alice on 2026-12-02"."""
        day = self.added_at[:10]
        if self.origin == "url":
            return f"fetched from {self.source_url} by {self.added_by} on {day}"
        if self.origin == "upload":
            return f"uploaded by {self.added_by} on {day}"
        return f"edited by {self.added_by} on {day}"

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "info": dataclasses.asdict(self.info)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Provenance:
        return cls(**{**raw, "info": SourceInfo(**raw["info"])})


def desk_files(settings: Settings) -> Path:
    """The folder of the files the desk stored (ingested by default, like fetched sources)."""
    return settings.desk_dir / "files"


def safe_stem(name: str, fallback: str = "document") -> str:
    """A lowercase slug of a client file name's stem: no folders, no dots, at most 60
    characters ("../../etc/Passwd.txt" -> "passwd")."""
    base = re.split(r"[\\/]", name)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].strip("-")
    return slug or fallback


class DeskManifest:
    """The manifest file and the pending records of one data directory."""

    def __init__(self, desk_dir: Path) -> None:
        self.root = Path(desk_dir)
        self.path = self.root / "manifest.json"
        self.files = self.root / "files"
        self.pending_dir = self.root / "pending"

    def load(self) -> dict[str, Provenance]:
        """Every record by document id; empty when there is no manifest yet."""
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {d: Provenance.from_json(r) for d, r in raw.get("documents", {}).items()}

    def get(self, doc_id: str) -> Provenance | None:
        return self.load().get(doc_id)

    def put(self, record: Provenance) -> None:
        records = self.load()
        records[record.doc_id] = record
        self._save(records)

    def drop(self, doc_id: str) -> Provenance | None:
        records = self.load()
        gone = records.pop(doc_id, None)
        if gone is not None:
            self._save(records)
        return gone

    def _save(self, records: dict[str, Provenance]) -> None:
        data = {"documents": {d: r.to_json() for d, r in sorted(records.items())}}
        atomic_write(self.path, json.dumps(data, indent=1, ensure_ascii=False))

    # -- pending records: what a job is about to commit --------------------------

    def stage(self, job_id: str, record: Provenance) -> None:
        atomic_write(self.pending_dir / f"{job_id}.json", json.dumps(record.to_json()))

    def unstage(self, job_id: str) -> None:
        (self.pending_dir / f"{job_id}.json").unlink(missing_ok=True)

    def pending(self) -> dict[str, Provenance]:
        if not self.pending_dir.is_dir():
            return {}
        return {p.stem: Provenance.from_json(json.loads(p.read_text(encoding="utf-8")))
                for p in sorted(self.pending_dir.glob("*.json"))}

    def reconcile(self, indexed: dict[str, str]) -> list[str]:
        """Finish or undo what killed jobs left, by the index (`indexed`: doc id ->
        content hash): a pending record the index holds is committed, any other is
        dropped; stored files no record names are deleted. Returns what was done."""
        done = []
        for job_id, record in self.pending().items():
            if indexed.get(record.doc_id) == record.content_hash:
                self.put(record)
                done.append(f"job {job_id}: {record.doc_id} was committed; recorded")
            else:
                done.append(f"job {job_id}: {record.doc_id} was not committed; dropped")
            self.unstage(job_id)
        named = {r.file for r in self.load().values() if r.file}
        for path in sorted(self.files.glob("*")) if self.files.is_dir() else []:
            if path.name not in named:
                path.unlink(missing_ok=True)
                done.append(f"removed unreferenced file {path.name}")
        return done


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file renamed over it (fsync'd)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def with_desk(manifest: Manifest, settings: Settings) -> Manifest:
    """`manifest` with the desk's records in front, so a rebuild (or a re-ingest)
    gives desk documents, and shipped documents an editor edited, their desk metadata."""
    records = DeskManifest(settings.desk_dir).load()
    if not records:
        return manifest
    entries = []
    for r in records.values():
        filename = r.file or (Path(r.info.path).name if r.info.path else None)
        entries.append(ManifestEntry(info=r.info, filename=filename))
    return Manifest(tuple(entries) + manifest.entries)
