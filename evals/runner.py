"""`rag eval`: run the shared Pipeline over a question set and write the reports."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag import Pipeline, QuestionError, Settings
from rag.answer.cite import quote_matches

from . import metrics as M
from .baseline import NaiveBaseline
from .export import check_format, write_export
from .questions import EvalQuestion, load_questions
from .report import write_report


@dataclass(frozen=True)
class Variant:
    """An ablation: settings overrides, and whether they need their own index."""

    name: str
    overrides: dict[str, dict[str, Any]]
    reindex: bool = False


ABLATIONS = [
    Variant("dense retrieval only", {"retrieval": {"lexical_weight": 0.0}}),
    Variant("BM25 retrieval only", {"retrieval": {"dense_weight": 0.0}}),
    Variant("no sentence reranking", {"rerank": {"enabled": False}}),
    Variant("no reranking, dense only", {"rerank": {"enabled": False},
                                         "retrieval": {"lexical_weight": 0.0}}),
    Variant("no reranking, BM25 only", {"rerank": {"enabled": False},
                                        "retrieval": {"dense_weight": 0.0}}),
    Variant("sentence score: lexical only", {"rerank": {"semantic_weight": 0.0}}),
    Variant("sentence score: embedding only", {"rerank": {"semantic_weight": 1.0}}),
    Variant("no answer-type bonus", {"rerank": {"type_bonus": 0.0}}),
    Variant("no injection guard", {"answer": {"injection_guard": False}}),
    Variant("no year matching", {"answer": {"match_years": False}}),
    Variant("title in chunk embedding", {"embedding": {"with_title": True}}, reindex=True),
    Variant("title in chunk embedding, no reranking",
            {"embedding": {"with_title": True}, "rerank": {"enabled": False}}, reindex=True),
    Variant("chunks of 400 chars", {"chunking": {"max_chars": 400}}, reindex=True),
    Variant("chunks of 1200 chars", {"chunking": {"max_chars": 1200}}, reindex=True),
]


def run_samples(pipeline: Pipeline, questions: list[EvalQuestion],
                progress: bool = True, desc: str = "eval") -> list[M.Sample]:
    """Ask every question through the pipeline; check each quote against a fresh
    read of the stored documents (not the copy the answerer used)."""
    docs = pipeline.stored_documents()
    samples = []
    for q in tqdm(questions, desc=desc, unit="q", disable=not progress):
        try:
            answer = pipeline.ask(q.question, use_cache=False)  # measure, never recall
        except QuestionError as exc:
            samples.append(M.Sample(q, {"question": q.question, "answer": str(exc),
                                        "refused": True, "status": "not_covered",
                                        "confidence": 0.0, "citations": [],
                                        "timings_ms": {}}, (), 0.0, 0.0))
            continue
        ok = tuple(quote_matches(docs.get(c.doc_id), c.start, c.end, c.quote)
                   for c in answer.citations)
        samples.append(M.Sample(q, answer.to_dict(), tuple(h.chunk.text for h in answer.hits),
                                answer.timings_ms["retrieve"], answer.timings_ms["total"],
                                answer.evidence_score, ok, answer.first_token_ms,
                                answer.sentences_generated, answer.sentences_supported))
    return samples


def run_baseline(pipeline: Pipeline, questions: list[EvalQuestion],
                 progress: bool = True) -> list[M.Sample]:
    baseline = NaiveBaseline(pipeline.embedder, list(pipeline.stored_documents().values()))
    samples = []
    for q in tqdm(questions, desc="baseline", unit="q", disable=not progress):
        passages, ms = baseline.retrieve(q.question)
        samples.append(M.Sample(q, {"refused": False, "answer": "", "citations": []},
                                tuple(passages), ms, ms))
    return samples


def _per_question(sample: M.Sample, doc_texts: dict[str, str]) -> dict[str, Any]:
    q = sample.question
    row = {"id": q.id, "category": q.category, "answerable": q.answerable, **sample.response}
    row["metrics"] = {
        "evidence_rank": M.evidence_rank(sample) if q.answerable else None,
        "answer_correct": M.answer_correct(sample) if q.answerable else None,
        "refused_correctly": (not q.answerable and sample.response["refused"]),
        "expected_shown": M.shows_expected(sample) if q.answerable else None,
        "quotes_verbatim": list(sample.quotes_ok),
        "citations_relevant": [M.citation_relevant(sample, c, doc_texts.get(c["doc_id"]))
                               for c in sample.response["citations"]] if q.answerable else [],
        "evidence_score": round(sample.evidence_score, 4),
    }
    if q.answerable and q.page is not None:
        row["metrics"]["answer_on_page"] = M.answer_on_page(sample, doc_texts.get(q.doc))
    return row


def _variant_settings(base: Settings, variant: Variant, tmp: Path) -> Settings:
    data = base.model_dump()
    for group, values in variant.overrides.items():
        data[group] = {**data[group], **values}
    if variant.reindex:
        data["data_dir"] = tmp / variant.name.replace(" ", "-")
    return Settings(**data)


def run_ablation(pipeline: Pipeline, questions: list[EvalQuestion],
                 progress: bool = True) -> list[dict[str, Any]]:
    """Each stage switched off (or changed) in turn, on the same questions."""
    paths = sorted({Path(d.info.path) for d in pipeline.stored_documents().values()
                    if d.info.path and Path(d.info.path).exists()})
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-ablation-") as tmp:
        for variant in ABLATIONS:
            settings = _variant_settings(pipeline.settings, variant, Path(tmp))
            other = pipeline.with_settings(settings)
            if variant.reindex:
                other.ingest(paths, progress=False)
            samples = run_samples(other, questions, progress, desc=variant.name)
            docs = {d: doc.text for d, doc in other.stored_documents().items()}
            rows.append({"variant": variant.name, **M.summarize(samples, docs)})
    return rows


def run_eval(pipeline: Pipeline, questions_path: Path, out_dir: Path, *,
             baseline: str | None = None, ablation: bool = False, mode: str | None = None,
             progress: bool = True, export: tuple[str, Path] | None = None) -> dict[str, Any]:
    """Run the eval, write results.jsonl, summary.json, report.md and plots; return the summary.

    With `mode="llm"` the questions run in llm mode and, for the comparison, in
    extractive mode too (same index, same embedder, same questions). `export`
    (format, file) also writes the run's samples in that format (see evals/export.py).
    """
    if export:
        check_format(export[0])  # before the run, not after it
    questions = load_questions(questions_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    compare: dict[str, Any] = {}
    if mode and mode != pipeline.settings.answer.mode:
        variant = Variant(mode, {"answer": {"mode": mode}})
        other = pipeline.with_settings(_variant_settings(pipeline.settings, variant, out_dir))
        if mode == "llm":
            docs = {d: doc.text for d, doc in pipeline.stored_documents().items()}
            compare["extractive"] = M.summarize(run_samples(pipeline, questions, progress,
                                                            "extractive"), docs)
        pipeline = other
    samples = run_samples(pipeline, questions, progress, desc=pipeline.settings.answer.mode)
    if export:
        write_export(export[0], samples, export[1])
    doc_texts = {d: doc.text for d, doc in pipeline.stored_documents().items()}
    summary: dict[str, Any] = M.summarize(samples, doc_texts)
    summary["questions"] = str(questions_path)
    summary["mode"] = pipeline.settings.answer.mode
    if compare:
        summary["compare"] = {**compare, pipeline.settings.answer.mode: {
            k: v for k, v in summary.items() if not isinstance(v, dict | str)}}
        if pipeline.settings.answer.mode == "llm":
            summary["llm_model"] = pipeline.settings.llm.model
    summary["settings"] = json.loads(pipeline.settings.model_dump_json())
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for sample in samples:
            fh.write(json.dumps(_per_question(sample, doc_texts), ensure_ascii=False) + "\n")
    base_samples = None
    if baseline:
        if baseline != "naive":
            raise ValueError(f"unknown baseline {baseline!r}; the one offered is 'naive'")
        base_samples = run_baseline(pipeline, questions, progress)
        summary["baseline"] = {"name": "naive", **M.retrieval_summary(base_samples)}
        summary["ratios"] = {
            "recall_at_5_points": round(100 * (summary["retrieval_recall_at_5"]
                                               - summary["baseline"]["retrieval_recall_at_5"]), 1),
            "retrieval_p95_ratio": round(summary["retrieval_latency_p95_ms"]
                                         / summary["baseline"]["retrieval_latency_p95_ms"], 2),
            "retrieval_p50_ratio": round(summary["retrieval_latency_p50_ms"]
                                         / summary["baseline"]["retrieval_latency_p50_ms"], 2),
        }
    if ablation:
        summary["ablation"] = run_ablation(pipeline, questions, progress)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    write_report(out_dir, samples, summary, base_samples)
    return summary
