"""Read an uploaded or fetched file into a `Document` in a bounded child process
(`sandbox.py`): a PDF bomb costs at most `read_seconds` and `read_memory_mb`, and
the app's process never parses untrusted bytes itself."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
from pathlib import Path

from rag.config import DeskSettings
from rag.errors import LoadError
from rag.types import Document, SourceInfo

SANDBOX = Path(__file__).with_name("sandbox.py")


def read_file(path: Path, name: str, cfg: DeskSettings) -> Document:
    """The document in `path` (read with the ingest's reader), named `name` in errors.

    Returns a `Document` whose `info` holds what the file itself says (title, date…),
    with `doc_id` the file's stem. Raises `LoadError` naming `name`: unreadable,
    mislabelled, encrypted, too many pages, too slow or too large to read."""
    cmd = [sys.executable, "-I", str(SANDBOX), str(path), str(cfg.max_upload_mb * 2**20),
           str(cfg.max_pages), str(cfg.read_memory_mb), str(math.ceil(cfg.read_seconds))]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=cfg.read_seconds,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LoadError(name, f"reading took over {cfg.read_seconds:g} s "
                        "(RAG_SERVE__DESK__READ_SECONDS): a PDF bomb or a damaged file?") from exc
    if done.returncode != 0 or not done.stdout:
        raise LoadError(name, _crash_reason(done.returncode, done.stderr, cfg))
    result = json.loads(done.stdout)
    if "error" in result:
        raise LoadError(name, str(result["error"]))
    info = SourceInfo(doc_id=path.stem, title=result["title"], publisher=result["publisher"],
                      date=result["date"], kind=result["kind"], url=result["url"],
                      path=str(path))
    return Document(info=info, text=result["text"], content_hash=result["content_hash"],
                    page_starts=tuple(result["page_starts"]))


def _crash_reason(code: int, stderr: bytes, cfg: DeskSettings) -> str:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return (f"reading used over {cfg.read_seconds:g} s of CPU "
                "(RAG_SERVE__DESK__READ_SECONDS): a PDF bomb or a damaged file?")
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    if "MemoryError" in tail[0]:
        return (f"reading needed over {cfg.read_memory_mb} MB (RAG_SERVE__DESK__READ_MEMORY_MB): "
                "a decompression bomb or a damaged file?")
    return f"the reader failed ({tail[0][:200]})"
