"""Benchmark: `Pipeline.ask` latency over 20 questions, against the naive LangChain
retrieval (evals/baseline.py) run in the same process on the same index.

    RAG_DATA_DIR=data/eval .venv/bin/python benchmarks/ask_latency.py [QUESTIONS.jsonl]

Prints p50/p95 of timings_ms.total and retrieve, the baseline's, and their ratios.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from evals.baseline import NaiveBaseline
from evals.questions import load_questions
from rag import Pipeline, Settings


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/questions.jsonl")
    questions = [q.question for q in load_questions(path) if q.answerable][:20]
    pipeline = Pipeline(Settings(cache={"size": 0}))  # time the work, not a recall
    pipeline.ask(questions[0])  # warm-up: model and index load once
    baseline = NaiveBaseline(pipeline.embedder, list(pipeline.stored_documents().values()))
    baseline.retrieve(questions[0])
    total, retrieve, base = [], [], []
    for q in questions:
        t = pipeline.ask(q).timings_ms
        total.append(t["total"])
        retrieve.append(t["retrieve"])
        base.append(baseline.retrieve(q)[1])
    def p(xs: list[float], q: int) -> float:
        return float(np.percentile(xs, q))
    print(f"questions: {len(questions)}")
    print(f"ours total     p50 {statistics.median(total):7.1f} ms  p95 {p(total, 95):7.1f} ms")
    print(f"ours retrieve  p50 {p(retrieve, 50):7.1f} ms  p95 {p(retrieve, 95):7.1f} ms")
    print(f"naive retrieve p50 {p(base, 50):7.1f} ms  p95 {p(base, 95):7.1f} ms")
    print(f"ratio retrieve p50 {p(retrieve, 50) / p(base, 50):.2f}x  "
          f"p95 {p(retrieve, 95) / p(base, 95):.2f}x")
    started = time.perf_counter()
    for q in questions:
        pipeline.ask(q)
    print(f"throughput: {len(questions) / (time.perf_counter() - started):.1f} questions/s "
          "(one thread)")


if __name__ == "__main__":
    main()
