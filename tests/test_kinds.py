"""Asking within one kind of source: the kind is stored with every chunk, and both the
dense side (a Chroma `where` filter) and the BM25 side keep only the chosen kinds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from rag import Pipeline, QuestionError
from rag.index.lexical import LexicalIndex
from rag.retrieve.hybrid import HybridRetriever

from .conftest import SHARED_CORPUS, make_settings
from .fakes import FakeEmbedder

# The same question has a different answer in each document, so an answer shows
# which kind it was taken from.
DOCS = {
    "audit-report.md": ("report", "The audit report found that the harbor commission issued "
                        "42 mooring permits for the north basin in 2026."),
    "harbor-story.md": ("news", "Our reporters learned that the harbor commission issued "
                        "57 mooring permits for the north basin in 2026, more than planned."),
    "dredging-order.md": ("executive-order", "It is hereby ordered that dredging of the "
                          "channel begin in March 2027."),
}
QUESTION = "How many mooring permits did the harbor commission issue for the north basin?"


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (kind, text) in DOCS.items():
        (folder / name).write_text(f"---\ntitle: {name[:-3]}\nkind: {kind}\n---\n{text}\n",
                                   encoding="utf-8")
    return folder


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    settings = make_settings(tmp_path, corpus_dir=tmp_path / "nothing")
    p = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    p.ingest([write_docs(tmp_path / "docs")], progress=False)
    return p


def test_every_chunk_carries_its_documents_kind(pipeline: Pipeline) -> None:
    chunk_col, _ = pipeline.store._require()
    got = chunk_col.get(include=["metadatas"])
    kinds = {m["doc_id"]: m["kind"] for m in got["metadatas"]}
    assert kinds == {"audit-report": "report", "harbor-story": "news",
                     "dredging-order": "executive-order"}
    assert pipeline.kinds() == ["executive-order", "news", "report"]


@pytest.mark.parametrize("kind,doc_id,number", [("report", "audit-report", "42"),
                                                ("news", "harbor-story", "57")])
def test_answer_comes_only_from_the_chosen_kind(pipeline: Pipeline, kind: str, doc_id: str,
                                                number: str) -> None:
    answer = pipeline.ask(QUESTION, kinds=[kind])
    assert not answer.refused and answer.citations
    assert {c.doc_id for c in answer.citations} == {doc_id}
    assert number in answer.citations[0].quote
    assert {h.chunk.doc_id for h in pipeline.retrieve(QUESTION, kinds=[kind])} == {doc_id}


def test_no_kinds_or_several_kinds_search_those(pipeline: Pipeline) -> None:
    everything = {h.chunk.doc_id for h in pipeline.retrieve(QUESTION)}
    assert {"audit-report", "harbor-story"} <= everything
    both = {h.chunk.doc_id for h in pipeline.retrieve(QUESTION, kinds=["news", "report"])}
    assert both == {"audit-report", "harbor-story"}
    assert {h.chunk.doc_id for h in pipeline.retrieve(QUESTION, kinds=[])} == everything


def test_each_side_filters_on_its_own(pipeline: Pipeline) -> None:
    """Dense (Chroma `where`) and BM25 (row mask) each keep only the chosen kind."""
    vector = pipeline.embedder.embed([QUESTION])[0]
    dense = pipeline.store.dense_search(vector, 10, ["news"])
    assert dense and all(cid.startswith("harbor-story") for cid, _ in dense)
    retriever = HybridRetriever.build(pipeline.store, pipeline.settings.retrieval,
                                      pipeline.stored_documents())
    lexical = retriever.search(QUESTION, vector, kinds=["executive-order"])
    assert {h.chunk.doc_id for h in lexical} <= {"dredging-order"}
    index = LexicalIndex(["mooring permits here", "mooring permits there", "dredging"])
    assert [r for r, _ in index.search("mooring permits", 5)] != []
    only = index.search("mooring permits", 5, np.array([False, True, True]))
    assert [r for r, _ in only] == [1]


def test_unknown_kind_is_a_question_error_naming_the_known_kinds(pipeline: Pipeline) -> None:
    with pytest.raises(QuestionError) as err:
        pipeline.ask(QUESTION, kinds=["report", "blog"])
    assert "'blog'" in str(err.value)
    assert "executive-order, news, report" in str(err.value)
    with pytest.raises(QuestionError):
        pipeline.retrieve(QUESTION, kinds=["blog"])


def test_api_filters_by_kind_and_refuses_unknown_kinds(pipeline: Pipeline) -> None:
    from ui.app import create_app

    client = TestClient(create_app(pipeline.settings, pipeline))
    r = client.post("/api/ask", json={"question": QUESTION, "kinds": ["news"]})
    assert r.status_code == 200
    assert {c["doc_id"] for c in r.json()["citations"]} == {"harbor-story"}
    for path in ("/api/ask", "/api/ask/stream"):
        r = client.post(path, json={"question": QUESTION, "kinds": ["blog"]})
        assert r.status_code == 400, path
        assert "'blog'" in r.json()["error"] and "report" in r.json()["error"]
    with client.stream("POST", "/api/ask/stream",
                       json={"question": QUESTION, "kinds": ["report"]}) as r:
        body = "".join(r.iter_text())
    answer = json.loads(body.split("event: answer\ndata: ")[1].split("\n")[0])
    assert {c["doc_id"] for c in answer["citations"]} == {"audit-report"}


def test_cli_kind_option_is_repeatable_and_unknown_is_exit_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "nothing"))

    def run(*argv: str) -> int:
        return main(list(argv), make_pipeline=lambda s: Pipeline(
            s, embedder=FakeEmbedder(name=s.embedding.model)))

    assert run("ingest", str(write_docs(tmp_path / "docs"))) == 0
    capsys.readouterr()
    assert run("ask", QUESTION, "--json", "--kind", "news") == 0
    cited = {c["doc_id"] for c in json.loads(capsys.readouterr().out)["citations"]}
    assert cited == {"harbor-story"}
    assert run("ask", QUESTION, "--json", "--kind", "news", "--kind", "report") == 0
    cited = {c["doc_id"] for c in json.loads(capsys.readouterr().out)["citations"]}
    assert cited <= {"harbor-story", "audit-report"}
    assert run("ask", QUESTION, "--kind", "blog") == 3
    assert "the index holds: executive-order, news, report" in capsys.readouterr().err


@pytest.mark.real_model
def test_real_model_answers_from_the_chosen_kind_only(tmp_path: Path, embedder) -> None:
    """Over the shared corpus: a question the fact sheet answers best unrestricted is
    answered from the executive orders, or the news article, when only they are chosen."""
    pipeline = Pipeline(make_settings(tmp_path), embedder=embedder)
    pipeline.ingest([SHARED_CORPUS], progress=False)
    docs = pipeline.stored_documents()
    question = "What did the president do about families that remain separated?"

    def kinds_cited(kinds: list[str] | None) -> list[str]:
        answer = pipeline.ask(question, kinds=kinds)
        assert not answer.refused, kinds
        return [docs[c.doc_id].info.kind for c in answer.citations]

    assert kinds_cited(None)[0] == "fact-sheet"
    assert set(kinds_cited(["executive-order"])) == {"executive-order"}
    assert set(kinds_cited(["news"])) == {"news"}
    hits = pipeline.retrieve(question, kinds=["news", "executive-order"])
    assert hits and {docs[h.chunk.doc_id].info.kind for h in hits} == {"news", "executive-order"}
