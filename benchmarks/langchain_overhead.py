"""Benchmark: what the LangChain wrappers add, against the pipeline calls they wrap,
run in the same process on the same index and questions (3 alternating rounds).

    RAG_DATA_DIR=data .venv/bin/python -m benchmarks.langchain_overhead [QUESTIONS.jsonl]

`NewsroomRetriever.invoke` vs `Pipeline.retrieve` (the wrapper also scores each
passage's best sentence, which embeds the question once more), and
`NewsroomQA.invoke` vs `Pipeline.ask`. Prints p50s and their ratios.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from evals.questions import load_questions
from rag import Pipeline, Settings
from rag.integrations.langchain import NewsroomQA, NewsroomRetriever


def _ms(call: Callable[[str], object], question: str) -> float:
    t0 = time.perf_counter()
    call(question)
    return (time.perf_counter() - t0) * 1000


def main(rounds: int = 3) -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/questions.jsonl")
    questions = [q.question for q in load_questions(path) if q.answerable][:20]
    pipeline = Pipeline(Settings())
    retriever, qa = NewsroomRetriever(pipeline=pipeline), NewsroomQA(pipeline)
    pairs = {"retrieve": (pipeline.retrieve, retriever.invoke), "ask": (pipeline.ask, qa.invoke)}
    for base, wrapped in pairs.values():  # warm-up: model, index, sentence-vector cache
        for q in questions:
            base(q)
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in pairs}
    # Whole passes, alternated over rounds so load from other processes hits both
    # sides alike; never the same question twice in a row (the pipeline keeps each
    # thread's last question vector, for the retriever's second step).
    for _ in range(rounds):
        for name, (base, wrapped) in pairs.items():
            times[name][0].extend(_ms(base, q) for q in questions)
            times[name][1].extend(_ms(wrapped, q) for q in questions)
    print(f"questions: {len(questions)}")
    for name, (base_ms, wrapped_ms) in times.items():
        b, w = statistics.median(base_ms), statistics.median(wrapped_ms)
        print(f"{name:9s} pipeline p50 {b:7.1f} ms  langchain p50 {w:7.1f} ms  ratio {w / b:.2f}")


if __name__ == "__main__":
    main()
