"""Overload: more questions than slots get a 503 with a message, never a crash or hang."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.load_test import run
from rag import Pipeline

from .conftest import make_settings
from .fakes import FakeEmbedder
from devtools.web import serving


def in_thread(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on its own loop in a worker thread: Playwright's sync API keeps
    an event loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class SlowEmbedder(FakeEmbedder):
    """The fake embedder, taking 50 ms per call: questions hold their slot a while."""

    def embed(self, texts):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return super().embed(texts)


def test_overload_is_shed_with_503_and_the_server_keeps_answering(tmp_path: Path,
                                                                   small_corpus: Path) -> None:
    from ui.app import create_app

    # One address asks everything here: the per-client limit is not what is tested.
    settings = make_settings(tmp_path, serve={"api_max_inflight": 2, "api_wait_seconds": 0.05,
                                              "rate_limit": False})
    pipeline = Pipeline(settings, embedder=SlowEmbedder(name=settings.embedding.model))
    pipeline.ingest([small_corpus], progress=False)
    questions = ["How many mooring permits were approved?", "When will dredging begin?"]
    with serving(create_app(settings, pipeline)) as url:
        started = time.monotonic()
        result = in_thread(run(url, users=24, per_user=3, seconds=30, questions=questions))
        assert time.monotonic() - started < 30
        assert result["errors"] == 0 and result["shed_429_503"] > 0 and result["ok"] > 0
        calm = in_thread(run(url, users=1, per_user=2, seconds=10, questions=questions))
        assert calm["ok"] == 2
    assert threading.active_count() < 100
