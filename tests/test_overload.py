"""Overload: more questions than slots get a 503 with a message, never a crash or hang.

Deterministic on a loaded machine: the embedder holds every question at a gate, so
the test knows when all answering slots are busy instead of racing the clock.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from devtools.web import serving
from rag import Pipeline

from .conftest import make_settings, serve_groups
from .fakes import FakeEmbedder

QUESTIONS = ["How many mooring permits were approved?", "When will dredging begin?",
             "Who voted against the plan?"]


class GatedEmbedder(FakeEmbedder):
    """The fake embedder; once `armed`, each call waits at `gate` (and says it arrived)."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.armed = False
        self.gate = threading.Event()
        self.arrived = threading.Semaphore(0)

    def embed(self, texts):  # type: ignore[no-untyped-def]
        if self.armed:
            self.arrived.release()
            assert self.gate.wait(60), "the test never opened the gate"
        return super().embed(texts)


def test_overload_is_shed_with_503_and_the_server_keeps_answering(tmp_path: Path,
                                                                   small_corpus: Path) -> None:
    from ui.app import create_app

    # One address asks everything here: the per-client limit is not what is tested.
    settings = make_settings(tmp_path, serve=serve_groups(
        api_max_inflight=2, api_wait_seconds=0.05, rate_limit=False))
    embedder = GatedEmbedder(settings.embedding.model)
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([small_corpus], progress=False)
    pipeline.warm_up()
    with serving(create_app(settings, pipeline)) as url, ThreadPoolExecutor(2) as pool:
        def ask(question: str) -> httpx.Response:
            return httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)

        embedder.armed = True
        held = [pool.submit(ask, q) for q in QUESTIONS[:2]]
        for _ in held:  # both slots are provably taken: each question waits at the gate
            assert embedder.arrived.acquire(timeout=60)
        shed = ask(QUESTIONS[2])
        assert shed.status_code == 503 and "busy" in shed.json()["error"]
        embedder.armed = False
        embedder.gate.set()
        assert [f.result().status_code for f in held] == [200, 200]
        calm = [ask(q).status_code for q in QUESTIONS]
        assert calm == [200, 200, 200]  # the server keeps answering
    assert threading.active_count() < 100
