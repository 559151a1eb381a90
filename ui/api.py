"""The JSON API: `/api/ask`, `/api/health`, `/api/sources`, `/api/feedback`.

It calls the same `Pipeline` as the chat and the CLI and returns the same object
as `rag ask --json`.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from rag import Answer, Pipeline, RagError, Token

from .cite_text import draft_payload
from .errors import http_status
from .feedback import FeedbackLog


class Turn(BaseModel):
    role: str = Field(max_length=20)
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    question: str = Field(max_length=100_000)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    kinds: list[Annotated[str, Field(max_length=40)]] | None = Field(
        None, max_length=10, description="search only documents of these kinds, e.g. "
        '["report"]; absent or empty: all')
    draft: bool = Field(False, description="also return `draft`: the strings the widget "
                        "shows and copies (grouped sources, a line per quote, Markdown)")


class FeedbackRequest(BaseModel):
    rating: str = Field(pattern="^(up|down)$")
    question: str = Field(max_length=100_000)
    answer: str = Field(max_length=200_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _answer_json(answer: Answer, draft: bool) -> dict[str, Any]:
    """The `rag ask --json` object, plus `draft` when the caller asked for it."""
    return {**answer.to_dict(), "draft": draft_payload(answer)} if draft else answer.to_dict()


def make_router(pipeline: Pipeline, feedback: FeedbackLog) -> APIRouter:
    router = APIRouter(prefix="/api")
    limits = pipeline.settings.serve.limits
    slots = threading.BoundedSemaphore(limits.api_max_inflight)

    # Plain `def`: FastAPI runs these in its thread pool, the pipeline is thread-safe.
    @router.post("/ask")
    def ask(req: AskRequest, request: Request) -> Any:
        if not slots.acquire(timeout=limits.api_wait_seconds):
            return _error(503, "busy: too many questions at once; retry in a few seconds")
        try:
            answer = pipeline.ask(req.question, [t.model_dump() for t in req.history],
                                  req.kinds)
        except RagError as exc:
            return _error(http_status(exc), str(exc))
        finally:
            slots.release()
        request.state.answer = answer  # for the metrics and the access log
        return _answer_json(answer, req.draft)

    @router.post("/ask/stream")
    def ask_stream(req: AskRequest, request: Request) -> Any:
        """Server-sent events: `token` events with generated text (llm mode), then
        one `answer` event holding the same object as /api/ask (or an `error`)."""
        if not slots.acquire(timeout=limits.api_wait_seconds):
            return _error(503, "busy: too many questions at once; retry in a few seconds")
        history = [t.model_dump() for t in req.history]
        try:
            events = pipeline.ask_stream(req.question, history, req.kinds)
            first = next(events)  # surface a bad question as a plain 400, before streaming
        except RagError as exc:
            slots.release()
            return _error(http_status(exc), str(exc))

        def sse() -> Iterator[str]:
            try:
                for event in itertools.chain([first], events):
                    if isinstance(event, Token):
                        yield _sse("token", {"text": event.text})
                    else:
                        request.state.answer = event  # for the metrics and the access log
                        yield _sse("answer", _answer_json(event, req.draft))
            except RagError as exc:
                yield _sse("error", {"error": str(exc)})
            finally:
                slots.release()
        return StreamingResponse(sse(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **pipeline.stats()}

    @router.get("/sources")
    def sources() -> list[dict[str, Any]]:
        return [vars(s) for s in pipeline.sources()]

    @router.post("/feedback")
    def give_feedback(req: FeedbackRequest) -> dict[str, str]:
        feedback.append(req.rating, req.question, req.answer, req.citations)
        return {"status": "recorded"}

    return router
