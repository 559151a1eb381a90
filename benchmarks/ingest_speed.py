"""Benchmark: ingest of a long report-grade PDF with the real model loaded.

    PYTHONPATH=. .venv/bin/python -m benchmarks.ingest_speed [--pages 150] [--no-baseline]

Generates the fixture report (devtools/report) with about `--pages` pages,
loads the embedding model once, then ingests the PDF into a fresh index twice in
this process: with `Ingestor.write` as it is (one length-sorted pass, repeated
sentences embedded once) and with the former per-document writer (chunks, then
sentences, in calls of 4 batches) as the baseline. Prints seconds (wall and this
process's CPU), chunks/s and sentences/s for each, and their ratio. On a machine
shared with other jobs the wall time varies; the CPU seconds vary less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from rag import Ingestor, IngestReport, Pipeline, Settings
from rag.ingest.chunk import chunk_document
from rag.index.embed import Embedder
from rag.ingest.load import load_document
from rag.ingest.manifest import load_manifest
from rag.ingest.ingestor import Progress, Todo
from devtools.report.make_report import build


class PerDocumentIngestor(Ingestor):
    """`Ingestor.write` before batching: per document, chunks then sentences."""

    def write(self, todo: list[Todo], report: IngestReport, progress: bool,
              on_progress: Progress | None = None) -> None:
        step = self.settings.embedding.batch_size * 4

        def embed(texts: list[str]) -> np.ndarray:
            return np.concatenate([self.embedder.embed(texts[i:i + step])
                                   for i in range(0, len(texts), step)])

        for doc, chunks, existed in todo:
            vectors = embed([self.embed_text(doc, c) for c in chunks])
            sentences = embed([doc.text[s.start:s.end] for c in chunks for s in c.sentences])
            self.store.replace_document(doc, chunks, vectors, sentences)
            (report.updated if existed else report.added).append(doc.doc_id)
            report.chunks_written += len(chunks)


class TimedEmbedder:
    """The loaded embedder, with the seconds spent in it counted."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    def embed(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def run(base: Pipeline, pdf: Path, data_dir: Path, legacy: bool) -> tuple[float, float, float]:
    """Ingest `pdf` into a new index at `data_dir`; return (wall, CPU, embedding) seconds."""
    timed = TimedEmbedder(base.embedder)
    pipeline = Pipeline(base.settings.model_copy(update={"data_dir": data_dir}), embedder=timed)
    kind = PerDocumentIngestor if legacy else Ingestor
    ingestor = kind(pipeline.settings, pipeline.store, timed)
    wall, cpu = time.perf_counter(), time.process_time()
    report = ingestor.ingest([pdf], progress=False)
    if report.failed or report.added != [pdf.stem]:
        raise SystemExit(f"ingest failed: {report.failed}")
    return time.perf_counter() - wall, time.process_time() - cpu, timed.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest speed on a long report PDF")
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-ingest-bench-") as tmp:
        pdf = Path(tmp) / "report.pdf"
        layout = build(pdf, args.pages)
        base = Pipeline(Settings(data_dir=Path(tmp) / "unused"))
        base.embedder.embed(["warm up"])  # the model is loaded before the clock starts
        started = time.perf_counter()
        doc = load_document(pdf, load_manifest(base.settings.manifest_path))
        read = time.perf_counter() - started
        chunks = chunk_document(doc, base.settings.chunking)
        sentences = sum(len(c.sentences) for c in chunks)
        print(f"report: {layout.pages} pages, {len(chunks)} chunks, {sentences} sentences; "
              f"reading the PDF alone: {read:.1f} s")
        runs = [("batched", False)] + ([] if args.no_baseline else [("per-document", True)])
        seconds = {}
        for name, legacy in runs:
            wall, cpu, embedding = run(base, pdf, Path(tmp) / name, legacy)
            seconds[name] = wall
            print(f"{name:13s} {wall:6.1f} s wall ({cpu:6.1f} s CPU, {embedding:6.1f} s "
                  f"embedding)  {len(chunks) / wall:5.1f} chunks/s  "
                  f"{sentences / wall:6.1f} sentences/s")
        if len(seconds) == 2:
            print(f"ratio per-document / batched: {seconds['per-document'] / seconds['batched']:.2f}x")


if __name__ == "__main__":
    main()
