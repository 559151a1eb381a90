"""The scorer's synthetic training data: well-formed, verbatim, and apart from the eval sets."""

from __future__ import annotations

import json
from pathlib import Path

from evals.questions import load_questions
from evals.metrics import fold
from evals.train_scorer import load_synthetic
from rag.ingest.load import load_document
from rag.ingest.manifest import load_manifest

from .conftest import PROJECT_CORPUS, ROOT

SYNTH = ROOT / "evals" / "synth"


def test_every_answer_is_verbatim_in_its_evidence_and_document() -> None:
    manifest = load_manifest(PROJECT_CORPUS / "sources.toml")
    texts = {p.stem: fold(load_document(p, manifest).text)
             for p in sorted((SYNTH / "docs").glob("*.md"))}
    rows = load_synthetic(SYNTH)
    assert len(texts) >= 6 and len(rows) >= 250
    assert {r["doc"] for r in rows} <= set(texts)
    for r in rows:
        if r["answerable"]:
            assert fold(str(r["answer"])) in fold(str(r["evidence"])), r["question"]
            # The label is read off the normalized text the pipeline stores.
            assert fold(str(r["answer"])) in texts[str(r["doc"])], r["question"]
        else:
            assert not r["answer"] and not r["evidence"], r["question"]
    assert sum(not r["answerable"] for r in rows) >= 0.25 * len(rows)


def test_no_training_question_is_an_eval_question() -> None:
    train = {fold(str(r["question"])) for r in load_synthetic(SYNTH)}
    for name in ("questions", "holdout", "fresh", "unseen"):
        evals = {fold(q.question) for q in load_questions(ROOT / "evals" / f"{name}.jsonl")}
        assert not train & evals, name


def test_the_artefact_records_what_it_was_trained_and_calibrated_on() -> None:
    data = json.loads((ROOT / "rag" / "answer" / "answer_scorer.json").read_text())
    assert Path(data["trained_on"]["folder"]).name == "synth"
    assert Path(data["calibrated_on"]["file"]).name == "questions.jsonl"
