"""`rag eval --mode llm` compares both modes on the same questions (fake models, fast)."""

from __future__ import annotations

import json
from pathlib import Path

from evals.runner import run_eval
from rag import Pipeline

from .conftest import make_settings
from .fakes import FakeChat, FakeEmbedder


def test_llm_mode_eval_reports_both_modes(tmp_path: Path, small_corpus: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a1", "question": "How many mooring permits did the commission approve?",
         "answerable": True, "expect": ["42"], "evidence": "42 new mooring permits",
         "doc": "harbor"},
        {"id": "u1", "question": "What is the boiling point of mercury?", "answerable": False,
         "expect": [], "evidence": "", "doc": ""},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    settings = make_settings(tmp_path)
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model),
                        backend=FakeChat({"mooring": "The commission approved 42 new "
                                                     "mooring permits. [S1]\n"}))
    pipeline.ingest([small_corpus], progress=False)
    summary = run_eval(pipeline, questions, tmp_path / "out", mode="llm", progress=False)
    assert summary["mode"] == "llm"
    assert set(summary["compare"]) == {"extractive", "llm"}
    assert summary["sentences_supported_share"] == 1.0
    assert summary["time_to_first_token_p50_ms"] > 0
    assert summary["answer_accuracy"] == 1.0 and summary["refusal_accuracy"] == 1.0
    assert "## Extractive vs llm mode" in (tmp_path / "out" / "report.md").read_text()
