"""Benchmark: answer latency with the reader, its variants, and the baselines, all in
the same process on the same index.

    RAG_DATA_DIR=data/eval .venv/bin/python -m benchmarks.reader_latency [QUESTIONS.jsonl]

Variants: the reader as shipped (int8 dynamic quantization, shortlist 6), the
reader in fp32, the reader with shortlists of 4 and 10, the previous learned scorer
(no reader), and the naive LangChain retrieval recipe (evals/baseline.py). Prints
p50/p95 of `timings_ms.total` per variant and each one's ratio to the previous
scorer and to the naive retrieval; run order a b … b a so drift shows.

Then the reader alone on the same shortlists, by backend: torch fp32, torch int8
(dynamic quantization, shipped) and ONNX Runtime fp32 (the model exported to a
temporary file), as ratios to torch fp32.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from evals.baseline import NaiveBaseline
from evals.questions import load_questions
from rag import Pipeline, Settings
from rag.answer.reader import Reader
from rag.answer.scorer import LearnedScorer


def _settings(**answer: object) -> Settings:
    base = Settings(cache={"size": 0})  # type: ignore[arg-type]  # time the work, not a recall
    return base.model_copy(update={"answer": base.answer.model_copy(update=answer)})


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/questions.jsonl")
    questions = [q.question for q in load_questions(path)][:60]
    started = time.perf_counter()
    cold = Pipeline(_settings())
    cold.ask(questions[0])
    print(f"cold first answer (index, MiniLM and reader load): "
          f"{time.perf_counter() - started:.2f} s")
    variants = {
        "reader int8, shortlist 6 (shipped)": cold,
        "reader fp32, shortlist 6": Pipeline(_settings(), embedder=cold.embedder,
                                              reader=Reader(quantize=False)),
        "reader int8, shortlist 4": cold.with_settings(_settings(reader_shortlist=4)),
        "reader int8, shortlist 10": cold.with_settings(_settings(reader_shortlist=10)),
        "previous scorer (no reader)": cold.with_settings(_settings(judge="scorer")),
    }
    for p in variants.values():
        p.ask(questions[0])  # warm-up
    baseline = NaiveBaseline(cold.embedder, list(cold.stored_documents().values()))
    times: dict[str, list[float]] = {name: [] for name in variants}
    times["naive retrieval"] = []
    order = list(variants) + list(reversed(variants))  # a b … b a
    for name in order:
        for q in questions:
            times[name].append(variants[name].ask(q).timings_ms["total"])
    for _ in range(2):
        for q in questions:
            times["naive retrieval"].append(baseline.retrieve(q)[1])

    def p(xs: list[float], q: int) -> float:
        return float(np.percentile(xs, q))

    ref, naive = times["previous scorer (no reader)"], times["naive retrieval"]
    print(f"{len(questions)} questions x 2 runs per variant")
    print(f"{'variant':40} {'p50 ms':>8} {'p95 ms':>8} {'p95 / scorer':>13} {'p95 / naive':>12}")
    for name, xs in times.items():
        print(f"{name:40} {p(xs, 50):8.1f} {p(xs, 95):8.1f} {p(xs, 95) / p(ref, 95):12.2f}x "
              f"{p(xs, 95) / p(naive, 95):11.2f}x")
    backends(cold, questions)


def backends(pipeline: Pipeline, questions: list[str]) -> None:
    """The reader alone, per backend, on the shortlists the pipeline gives it."""
    import tempfile

    import torch

    try:  # onnx (the exporter) is not a project dependency: the ONNX row needs it
        import onnx  # noqa: F401
        import onnxruntime as ort
    except ImportError as exc:
        print(f"reader alone by backend: skipped ({exc}; `pip install onnx` to measure)")
        return

    from rag.answer.reader import MAX_LENGTH

    # The shortlisted windows as printed (lead … quote): the reader's input but for
    # the joining mark, which does not change the timing.
    scorer = LearnedScorer.from_settings(pipeline.settings.answer)
    shortlists = [(q, [s.quote.printed for s in pipeline.evidence(q, scorer, read=True).windows])
                  for q in questions]
    fp32, int8 = Reader(quantize=False), Reader()
    int8.logits("warm", ["up"])
    model, tok = fp32.load()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = f"{tmp}/reader.onnx"
        enc = tok(["q"], ["a window"], return_tensors="pt")
        torch.onnx.export(model, (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]),
                          onnx_path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logits"], dynamo=False,
                          dynamic_axes={k: {0: "b", 1: "t"} for k in
                                        ("input_ids", "attention_mask", "token_type_ids")})
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])

        def onnx_logits(question: str, texts: list[str]) -> np.ndarray:
            e = tok([question] * len(texts), texts, truncation="only_second",
                    max_length=MAX_LENGTH, padding=True, return_tensors="np")
            return session.run(None, {k: e[k].astype(np.int64) for k in
                                      ("input_ids", "attention_mask", "token_type_ids")})[0]

        runs = {"torch fp32": fp32.logits, "torch int8 (shipped)": int8.logits,
                "onnxruntime fp32": onnx_logits}
        times: dict[str, list[float]] = {k: [] for k in runs}
        for name in list(runs) + list(reversed(runs)):
            for q, texts in shortlists:
                t = time.perf_counter()
                runs[name](q, texts)
                times[name].append(1000 * (time.perf_counter() - t))
    base = float(np.percentile(times["torch fp32"], 95))
    n = sum(len(t) for _, t in shortlists) / len(shortlists)
    print(f"reader alone, {len(shortlists)} shortlists of {n:.1f} windows on average")
    for name, xs in times.items():
        p95 = float(np.percentile(xs, 95))
        print(f"{name:24} p50 {np.percentile(xs, 50):7.1f} ms  p95 {p95:7.1f} ms  "
              f"p95 / torch fp32 {p95 / base:.2f}x")


if __name__ == "__main__":
    main()
