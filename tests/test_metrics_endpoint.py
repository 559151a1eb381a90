"""`GET /metrics` (Prometheus text format, read back with prometheus-client's parser)
and the JSON access log."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from rag import Pipeline

from .conftest import make_settings, serve_groups
from .fakes import FakeEmbedder, write_artefact

QUESTION = "How many mooring permits were approved?"


def _app(tmp: Path, corpus: Path | None, **serve: object) -> tuple[TestClient, Pipeline]:
    from ui.app import create_app

    # A scorer whose states follow question-word coverage: the counts below are exact.
    settings = make_settings(tmp, serve=serve_groups(**serve),
                             answer={"scorer_path": write_artefact(tmp / "scorer.json")})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    if corpus is not None:
        pipeline.ingest([corpus], progress=False)
    return TestClient(create_app(settings, pipeline), client=("127.0.0.1", 5000)), pipeline


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}, parsed by prometheus-client."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_count_requests_answers_cache_and_429(tmp_path: Path,
                                                      small_corpus: Path) -> None:
    client, pipeline = _app(tmp_path, small_corpus, rate_burst=4, rate_per_minute=1)
    statuses = [client.post("/api/ask", json={"question": q}).status_code
                for q in (QUESTION, QUESTION, " ", "What is the capital of France?", QUESTION)]
    assert statuses == [200, 200, 400, 200, 429]
    m = scrape(client)
    assert m[("rag_http_requests_total", (("route", "/api/ask"), ("status", "200")))] == 3
    assert m[("rag_http_requests_total", (("route", "/api/ask"), ("status", "400")))] == 1
    assert m[("rag_http_requests_total", (("route", "/api/ask"), ("status", "429")))] == 1
    assert m[("rag_rate_limited_total", (("route", "/api/ask"),))] == 1
    assert m[("rag_answers_total", (("status", "answered"),))] == 2
    assert m[("rag_answers_total", (("status", "not_covered"),))] == 1
    assert m[("rag_answers_total", (("status", "uncertain"),))] == 0
    assert m[("rag_answer_cache_lookups_total", (("result", "hit"),))] == 1
    assert m[("rag_answer_cache_lookups_total", (("result", "miss"),))] == 2
    assert m[("rag_answer_latency_seconds_count", (("route", "/api/ask"),))] == 3
    assert m[("rag_answer_latency_seconds_bucket", (("le", "+Inf"), ("route", "/api/ask")))] == 3
    assert m[("rag_index_documents", ())] == 2
    assert m[("rag_index_revision", ())] == pipeline.store.state()[1] > 0
    # Scraping is counted too, under its own route.
    assert scrape(client)[("rag_http_requests_total",
                           (("route", "/metrics"), ("status", "200")))] >= 1


def test_503_is_counted_and_unknown_paths_share_one_label(tmp_path: Path) -> None:
    client, _ = _app(tmp_path, None)  # nothing indexed: questions get a 503
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 503
    for i in range(5):
        client.get(f"/no-such-page-{i}")
    m = scrape(client)
    assert m[("rag_overloaded_total", (("route", "/api/ask"),))] == 1
    assert m[("rag_http_requests_total", (("route", "other"), ("status", "404")))] == 5
    assert m[("rag_answer_cache_lookups_total", (("result", "hit"),))] == 0


def test_each_app_has_its_own_registry(tmp_path: Path, small_corpus: Path) -> None:
    one, _ = _app(tmp_path / "a", small_corpus)
    two, _ = _app(tmp_path / "b", small_corpus)
    one.post("/api/ask", json={"question": QUESTION})
    key = ("rag_answers_total", (("status", "answered"),))
    assert scrape(one)[key] == 1 and scrape(two)[key] == 0


def test_stream_answers_are_counted(tmp_path: Path, small_corpus: Path) -> None:
    client, _ = _app(tmp_path, small_corpus)
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as r:
        assert "event: answer" in "".join(r.iter_text())
    m = scrape(client)
    assert m[("rag_answers_total", (("status", "answered"),))] == 1
    assert m[("rag_answer_latency_seconds_count", (("route", "/api/ask/stream"),))] == 1


def test_access_log_has_one_line_per_question_without_the_text(tmp_path: Path,
                                                               small_corpus: Path) -> None:
    log = tmp_path / "access.jsonl"
    client, _ = _app(tmp_path, small_corpus, access_log=str(log), rate_burst=3,
                     rate_per_minute=1)
    for _ in range(4):
        client.post("/api/ask", json={"question": QUESTION})
    client.get("/api/health")  # not a question: not logged
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["route"], x["status"], x["cache_hit"], x["answer_status"]) for x in lines] == [
        ("/api/ask", 200, False, "answered"), ("/api/ask", 200, True, "answered"),
        ("/api/ask", 200, True, "answered"), ("/api/ask", 429, None, None)]
    assert all(set(x) == {"time", "route", "status", "latency_ms", "cache_hit",
                          "answer_status"} for x in lines)
    assert QUESTION not in log.read_text()


def test_access_log_may_hold_the_question_when_allowed(tmp_path: Path,
                                                       small_corpus: Path) -> None:
    log = tmp_path / "access.jsonl"
    client, _ = _app(tmp_path, small_corpus, access_log=str(log), access_log_questions=True)
    client.post("/api/ask", json={"question": QUESTION})
    assert json.loads(log.read_text())["question"] == QUESTION
