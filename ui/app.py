"""The one ASGI app behind `rag serve`: JSON API, embeddable widget, Gradio chat.

Security: the origins allowed to embed the widget (`RAG_SERVE__EMBED_ORIGINS`) are
enforced twice, by CORS on the API and by a `frame-ancestors` Content-Security-Policy
on the pages; every other origin is refused.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import gradio as gr
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from rag import Pipeline, RagError, Settings

from .api import make_router
from .chat import CSS, build_chat
from .embed import make_embed_router
from .errors import error_response
from .feedback import FeedbackLog
from .limits import QuestionLimits, RateLimitMiddleware
from .metrics import CONTENT_TYPE, AppMetrics, MetricsMiddleware
from .sources import CSP as SOURCES_CSP
from .sources import mount_sources


def _security_headers(origins: list[str]) -> Callable[..., Awaitable[Response]]:
    ancestors = " ".join(["'self'", *origins])

    async def add_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                          ) -> Response:
        response = await call_next(request)
        path = request.url.path
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if path == "/embed":
            # The widget page: only our own scripts, framed only by allowed origins.
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                f"img-src 'self' data:; connect-src 'self'; frame-ancestors {ancestors}")
        elif path == "/sources":
            response.headers["Content-Security-Policy"] = SOURCES_CSP
        elif path not in ("/embed.js", "/embed-app.js") and not path.startswith("/api/"):
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response
    return add_headers


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """A 422 naming the fields at fault, without echoing the input back (FastAPI's
    default echoes it, and fails on values JSON cannot hold, such as Infinity)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    where = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) or "body" for e in errors})
    return JSONResponse({"error": "invalid request: check " + ", ".join(where or ["body"])},
                        status_code=422)


def theme() -> gr.themes.Base:
    """The default look with system fonts, so nothing is fetched from a font CDN."""
    return gr.themes.Default(font=["system-ui", "-apple-system", "Segoe UI", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def create_app(settings: Settings, pipeline: Pipeline | None = None,
               limits: QuestionLimits | None = None) -> FastAPI:
    """Build the app; `pipeline` may be injected (tests), else one is made from settings."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before Gradio can phone home
    pipeline = pipeline or Pipeline(settings)
    feedback = FeedbackLog(settings.feedback_path)
    app = FastAPI(title="Newsroom RAG", docs_url="/api/docs", openapi_url="/api/openapi.json",
                  redoc_url=None)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(RagError, error_response)  # what a route raises (the desk's)
    limits = limits or QuestionLimits(settings.serve)  # tests inject one with their clock
    metrics = AppMetrics(pipeline, settings)
    app.add_middleware(CORSMiddleware, allow_origins=settings.serve.embed_origins,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type"])
    app.middleware("http")(_security_headers(settings.serve.embed_origins))
    # Added last, run first: the metrics see every response; a 429 costs as little as
    # possible (it sets its own CORS and nosniff headers, so nothing else runs).
    app.add_middleware(RateLimitMiddleware, limits=limits, origins=settings.serve.embed_origins)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_api_route("/metrics", lambda: Response(metrics.exposition(), media_type=CONTENT_TYPE),
                      methods=["GET"], include_in_schema=False)
    app.include_router(make_router(pipeline, feedback))
    app.include_router(make_embed_router(settings.max_question_chars))
    mount_sources(app, pipeline)  # the sources desk: /sources and /api/sources/...
    blocks = build_chat(pipeline, feedback, limits, metrics)
    return gr.mount_gradio_app(app, blocks, path="/", theme=theme(), css=CSS, ssr_mode=False,
                               footer_links=[], show_error=True,
                               head='<script src="/copy.js" defer></script>')
