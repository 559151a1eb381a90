"""The question sets themselves: well-formed, and every evidence span verbatim."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evals.questions import load_questions
from rag.ingest.load import load_document
from rag.ingest.manifest import load_manifest

from .conftest import PROJECT_CORPUS, ROOT

SETS = [ROOT / "evals" / "questions.jsonl", ROOT / "evals" / "holdout.jsonl",
        ROOT / "evals" / "fresh.jsonl", ROOT / "evals" / "unseen.jsonl",
        ROOT / "evals" / "unseen2.jsonl"]


@pytest.fixture(scope="module")
def documents(shared_corpus: Path) -> dict[str, str]:
    manifest = load_manifest(PROJECT_CORPUS / "sources.toml")
    files = [p for p in sorted(shared_corpus.iterdir()) if p.name != "SOURCES.md"]
    files += sorted(PROJECT_CORPUS.glob("*.txt"))
    return {d.doc_id: d.text for d in (load_document(p, manifest) for p in files)}


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_every_evidence_span_is_verbatim_in_its_document(path: Path,
                                                         documents: dict[str, str]) -> None:
    for q in load_questions(path):
        if q.answerable:
            assert q.doc in documents, q.id
            assert q.evidence in documents[q.doc], f"{q.id}: evidence not verbatim in {q.doc}"


def test_dev_set_has_the_mix_the_suite_promises() -> None:
    questions = load_questions(SETS[0])
    assert len(questions) >= 100
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) >= 25
    kinds = Counter(q.category for q in questions)
    for kind in ("paraphrase", "number", "date", "who", "near-duplicate", "two-document",
                 "on-topic", "off-topic", "injection"):
        assert kinds[kind] >= 3, kind


def test_loader_rejects_malformed_lines(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "question": "q?", "answerable": true, "expect": [], '
                   '"evidence": "", "doc": ""}\n')
    with pytest.raises(ValueError, match="q.jsonl:1: an answerable question needs"):
        load_questions(bad)
