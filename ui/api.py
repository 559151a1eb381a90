"""The JSON API: `/api/ask`, `/api/health`, `/api/sources`, `/api/feedback`.

It calls the same `Pipeline` as the chat and the CLI and returns the same object
as `rag ask --json`.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag import EmptyIndexError, Pipeline, QuestionError, RagError

from .feedback import FeedbackLog


class Turn(BaseModel):
    role: str = Field(max_length=20)
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    question: str = Field(max_length=100_000)
    history: list[Turn] = Field(default_factory=list, max_length=50)


class FeedbackRequest(BaseModel):
    rating: str = Field(pattern="^(up|down)$")
    question: str = Field(max_length=100_000)
    answer: str = Field(max_length=200_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def make_router(pipeline: Pipeline, feedback: FeedbackLog) -> APIRouter:
    router = APIRouter(prefix="/api")
    serve = pipeline.settings.serve
    slots = threading.BoundedSemaphore(serve.api_max_inflight)

    # Plain `def`: FastAPI runs these in its thread pool, the pipeline is thread-safe.
    @router.post("/ask")
    def ask(req: AskRequest) -> Any:
        if not slots.acquire(timeout=serve.api_wait_seconds):
            return _error(503, "busy: too many questions at once; retry in a few seconds")
        try:
            answer = pipeline.ask(req.question, [t.model_dump() for t in req.history])
        except QuestionError as exc:
            return _error(400, str(exc))
        except EmptyIndexError as exc:
            return _error(503, str(exc))
        except RagError as exc:
            return _error(500, str(exc))
        finally:
            slots.release()
        return answer.to_dict()

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
