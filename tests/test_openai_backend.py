"""The OpenAI-compatible backend against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag import ConfigError, Pipeline

from .conftest import make_settings
from .fakes import FakeEmbedder
from devtools.web import free_port, serving

REPLY = "The commission approved 42 new mooring permits. [S1]\n"


def fake_openai(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Any:
        body = await request.json()
        seen.append({"body": body, "auth": request.headers.get("authorization")})
        if body.get("model") != "newsroom-model":
            return JSONResponse({"error": {"message": "model not found"}}, status_code=404)
        if not body.get("stream"):
            return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": REPLY}}]}

        def chunks():  # type: ignore[no-untyped-def]
            for i in range(0, len(REPLY), 9):
                data = {"id": "x", "object": "chat.completion.chunk", "created": 0,
                        "model": "m", "choices": [{"index": 0, "finish_reason": None,
                                                   "delta": {"content": REPLY[i:i + 9]}}]}
                yield f"data: {json.dumps(data)}\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(chunks(), media_type="text/event-stream")
    return app


def openai_pipeline(tmp_path: Path, corpus: Path, url: str, model: str = "newsroom-model"
                    ) -> Pipeline:
    settings = make_settings(tmp_path, answer={"mode": "llm"},
                             llm={"backend": "openai", "base_url": url, "model": model,
                                  "api_key": "sk-test", "timeout_seconds": 5})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([corpus], progress=False)
    return pipeline


def test_answers_through_an_openai_compatible_server(tmp_path: Path, small_corpus: Path) -> None:
    seen: list[dict[str, Any]] = []
    with serving(fake_openai(seen)) as base:
        pipeline = openai_pipeline(tmp_path, small_corpus, f"{base}/v1")
        answer = pipeline.ask("How many mooring permits did the commission approve?")
    assert answer.answer == "The commission approved 42 new mooring permits. [1]"
    assert "42 new mooring permits" in answer.citations[0].quote
    request = seen[-1]
    assert request["auth"] == "Bearer sk-test" and request["body"]["stream"] is True
    assert request["body"]["messages"][0]["role"] == "system"
    assert "S1:" in request["body"]["messages"][-1]["content"]


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path, small_corpus: Path) -> None:
    port = free_port()  # nothing listens there
    pipeline = openai_pipeline(tmp_path, small_corpus, f"http://127.0.0.1:{port}/v1")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="cannot reach the LLM endpoint"):
        pipeline.ask("How many mooring permits did the commission approve?")
    assert time.monotonic() - started < 30


def test_endpoint_error_names_the_status(tmp_path: Path, small_corpus: Path) -> None:
    with serving(fake_openai([])) as base:
        pipeline = openai_pipeline(tmp_path, small_corpus, f"{base}/v1", model="other")
        with pytest.raises(ConfigError, match="answered 404"):
            pipeline.ask("How many mooring permits did the commission approve?")


def test_missing_settings_are_clear_errors(tmp_path: Path, small_corpus: Path) -> None:
    settings = make_settings(tmp_path, answer={"mode": "llm"}, llm={"backend": "openai"})
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([small_corpus], progress=False)
    with pytest.raises(ConfigError, match="RAG_LLM__BASE_URL"):
        pipeline.ask("harbor?")
    missing = make_settings(tmp_path / "m", answer={"mode": "llm"},
                            llm={"model": str(tmp_path / "nope.gguf")})
    other = Pipeline(missing, embedder=FakeEmbedder(name=missing.embedding.model))
    other.ingest([small_corpus], progress=False)
    with pytest.raises(ConfigError, match="nope.gguf not found"):
        other.ask("harbor?")
