"""`rag corpus fetch` against an HTTP server the test starts on loopback."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fpdf import FPDF

from rag.fetch import fetch_missing
from rag.manifest import load_manifest

from .web import serving


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


REPORT = pdf_bytes("Review of the zero tolerance policy. Page one of the report.")


def site(calls: dict[str, int]) -> FastAPI:
    app = FastAPI()

    def count(name: str) -> None:
        calls[name] = calls.get(name, 0) + 1

    @app.get("/files/report.pdf")
    def html_instead() -> HTMLResponse:  # the direct address serves an HTML page
        count("report")
        return HTMLResponse("<html><body>Moved. See the landing page.</body></html>")

    @app.get("/landing")
    def landing() -> HTMLResponse:
        count("landing")
        return HTMLResponse('<html><body><a href="/about">About</a>'
                            '<a href="/real/21-028.pdf">Download the report (PDF)</a></body></html>')

    @app.get("/real/21-028.pdf")
    def real() -> Response:
        count("real")
        return Response(REPORT, media_type="application/pdf")

    @app.get("/flaky.pdf")
    def flaky() -> Response:  # fails once with a 503, then works: retried
        count("flaky")
        if calls["flaky"] == 1:
            return Response("busy", status_code=503)
        return Response(pdf_bytes("Flaky but fine."), media_type="application/pdf")

    @app.get("/slow.pdf")
    def slow() -> Response:
        count("slow")
        time.sleep(1.5)
        return Response(REPORT, media_type="application/pdf")

    @app.get("/order.html")
    def order() -> HTMLResponse:
        return HTMLResponse("<html><body><article><p>It is hereby ordered.</p></article>"
                            "</body></html>")
    return app


def manifest_for(corpus: Path, base: str) -> Path:
    entries = [
        ("report-21-028", "report", f"{base}/files/report.pdf", f"{base}/landing", "public domain"),
        ("flaky", "other", f"{base}/flaky.pdf", None, "public domain"),
        ("missing", "other", f"{base}/missing.pdf", None, "public domain"),
        ("slow", "other", f"{base}/slow.pdf", None, "public domain"),
        ("order", "executive-order", f"{base}/order.html", None, "public domain"),
        ("paywalled", "news", f"{base}/news.html", None, "copyrighted: listed by URL only"),
    ]
    lines = []
    for doc_id, kind, url, landing, license_ in entries:
        lines += ["[[document]]", f'id = "{doc_id}"', f'title = "{doc_id}"', 'publisher = "P"',
                  'date = "2021-01"', f'kind = "{kind}"', f'url = "{url}"',
                  f'license = "{license_}"']
        if landing:
            lines.append(f'landing_url = "{landing}"')
        lines.append("")
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "sources.toml").write_text("\n".join(lines))
    return corpus / "sources.toml"


def test_fetch_checks_types_follows_landing_pages_and_records_digests(tmp_path: Path) -> None:
    calls: dict[str, int] = {}
    with serving(site(calls)) as base:
        corpus = tmp_path / "corpus"
        manifest = load_manifest(manifest_for(corpus, base))
        fetched, problems = fetch_missing(manifest, corpus, tmp_path / "sources",
                                          timeout=0.5, backoff=0.01)
    got = {f.doc_id: f for f in fetched}
    assert list(got)[0] == "report-21-028"  # the report first
    assert set(got) == {"report-21-028", "flaky", "order"}
    report = got["report-21-028"]
    assert report.url.endswith("/real/21-028.pdf") and report.path.read_bytes() == REPORT
    assert report.sha256 == hashlib.sha256(REPORT).hexdigest()
    assert calls["flaky"] == 2 and got["order"].path.suffix == ".html"
    assert any(p.startswith("missing:") and "HTTP 404" in p for p in problems)
    assert any(p.startswith("slow:") and "failed after 3 tries" in p for p in problems)
    assert not any(p.startswith("paywalled") for p in problems)  # never fetched
    lock = json.loads((corpus / "sources.lock").read_text())
    assert lock["report-21-028"]["sha256"] == report.sha256
    assert not list((tmp_path / "sources").glob("*.partial"))


def test_html_where_a_pdf_is_expected_without_landing_page_fails(tmp_path: Path) -> None:
    with serving(site({})) as base:
        corpus = tmp_path / "corpus"
        (corpus).mkdir()
        (corpus / "sources.toml").write_text(
            f'[[document]]\nid = "r"\ntitle = "r"\npublisher = "p"\ndate = "2021"\n'
            f'kind = "report"\nurl = "{base}/files/report.pdf"\nlicense = "public domain"\n')
        fetched, problems = fetch_missing(load_manifest(corpus / "sources.toml"), corpus,
                                          tmp_path / "sources", timeout=2, backoff=0.01)
    assert not fetched and "expected a PDF, got text/html" in problems[0]
