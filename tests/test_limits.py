"""Per-client rate limits: a token bucket per address, 429 + Retry-After after the burst."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from rag import Pipeline
from ui.chat import _limited
from ui.limits import ClientAddresses, QuestionLimits, RateLimiter

from .conftest import make_settings, serve_groups
from .fakes import FakeEmbedder

ASK = {"question": "How many mooring permits were approved?"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, max_clients=100, clock=clock)  # one token per 10 s
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == pytest.approx(10.0)
    assert limiter.take("b") == 0.0  # another client has its own bucket
    clock.now += 4
    assert limiter.take("a") == pytest.approx(6.0)  # refused attempts spend nothing
    clock.now += 6
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, not beyond


def test_bucket_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_clients=10)
    for i in range(100):
        limiter.take(f"10.0.0.{i}")
    assert len(limiter._buckets) == 10


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    addresses = ClientAddresses(["127.0.0.1", "10.0.0.0/8"])
    assert addresses.client("203.0.113.5", "198.51.100.1") == "203.0.113.5"  # not a proxy
    assert addresses.client("127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert addresses.client("127.0.0.1", None) == "127.0.0.1"
    # Left-most hops are the client's own claims: the right-most untrusted one counts.
    assert addresses.client("127.0.0.1", "1.2.3.4, 198.51.100.1, 10.1.2.3") == "198.51.100.1"
    assert addresses.client("127.0.0.1", "junk, 10.1.2.3") == "10.1.2.3"
    assert ClientAddresses([]).client("127.0.0.1", "198.51.100.1") == "127.0.0.1"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        ClientAddresses(["not-an-address"])


def _client(tmp: Path, corpus: Path, **serve: object) -> TestClient:
    from ui.app import create_app

    settings = make_settings(tmp, serve=serve_groups(**serve))
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([corpus], progress=False)
    # A stopped clock: buckets refill only when a test moves it, however slow the machine.
    limits = QuestionLimits(settings.serve, clock=Clock())
    return TestClient(create_app(settings, pipeline, limits), client=("127.0.0.1", 50000))


def test_api_answers_429_with_retry_after_after_the_burst(tmp_path: Path,
                                                          small_corpus: Path) -> None:
    client = _client(tmp_path, small_corpus, rate_burst=3, rate_per_minute=6)
    assert [client.post("/api/ask", json=ASK).status_code for _ in range(3)] == [200] * 3
    limited = client.post("/api/ask", json=ASK)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "10"
    assert "Too many questions" in limited.json()["error"]
    assert limited.json()["retry_after"] == 10
    stream = client.post("/api/ask/stream", json=ASK)
    assert stream.status_code == 429 and "retry-after" in stream.headers
    assert client.get("/api/health").status_code == 200  # only questions are limited


def test_forwarded_clients_get_their_own_buckets(tmp_path: Path, small_corpus: Path) -> None:
    client = _client(tmp_path, small_corpus, rate_burst=2, rate_per_minute=1,
                     trusted_proxies=["127.0.0.1"])
    reader = {"X-Forwarded-For": "198.51.100.7"}
    abuser = {"X-Forwarded-For": "203.0.113.9"}
    assert [client.post("/api/ask", json=ASK, headers=abuser).status_code
            for _ in range(4)] == [200, 200, 429, 429]
    assert client.post("/api/ask", json=ASK, headers=reader).status_code == 200


def test_untrusted_peers_cannot_dodge_the_limit_with_the_header(tmp_path: Path,
                                                                small_corpus: Path) -> None:
    client = _client(tmp_path, small_corpus, rate_burst=2, rate_per_minute=1)
    codes = [client.post("/api/ask", json=ASK,
                         headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]


def test_limits_can_be_turned_off(tmp_path: Path, small_corpus: Path) -> None:
    client = _client(tmp_path, small_corpus, rate_limit=False, rate_burst=1)
    assert {client.post("/api/ask", json=ASK).status_code for _ in range(5)} == {200}


def test_cors_headers_are_on_the_429(tmp_path: Path, small_corpus: Path) -> None:
    origin = "http://newsroom.example"
    client = _client(tmp_path, small_corpus, rate_burst=1, embed_origins=[origin])
    client.post("/api/ask", json=ASK, headers={"Origin": origin})
    limited = client.post("/api/ask", json=ASK, headers={"Origin": origin})
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == origin  # the widget can read it


def test_the_chat_shares_the_client_buckets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, serve=serve_groups(
        rate_burst=2, rate_per_minute=1, trusted_proxies=["127.0.0.1"]))
    limits = QuestionLimits(settings.serve, clock=Clock())
    request = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"),
                              headers={"x-forwarded-for": "198.51.100.3"})
    waits = [_limited(limits, request) for _ in range(3)]  # type: ignore[arg-type]
    assert waits == [0.0, 0.0, 60.0]
    assert limits.check("127.0.0.1", "198.51.100.3") > 0  # the API sees the same bucket
    assert limits.check("127.0.0.1", "198.51.100.4") == 0.0


def test_a_bad_trusted_proxy_is_a_settings_error(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'proxy.example' is not an address or network"):
        make_settings(tmp_path, serve={"limits": {"trusted_proxies": ["proxy.example"]}})
