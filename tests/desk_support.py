"""Shared helpers for the sources-desk tests: a desk over a small index with the fake
embedder, staged uploads, generated PDFs and a loopback web server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fpdf import FPDF

from rag import Pipeline, Settings
from rag.desk.jobs import Job
from rag.desk.service import Desk, Meta
from rag.desk.uploads import Staged, check_name, copy_in, staged_path

from .conftest import PROJECT_CORPUS, make_settings, serve_groups
from .fakes import FakeEmbedder

HARBOR = ("Harbor bulletin.\n\nThe harbor council approved 42 new mooring permits on "
          "Monday. Commissioner Alvarez voted against the plan.\n")
HARBOR_Q = "How many mooring permits did the harbor council approve?"


def desk_settings(tmp: Path, **serve: Any) -> Settings:
    """Settings for a desk test; `serve` by flat names (`max_pages=50`, `editor_tokens=`)."""
    return make_settings(tmp, serve=serve_groups(rate_burst=1000, **serve))


class PairedDesk(Desk):
    """A desk writing through `pipeline`'s ingestor, with the pipeline at hand to ask
    it questions (the app pairs them the same way)."""

    def __init__(self, pipeline: Pipeline, *, inline: bool = False) -> None:
        super().__init__(pipeline.ingestor, inline=inline)
        self.pipeline = pipeline


def make_desk(tmp: Path, **serve: Any) -> PairedDesk:
    """A desk over an index of the shipped corpus, embedded by the fake embedder."""
    settings = desk_settings(tmp, **serve)
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([PROJECT_CORPUS], progress=False)
    return PairedDesk(pipeline)


def stage(desk: Desk, source: Path, name: str | None = None) -> Staged:
    """An upload of `source` as the web layer stages it (`name`: the client's name)."""
    name = name or source.name
    suffix = check_name(name)
    staged = copy_in(source, staged_path(desk.staging, source.stem + "-t", name, suffix),
                     suffix, desk.cfg.max_upload_mb * 2**20)
    return Staged(staged.path, name, staged.size, staged.sha256)


def run(desk: Desk, job: Job, timeout: float = 300) -> Job:
    assert desk.jobs.wait(job, timeout), f"job {job.kind} {job.subject} did not finish"
    return job


def add_text(desk: Desk, tmp: Path, text: str = HARBOR, name: str = "harbor.txt",
             meta: Meta = Meta()) -> Job:
    path = tmp / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return run(desk, desk.add_file(stage(desk, path), "alice", meta))


def cited(desk: PairedDesk, question: str = HARBOR_Q) -> list[str]:
    return [c.doc_id for c in desk.pipeline.ask(question).citations]


def pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with one paragraph per page."""
    doc = FPDF()
    doc.set_font("helvetica", size=12)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 8, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.output(str(path))
    return path


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def web_server(routes: dict[str, Handler], host: str = "127.0.0.1") -> Iterator[str]:
    """A loopback HTTP server answering `routes` (path -> handler); yields its base URL."""

    class _H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            handler = routes.get(self.path.split("?", 1)[0])
            if handler is None:
                self.send_error(404)
                return
            handler(self)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the fetcher hung up on purpose (a timeout, a size cap)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), _H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def reply(body: bytes, content_type: str = "text/plain", status: int = 200,
          headers: dict[str, str] | None = None) -> Handler:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
    return handle
