"""Benchmark: `POST /api/ask` over loopback for 50 questions, sequentially and with 4
clients at once, against `Pipeline.ask` called in the same process (the baseline:
what HTTP, JSON and the server add).

    RAG_DATA_DIR=data/eval .venv/bin/python -m benchmarks.api_latency [QUESTIONS.jsonl]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from evals.questions import load_questions
from rag import Pipeline, Settings
from devtools.web import serving
from ui.app import create_app


def _pct(xs: list[float]) -> str:
    return f"p50 {np.percentile(xs, 50):7.1f} ms  p95 {np.percentile(xs, 95):7.1f} ms"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/questions.jsonl")
    questions = [q.question for q in load_questions(path)][:50]
    # Every question computed (no answer cache) and no per-client limit: one client asks all.
    settings = Settings(cache={"size": 0}, serve={"limits": {"rate_limit": False}})
    pipeline = Pipeline(settings)
    pipeline.warm_up()
    direct = []
    for q in questions:
        t0 = time.perf_counter()
        pipeline.ask(q)
        direct.append((time.perf_counter() - t0) * 1000)
    with serving(create_app(settings, pipeline)) as url, httpx.Client(timeout=60) as client:
        def one(q: str) -> float:
            t0 = time.perf_counter()
            r = client.post(f"{url}/api/ask", json={"question": q})
            r.raise_for_status()
            return (time.perf_counter() - t0) * 1000
        one(questions[0])
        sequential = [one(q) for q in questions]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            parallel = list(pool.map(one, questions))
        wall = time.perf_counter() - t0
    print(f"questions: {len(questions)}")
    print(f"Pipeline.ask in process   {_pct(direct)}")
    print(f"/api/ask, one client      {_pct(sequential)}")
    print(f"/api/ask, 4 clients       {_pct(parallel)}  ({len(questions) / wall:.1f} q/s)")
    print(f"ratio /api/ask : in-process  p50 "
          f"{np.percentile(sequential, 50) / np.percentile(direct, 50):.2f}x  p95 "
          f"{np.percentile(sequential, 95) / np.percentile(direct, 95):.2f}x")


if __name__ == "__main__":
    main()
