"""Operator numbers: `GET /metrics` in the Prometheus text format, and an optional
JSON access log with one line per question.

Each app has its own `CollectorRegistry` (nothing global), so several apps can live
in one process (tests build many). HTTP requests are counted by an ASGI middleware;
the chat, whose questions travel through Gradio's queue, reports its own. Cache
counts, the index revision and the document count are read from the pipeline when
scraped, so they are never out of date.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from rag import Pipeline, RagError, Settings
from rag.types import Answer

from .limits import QUESTION_PATHS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Routes get their own label; anything else is folded into a few, so a scanner
# trying random paths cannot grow the number of series without bound.
_KNOWN = frozenset({"/", "/metrics", "/embed", "/embed.js", "/embed-app.js", "/api/health",
                    "/api/sources", "/api/feedback", "/api/docs", "/api/openapi.json"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ANSWER_STATES = ("answered", "uncertain", "not_covered")


def route_label(path: str) -> str:
    if path in _KNOWN or path in QUESTION_PATHS:
        return path
    return "/gradio_api" if path.startswith("/gradio_api/") else "other"


class _IndexCollector(Collector):
    """Answer-cache counts and the index's state, read at scrape time."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def collect(self) -> Iterator[Metric]:
        cache = self.pipeline.cache
        lookups = CounterMetricFamily("rag_answer_cache_lookups", "Answer cache lookups by "
                                      "result", labels=["result"])
        lookups.add_metric(["hit"], cache.hits)
        lookups.add_metric(["miss"], cache.misses)
        yield lookups
        yield GaugeMetricFamily("rag_answer_cache_entries", "Answers held in the cache",
                                value=len(cache))
        try:
            generation, revision = self.pipeline.store.state()
            stats = self.pipeline.stats()
        except RagError:
            return  # the index cannot be read: the gauges are absent, not wrong
        yield GaugeMetricFamily("rag_index_generation", "Live index generation", value=generation)
        yield GaugeMetricFamily("rag_index_revision", "Index revision (bumped by every write)",
                                value=revision)
        yield GaugeMetricFamily("rag_index_documents", "Documents indexed", value=stats["documents"])
        yield GaugeMetricFamily("rag_index_chunks", "Chunks indexed", value=stats["chunks"])


class AccessLog:
    """One JSON line per question; the question text only when allowed."""

    def __init__(self, path: Path, with_questions: bool) -> None:
        self.path = path
        self.with_questions = with_questions
        self._lock = threading.Lock()

    def write(self, route: str, status: int, seconds: float, answer: Answer | None,
              question: str | None) -> None:
        line: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"), "route": route,
            "status": status, "latency_ms": round(seconds * 1000, 2),
            "cache_hit": answer.cached if answer else None,
            "answer_status": answer.status if answer else None}
        if self.with_questions:
            line["question"] = answer.question if answer else question
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")


class AppMetrics:
    """The app's counters and histogram, in a registry of its own."""

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("rag_http_requests", "HTTP requests by route and status",
                                ["route", "status"], registry=r)
        self.latency = Histogram("rag_answer_latency_seconds", "Time to answer a question "
                                 "(to the last byte for the API)", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.answers = Counter("rag_answers", "Answers by status", ["status"], registry=r)
        self.rate_limited = Counter("rag_rate_limited", "Questions refused with 429 "
                                    "(per-client limit)", ["route"], registry=r)
        self.overloaded = Counter("rag_overloaded", "Questions refused with 503 (no "
                                  "answering slot, or no index)", ["route"], registry=r)
        for state in ANSWER_STATES:
            self.answers.labels(state)  # present at 0 before the first answer
        r.register(_IndexCollector(pipeline))
        logs = settings.serve.logs
        self.access_log = AccessLog(logs.access_log, logs.access_log_questions) \
            if logs.access_log else None

    def request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()
        if status == 429:
            self.rate_limited.labels(route).inc()
        elif status == 503:
            self.overloaded.labels(route).inc()

    def question(self, route: str, status: int, seconds: float, answer: Answer | None,
                 question: str | None = None) -> None:
        """One question's outcome: the answer's status and latency, the access log."""
        if answer is not None:
            self.answers.labels(answer.status).inc()
            self.latency.labels(route).observe(seconds)
        if self.access_log is not None:
            self.access_log.write(route, status, seconds, answer, question)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI: counts every response by route and status; for question routes,
    times the whole response (streams included) and reports the answer the handler
    left in `request.state.answer`."""

    def __init__(self, app: Any, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = route_label(scope.get("path", ""))
        state = scope.setdefault("state", {})
        status = 500

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.metrics.request(route, status)
            if route in QUESTION_PATHS and scope.get("method") == "POST":
                self.metrics.question(route, status, time.perf_counter() - started,
                                      state.get("answer"))
