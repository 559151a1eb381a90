"""The source manifest (`corpus/sources.toml`): provenance of every document."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError
from rag.types import SourceInfo

KINDS = ("report", "news", "executive-order", "fact-sheet", "other")
_REQUIRED = ("id", "title", "publisher", "date", "kind", "license")


@dataclass(frozen=True)
class ManifestEntry:
    info: SourceInfo
    filename: str | None  # the file name it is known under outside corpus/
    landing_url: str | None = None  # a page linking to the file, tried when `url` fails

    @property
    def redistributable(self) -> bool:
        """False for documents listed by URL only (copyrighted coverage)."""
        return "copyright" not in self.info.license.lower()

    def matches(self, path: Path) -> bool:
        names = {self.info.path and Path(self.info.path).name, self.filename}
        return path.name in names or path.stem == self.info.doc_id


@dataclass(frozen=True)
class Manifest:
    entries: tuple[ManifestEntry, ...]

    def lookup(self, path: Path) -> SourceInfo | None:
        """Return the manifest's metadata for a file, or None when it is not listed."""
        for entry in self.entries:
            if entry.matches(path):
                return entry.info
        return None

    @classmethod
    def empty(cls) -> Manifest:
        return cls(())


def load_manifest(path: Path) -> Manifest:
    """Parse the manifest; a missing file is an empty manifest, a broken one an error."""
    if not path.exists():
        return Manifest.empty()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the manifest") from exc
    entries = []
    for i, raw in enumerate(data.get("document", [])):
        missing = [key for key in _REQUIRED if not raw.get(key)]
        if missing:
            raise ConfigError(f"{path}: document #{i + 1} lacks {', '.join(missing)}")
        if raw["kind"] not in KINDS:
            raise ConfigError(f"{path}: document {raw['id']!r} has kind {raw['kind']!r}; "
                              f"use one of {', '.join(KINDS)}")
        info = SourceInfo(
            doc_id=raw["id"], title=raw["title"], publisher=raw["publisher"],
            date=str(raw["date"]), kind=raw["kind"], url=raw.get("url") or None,
            license=raw["license"], path=raw.get("path"),
        )
        entries.append(ManifestEntry(info=info, filename=raw.get("filename"),
                                     landing_url=raw.get("landing_url") or None))
    ids = [e.info.doc_id for e in entries]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: document ids must be unique")
    return Manifest(tuple(entries))
