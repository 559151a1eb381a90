"""`rag eval --export ragas FILE` writes what ragas loads and scores (fake embedder, fast).

ragas is imported only here, with its usage telemetry off and sockets blocked
(pytest-socket) while it runs: its non-LLM metrics need no model and no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.export import REFUSAL_REFERENCE
from rag import Pipeline, Settings
from cli.main import main

from .fakes import FakeEmbedder

ROWS = [
    {"id": "a1", "question": "How many mooring permits did the commission approve?",
     "answerable": True, "expect": ["42"], "evidence": "42 new mooring permits",
     "doc": "harbor"},
    {"id": "a2", "question": "When does the ferry terminal close?", "answerable": True,
     "expect": ["1 July 2027"], "evidence": "The ferry terminal closes on 1 July 2027.",
     "doc": "ferry"},
    {"id": "u1", "question": "What is the boiling point of mercury?", "answerable": False,
     "expect": [], "evidence": "", "doc": ""},
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import pytest_socket

    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "true")
    # ragas' own switch is cached on first read: make sure it reads "true".
    from ragas._analytics import do_not_track

    do_not_track.cache_clear()
    pytest_socket.disable_socket(allow_unix_socket=True)  # asyncio's self-pipe
    try:
        yield
    finally:
        pytest_socket.enable_socket()


@pytest.fixture
def exported(tmp_path: Path, small_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "nothing"))

    def factory(settings: Settings) -> Pipeline:
        return Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))

    # A one-sentence document: its passage is its evidence, word for word.
    (small_corpus / "ferry.txt").write_text(ROWS[1]["evidence"] + "\n", encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    assert main(["ingest", str(small_corpus)], make_pipeline=factory) == 0
    out = tmp_path / "export" / "ragas.jsonl"
    assert main(["eval", "--questions", str(questions), "--out", str(tmp_path / "out"),
                 "--export", "ragas", str(out)], make_pipeline=factory) == 0
    return out


def test_export_rows_carry_the_run(exported: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    results = [json.loads(line) for line in
               (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["user_input"] for r in rows] == [q["question"] for q in ROWS]
    assert [r["response"] for r in rows] == [r["answer"] for r in results]
    assert rows[0]["reference"] == "42 new mooring permits"
    assert rows[0]["reference_contexts"] == ["42 new mooring permits"]
    assert any("42 new mooring permits" in c for c in rows[0]["retrieved_contexts"])
    assert rows[2]["reference"] == REFUSAL_REFERENCE and rows[2]["reference_contexts"] == []
    assert rows[2]["response"].startswith(REFUSAL_REFERENCE)  # the pipeline refused


def test_ragas_loads_the_export_and_scores_it_without_an_llm(exported: Path,
                                                            no_network: None) -> None:
    from ragas import EvaluationDataset, evaluate
    from ragas.metrics import (
        ExactMatch,
        NonLLMContextPrecisionWithReference,
        NonLLMContextRecall,
        StringPresence,
    )

    dataset = EvaluationDataset.from_jsonl(exported)
    assert len(dataset) == 3
    first = dataset[0]
    assert first.user_input == ROWS[0]["question"] and first.retrieved_contexts
    answers = evaluate(dataset, metrics=[StringPresence(), ExactMatch()],
                       show_progress=False).to_pandas()
    # Each answer quotes its evidence and the unanswerable question is refused.
    assert answers["string_present"].tolist() == [1.0, 1.0, 1.0]
    assert answers["exact_match"].tolist() == [0.0, 0.0, 0.0]

    # Context metrics against the reference evidence: answerable rows only.
    answerable = EvaluationDataset(samples=[s for s in dataset if s.reference_contexts])
    contexts = evaluate(answerable, metrics=[NonLLMContextRecall(),
                                             NonLLMContextPrecisionWithReference()],
                        show_progress=False).to_pandas()
    assert len(contexts) == 2
    for name in ("non_llm_context_recall", "non_llm_context_precision_with_reference"):
        assert contexts[name].between(0.0, 1.0).all(), contexts[name]
    # ragas compares whole strings (Levenshtein): the short mooring evidence inside a
    # long passage is no match; the ferry passage, retrieved first, is its evidence.
    assert contexts["non_llm_context_recall"].tolist() == [0.0, 1.0]
    assert contexts["non_llm_context_precision_with_reference"].iloc[1] == pytest.approx(1.0)


def test_unknown_export_format_fails_before_the_run(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    code = main(["eval", "--questions", str(questions), "--export", "csv", str(tmp_path / "x")],
                make_pipeline=lambda s: Pipeline(s, embedder=FakeEmbedder(s.embedding.model)))
    assert code == 2
    assert "unknown export format 'csv'; the one offered is 'ragas'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
