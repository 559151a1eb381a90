"""`rag corpus fetch` against an HTTP server the test starts on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fpdf import FPDF

from rag import Pipeline, Settings
from cli.main import main
from rag.ingest.fetch import FetchPolicy, fetch_missing
from rag.ingest.manifest import load_manifest

from .conftest import ROOT
from .fakes import FakeEmbedder
from devtools.web import free_port, serving


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
        result = fetch_missing(manifest, corpus, tmp_path / "sources",
                               FetchPolicy(timeout=0.5, backoff=0.01))
    fetched, problems = result.fetched, result.problems
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
        result = fetch_missing(load_manifest(corpus / "sources.toml"), corpus,
                               tmp_path / "sources", FetchPolicy(timeout=2, backoff=0.01))
    assert not result.fetched and "expected a PDF, got text/html" in result.problems[0]


# -- `make run`: `rag corpus fetch --quick`, then ingest, then serve ------------------

FACT = "The review found that 3,014 children were separated in the pilot district."


def make_run_corpus(folder: Path, report_url: str, landing_url: str, other_url: str) -> Path:
    """A corpus folder like the project's: one shipped document and a manifest that
    lists it plus a report and an order to fetch."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shipped-story.txt").write_text(
        "Shipped story.\n\nThe harbor commission approved 42 mooring permits.\n")
    (folder / "sources.toml").write_text(f'''
[[document]]
id = "report-21-028"
title = "The review"
publisher = "OIG"
date = "2021-01-14"
kind = "report"
url = "{report_url}"
landing_url = "{landing_url}"
license = "public domain"

[[document]]
id = "shipped-story"
title = "Shipped story"
publisher = "A paper"
date = "2021-01"
kind = "news"
url = "https://news.example/story"
license = "supplied by the project's user"
path = "shipped-story.txt"

[[document]]
id = "order"
title = "An order"
publisher = "P"
date = "2021-02-02"
kind = "executive-order"
url = "{other_url}"
license = "public domain"
''')
    return folder


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`rag` as `make run` calls it, on a corpus under tmp_path, with the fake embedder."""
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("RAG_FETCH__QUICK_CONNECT_TIMEOUT", "1")
    pipelines: list[Pipeline] = []

    def factory(settings: Settings) -> Pipeline:
        pipelines.append(Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model)))
        return pipelines[-1]

    def run(*argv: str) -> int:
        return main(list(argv), make_pipeline=factory)

    run.pipelines = pipelines  # type: ignore[attr-defined]
    return run


def test_make_run_online_fetches_the_report_and_it_is_answerable(
        cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    report = pdf_bytes(f"Review of the zero tolerance policy.\n{FACT}")
    calls: dict[str, int] = {}
    app = FastAPI()

    @app.get("/report.pdf")
    def serve_report() -> Response:
        calls["report"] = calls.get("report", 0) + 1
        return Response(report, media_type="application/pdf")

    with serving(app) as base:
        make_run_corpus(tmp_path / "corpus", f"{base}/report.pdf", f"{base}/landing",
                        f"{base}/gone.html")
        assert cli("corpus", "fetch", "--quick") == 0  # the 404 is a warning, not a stop
        out, err = capsys.readouterr()
        assert "fetched report-21-028" in out and "warning: order:" in err
        assert cli("corpus", "fetch", "--quick") == 0  # fetched before: not again
        assert calls == {"report": 1} and "1 already here" in capsys.readouterr().out
    assert cli("ingest", "--on-mismatch", "rebuild") == 0
    assert "2 new" in capsys.readouterr().out
    assert cli("ask", "How many children were separated in the pilot district?", "--json") == 0
    citation = json.loads(capsys.readouterr().out)["citations"][0]
    assert citation["doc_id"] == "report-21-028" and citation["page"] == 1
    assert "3,014 children were separated" in citation["quote"]
    assert cli("ask", "Which documents?", "--kind", "report", "--json") == 0


def test_make_run_offline_says_so_in_one_line_and_the_app_starts(
        cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    make_run_corpus(tmp_path / "corpus", f"{closed}/report.pdf", f"{closed}/landing",
                    "http://no-such-host.invalid/order.html")
    started = time.monotonic()
    assert cli("corpus", "fetch", "--quick") == 0
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    assert seconds < 5, seconds
    assert out.count("\n") == 1 and not err, (out, err)
    assert out.startswith("offline (no connection to 127.0.0.1, no-such-host.invalid): "
                          "serving the shipped documents")
    assert cli("ingest", "--on-mismatch", "rebuild") == 0  # the ingest step finishes
    from ui.app import create_app

    pipeline = cli.pipelines[-1]
    with serving(create_app(pipeline.settings, pipeline)) as base:
        health = httpx.get(f"{base}/api/health", timeout=30).json()
        assert health["status"] == "ok" and health["documents"] == 1
        assert httpx.get(f"{base}/", timeout=30).status_code == 200


def test_quick_mode_bounds_a_hanging_name_lookup(tmp_path: Path) -> None:
    """httpx's connect timeout does not cover DNS; quick mode bounds it and asks once
    per host."""
    looked_up: list[str] = []

    def hanging(host: str, port: object) -> None:
        looked_up.append(host)
        time.sleep(5)

    corpus = make_run_corpus(tmp_path / "corpus", "http://dns.example/r.pdf",
                             "http://dns.example/landing", "http://dns.example/o.html")
    started = time.monotonic()
    result = fetch_missing(load_manifest(corpus / "sources.toml"), corpus, tmp_path / "src",
                           FetchPolicy(timeout=1, connect_timeout=0.3, retries=1, quick=True),
                           resolve=hanging)
    assert time.monotonic() - started < 4  # bounded: the lookup alone hangs for 5 s
    assert looked_up == ["dns.example"] and result.unreachable == ["dns.example"]
    assert result.offline and "name lookup timed out" in result.problems[0]


def test_make_run_fetches_then_ingests_then_serves() -> None:
    """The Makefile's `run` (dry run: nothing is executed)."""
    make = shutil.which("make")
    assert make, "make is missing"
    out = subprocess.run([make, "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    steps = [line for line in out.splitlines() if "/rag " in line]
    assert [s.split("/rag ", 1)[1].split()[0:2] for s in steps] == [
        ["corpus", "fetch"], ["ingest", "--on-mismatch"], ["serve"]]
    assert "--quick" in steps[0]
