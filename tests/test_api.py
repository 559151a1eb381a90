"""The JSON API and the security headers, with the fake embedder (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Pipeline

from .conftest import make_settings
from .fakes import FakeEmbedder
from .conftest import ANSWER_KEYS

ALLOWED = "http://newsroom.example"


@pytest.fixture
def client(tmp_path: Path, small_corpus: Path) -> TestClient:
    from ui.app import create_app

    settings = make_settings(tmp_path, serve={"embed_origins": [ALLOWED]})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([small_corpus], progress=False)
    return TestClient(create_app(settings, pipeline))


def test_ask_returns_the_cli_json_shape(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "How many mooring permits were approved?"})
    assert r.status_code == 200
    data = r.json()
    assert set(data) == ANSWER_KEYS
    assert "42 new mooring permits" in data["citations"][0]["quote"]


def test_follow_up_uses_the_history(client: TestClient) -> None:
    history = [{"role": "user", "content": "When will dredging of the channel begin?"},
               {"role": "assistant", "content": "“Dredging of the channel will begin...” [1]"}]
    r = client.post("/api/ask", json={"question": "and who voted against it?",
                                      "history": history})
    assert r.status_code == 200
    assert r.json()["question"] == "Who voted against the channel?"


@pytest.mark.parametrize("question,fragment", [("", "empty"), ("x" * 1001, "limit is 1000")])
def test_unusable_question_is_a_400_with_a_message(client: TestClient, question: str,
                                                   fragment: str) -> None:
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 400 and fragment in r.json()["error"]


def test_malformed_body_is_a_4xx(client: TestClient) -> None:
    assert client.post("/api/ask", json={"q": "missing field"}).status_code == 422
    assert client.post("/api/ask", content=b"\xff\xfe", headers={
        "content-type": "application/json"}).status_code == 422


def test_health_and_sources(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["documents"] == 2 and health["chunks"] >= 2
    assert health["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    ids = [s["doc_id"] for s in client.get("/api/sources").json()]
    assert ids == ["harbor", "library"]


def test_feedback_is_appended_to_jsonl(client: TestClient, tmp_path: Path) -> None:
    body = {"rating": "down", "question": "q?", "answer": "a", "citations": [{"n": 1}]}
    assert client.post("/api/feedback", json=body).status_code == 200
    assert client.post("/api/feedback", json={**body, "rating": "meh"}).status_code == 422
    lines = (tmp_path / "data" / "feedback.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["rating"] == "down"


def test_cors_allows_only_the_configured_origins(client: TestClient) -> None:
    ok = client.options("/api/ask", headers={"Origin": ALLOWED,
                                             "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == ALLOWED
    bad = client.post("/api/ask", json={"question": "harbor?"},
                      headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_frame_ancestors_policy(client: TestClient) -> None:
    embed = client.get("/embed")
    assert embed.status_code == 200
    assert f"frame-ancestors 'self' {ALLOWED}" in embed.headers["content-security-policy"]
    assert "script-src 'self'" in embed.headers["content-security-policy"]
    chat = client.get("/")
    assert chat.headers["content-security-policy"] == "frame-ancestors 'self'"
    script = client.get("/embed.js")
    assert script.status_code == 200 and "iframe" in script.text


def test_stream_endpoint_sends_tokens_then_the_answer(tmp_path: Path, small_corpus: Path) -> None:
    from ui.app import create_app

    from .fakes import FakeChat

    settings = make_settings(tmp_path, answer={"mode": "llm"})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model),
                        backend=FakeChat({"mooring": "The commission approved 42 new mooring "
                                                     "permits. [S1]\n"}))
    pipeline.ingest([small_corpus], progress=False)
    client = TestClient(create_app(settings, pipeline))
    with client.stream("POST", "/api/ask/stream",
                       json={"question": "How many mooring permits were approved?"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = [block.split("\n", 1) for block in body.strip().split("\n\n")]
    kinds = [e[0].removeprefix("event: ") for e in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"} and len(kinds) > 2
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert final["answer"] == "The commission approved 42 new mooring permits. [1]"
    streamed = "".join(json.loads(e[1].removeprefix("data: "))["text"] for e in events[:-1])
    assert streamed.startswith("The commission approved")
    bad = client.post("/api/ask/stream", json={"question": " "})
    assert bad.status_code == 400 and "empty" in bad.json()["error"]
