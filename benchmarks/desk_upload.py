"""Benchmark: time from upload to answerable for a long PDF on the sources desk.

    PYTHONPATH=. .venv/bin/python -m benchmarks.desk_upload [--pages 100]

Serves the app (real model, the shipped corpus) on loopback with an editor token,
uploads the generated fixture report (devtools/report) through
`POST /api/sources/files`, polls the job, then asks a question only the report
answers until an answer cites it. Prints when each stage started, upload to
committed, committed to the first cited answer, and the total; and, as the baseline in the
same process, `Pipeline.ingest` of the same PDF into a fresh index (what `rag ingest
PATH` does; once before and once after the upload, averaged), and the ratio. Also the load average: on a shared
machine the wall times vary with it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx

from devtools.report.make_report import build
from devtools.web import serving
from rag import Pipeline, Settings
from rag.desk.auth import token_entry

QUESTION = "Who drafted the Coordination Memorandum?"
DOC_ID = "oig-fixture-report"


def _upload_to_answerable(base: str, token: str, pdf: Path) -> dict[str, float]:
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    job = httpx.post(f"{base}/api/sources/files?name={pdf.name}", content=pdf.read_bytes(),
                     headers=auth, timeout=600).json()
    stages: dict[str, float] = {}
    while job["status"] in ("queued", "running"):
        stages.setdefault(job["stage"], time.perf_counter() - started)
        time.sleep(0.2)
        job = httpx.get(f"{base}/api/sources/jobs/{job['id']}", headers=auth, timeout=60).json()
    if job["status"] != "done":
        raise SystemExit(f"job failed: {job['error']}")
    committed = time.perf_counter() - started
    while True:
        answer = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=600).json()
        if any(c["doc_id"] == DOC_ID for c in answer["citations"]):
            break
        time.sleep(0.2)
    total = time.perf_counter() - started
    return {**{f"stage {k} at": v for k, v in stages.items()}, "committed": committed,
            "first cited answer after commit": total - committed, "upload to answerable": total}


def _ingest_seconds(pipeline: Pipeline, pdf: Path, data_dir: Path) -> float:
    """`rag ingest PDF` into a fresh index, with the loaded model: the baseline."""
    fresh = pipeline.with_settings(Settings(data_dir=data_dir))
    t0 = time.perf_counter()
    fresh.ingest([pdf], progress=False)
    return time.perf_counter() - t0


def main() -> None:
    from ui.app import create_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / f"{DOC_ID}.pdf"
        layout = build(pdf, pages=args.pages)
        token, entry = token_entry("bench")
        settings = Settings(data_dir=Path(tmp) / "desk-data")
        settings.serve.editor_tokens = [entry]
        settings.serve.limits.rate_burst = 10_000
        pipeline = Pipeline(settings)
        pipeline.ingest(progress=False)
        pipeline.warm_up()
        before = _ingest_seconds(pipeline, pdf, Path(tmp) / "ingest-before")
        with serving(create_app(settings, pipeline)) as base:
            desk = _upload_to_answerable(base, token, pdf)
        baseline = (before + _ingest_seconds(pipeline, pdf, Path(tmp) / "ingest-after")) / 2
    print(f"{layout.pages}-page PDF ({pdf.name}); load average {os.getloadavg()[0]:.1f}")
    for key, value in desk.items():
        print(f"  {key:32s} {value:7.1f} s")
    print(f"  baseline `Pipeline.ingest` of it   {baseline:7.1f} s (mean of one run before "
          "and one after)")
    print(f"  ratio upload-to-answerable / ingest: {desk['upload to answerable'] / baseline:.2f}x")


if __name__ == "__main__":
    main()
