"""Read one file in a process of its own (run as a script, never imported).

    python -I sandbox.py PATH MAX_BYTES MAX_PAGES MEMORY_MB CPU_SECONDS

Limits are set before anything is parsed: address space (a decompression bomb
fails with MemoryError), CPU time, no file writes, and the page count of a PDF is
checked before its text is extracted. Prints one JSON object: the document read by
`rag.ingest.load.load_document` (the ingest's own reader), or `{"error": reason}`.
The `rag` package is attached without running its `__init__` (`rag.ingest`'s is a
docstring only), so the process starts in well under a second and never loads the
model, Chroma or LangChain.
"""

from __future__ import annotations

import json
import resource
import sys
import types
from pathlib import Path


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    mem = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _attach_rag() -> None:
    package = types.ModuleType("rag")
    package.__path__ = [str(Path(__file__).resolve().parents[1])]
    sys.modules["rag"] = package


def _pages(path: Path) -> int:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    # An encrypted PDF cannot be counted; `load_document` refuses it by name.
    return 0 if reader.is_encrypted else len(reader.pages)


def _read(path: Path, max_bytes: int, max_pages: int) -> dict[str, object]:
    from rag.errors import LoadError
    from rag.ingest.load import load_document
    from rag.ingest.manifest import Manifest

    try:
        if path.suffix.lower() == ".pdf" and path.stat().st_size <= max_bytes \
                and path.read_bytes()[:1024].lstrip().startswith(b"%PDF-"):
            try:
                pages = _pages(path)
            except MemoryError:
                raise
            except Exception as exc:  # pypdf raises many kinds on a damaged file
                return {"error": f"not a readable PDF ({str(exc)[:200]})"}
            if pages > max_pages:
                return {"error": f"{pages} pages is over the limit of {max_pages} "
                        "(RAG_SERVE__DESK__MAX_PAGES); split the PDF or raise the limit"}
        doc = load_document(path, Manifest.empty(), max_bytes)
    except LoadError as exc:
        return {"error": exc.reason}
    except MemoryError:
        return {"error": "reading it needed more memory than allowed "
                "(RAG_SERVE__DESK__READ_MEMORY_MB): a decompression bomb or a damaged file?"}
    except Exception as exc:  # a damaged file can make any parser fail in its own way
        return {"error": f"not readable ({type(exc).__name__}: {str(exc)[:200]})"}
    return {"text": doc.text, "page_starts": list(doc.page_starts),
            "content_hash": doc.content_hash, "title": doc.info.title,
            "publisher": doc.info.publisher, "date": doc.info.date, "kind": doc.info.kind,
            "url": doc.info.url}


def main() -> None:
    path, max_bytes, max_pages, memory_mb, cpu = sys.argv[1:6]
    _limit(int(memory_mb), int(cpu))
    _attach_rag()
    result = _read(Path(path), int(max_bytes), int(max_pages))
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
