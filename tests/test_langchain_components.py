"""rag.integrations.langchain on a small corpus with the deterministic fakes (fast)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda

from rag import Pipeline, QuestionError
from rag.integrations.langchain import NewsroomEmbeddings, NewsroomQA, NewsroomRetriever

from .conftest import ANSWER_KEYS, make_settings
from .fakes import FakeChat, FakeEmbedder

QUESTION = "How many mooring permits did the commission approve?"


@pytest.fixture
def pipeline(fake_pipeline: Pipeline, small_corpus: Path) -> Pipeline:
    fake_pipeline.ingest([small_corpus], progress=False)
    return fake_pipeline


def _without_timings(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer itself: not how long it took, nor whether a repeat came from the cache."""
    return {k: v for k, v in answer.items() if k not in ("timings_ms", "cached")}


def test_retriever_returns_passages_with_provenance(pipeline: Pipeline) -> None:
    docs = NewsroomRetriever(pipeline=pipeline).invoke(QUESTION)
    hits = pipeline.retrieve(QUESTION)
    assert [d.metadata["chunk_id"] for d in docs] == [h.chunk.chunk_id for h in hits]
    top = docs[0]
    meta = top.metadata
    stored = pipeline.document(meta["doc_id"])
    assert stored is not None
    assert stored.text[meta["start"]:meta["end"]] == top.page_content
    assert meta["doc_id"] == "harbor" and meta["title"] == stored.info.title
    assert {"publisher", "date", "url", "page", "kind", "rank"} <= set(meta)
    assert meta["page"] is None and meta["rank"] == 1
    # The best sentence is the one that answers, inside the passage.
    best = stored.text[meta["sentence_start"]:meta["sentence_end"]]
    assert "42 new mooring permits" in best and best in top.page_content


def test_k_in_constructor_and_at_invoke(pipeline: Pipeline) -> None:
    retriever = NewsroomRetriever(pipeline=pipeline, k=1)
    assert len(retriever.invoke(QUESTION)) == 1
    assert len(retriever.invoke(QUESTION, k=2)) == 2
    assert len(NewsroomRetriever(pipeline=pipeline).invoke(QUESTION, k=1)) == 1


@pytest.mark.parametrize("k", [0, 101, 2.5])
def test_bad_k_is_refused_with_a_message(pipeline: Pipeline, k: object) -> None:
    with pytest.raises(ValueError, match="k must be"):
        NewsroomRetriever(pipeline=pipeline).invoke(QUESTION, k=k)


def test_kinds_reach_the_pipeline_only_when_set(pipeline: Pipeline,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    real = pipeline.retrieve

    def spy(question: str, top_k: int | None = None, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(question, top_k)

    monkeypatch.setattr(pipeline, "retrieve", spy)
    NewsroomRetriever(pipeline=pipeline).invoke(QUESTION)
    NewsroomRetriever(pipeline=pipeline, kinds=["news"]).invoke(QUESTION)
    NewsroomRetriever(pipeline=pipeline).invoke(QUESTION, kinds=["report"])
    assert seen == [{}, {"kinds": ["news"]}, {"kinds": ["report"]}]


def _run(coro: Any) -> Any:
    """Run a coroutine on its own loop in a worker thread, whatever runs in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_async_retrieval_matches_sync(pipeline: Pipeline) -> None:
    retriever = NewsroomRetriever(pipeline=pipeline)
    sync = retriever.invoke(QUESTION, k=2)
    assert _run(retriever.ainvoke(QUESTION, k=2)) == sync


def test_retriever_inside_an_lcel_chain(pipeline: Pipeline) -> None:
    chain = NewsroomRetriever(pipeline=pipeline, k=1) | RunnableLambda(
        lambda docs: docs[0].metadata["doc_id"])
    assert chain.invoke(QUESTION) == "harbor"


def test_empty_question_is_a_question_error(pipeline: Pipeline) -> None:
    with pytest.raises(QuestionError):
        NewsroomRetriever(pipeline=pipeline).invoke("   ")


def test_qa_invoke_gives_the_ask_json(pipeline: Pipeline) -> None:
    qa = NewsroomQA(pipeline)
    assert isinstance(qa, NewsroomQA)
    out = qa.invoke(QUESTION)
    assert set(out) == ANSWER_KEYS
    assert _without_timings(out) == _without_timings(pipeline.ask(QUESTION).to_dict())
    assert "42 new mooring permits" in out["answer"]
    with_history = qa.invoke({"question": QUESTION, "history": []})
    assert _without_timings(with_history) == _without_timings(out)


def test_qa_history_rewrites_a_follow_up(pipeline: Pipeline) -> None:
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "42"}]
    out = NewsroomQA(pipeline).invoke({"question": "and who voted against it?",
                                       "history": history})
    assert _without_timings(out) == _without_timings(
        pipeline.ask("and who voted against it?", history).to_dict())


@pytest.mark.parametrize("bad", [{"history": []}, {"question": 3}, 42,
                                 {"question": "q", "history": "no"}])
def test_qa_bad_input_is_a_question_error(pipeline: Pipeline, bad: object) -> None:
    with pytest.raises(QuestionError):
        NewsroomQA(pipeline).invoke(bad)  # type: ignore[arg-type]


def test_qa_batch_answers_each_in_order(pipeline: Pipeline) -> None:
    questions = [QUESTION, "When will dredging of the channel begin?"]
    outs = NewsroomQA(pipeline).batch(questions)
    assert [o["question"] for o in outs] == questions
    assert "March 2027" in outs[1]["answer"]


def test_qa_extractive_stream_is_one_answer_chunk(pipeline: Pipeline) -> None:
    chunks = list(NewsroomQA(pipeline).stream(QUESTION))
    assert len(chunks) == 1 and set(chunks[0]) == ANSWER_KEYS


def test_qa_streams_tokens_then_the_answer_in_llm_mode(tmp_path: Path,
                                                       small_corpus: Path) -> None:
    # No answer cache: the async run below must generate again, not replay the answer.
    settings = make_settings(tmp_path, answer={"mode": "llm"}, cache={"size": 0})
    reply = "The commission approved 42 new mooring permits. [S1]\n"
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model),
                        backend=FakeChat({"mooring permits": reply}))
    pipeline.ingest([small_corpus], progress=False)
    qa = NewsroomQA(pipeline)
    chunks = list(qa.stream(QUESTION))
    tokens, last = chunks[:-1], chunks[-1]
    assert len(tokens) > 1 and all(set(c) == {"token"} for c in tokens)
    assert "".join(c["token"] for c in tokens) == reply
    assert set(last) == ANSWER_KEYS
    assert last["answer"] == "The commission approved 42 new mooring permits. [1]"
    # Added up, the chunks are the answer plus the draft, as LangChain merges dict chunks.
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total["token"] == reply and total["answer"] == last["answer"]

    async def collect() -> list[dict[str, Any]]:
        return [c async for c in qa.astream(QUESTION)]

    assert [set(c) for c in _run(collect())] == [set(c) for c in chunks]


def test_embeddings_share_the_pipeline_model(pipeline: Pipeline) -> None:
    embeddings = NewsroomEmbeddings.from_pipeline(pipeline)
    assert embeddings.embedder is pipeline.embedder
    vector = embeddings.embed_query("mooring permits")
    assert vector == pipeline.embedder.embed(["mooring permits"])[0].tolist()
    assert embeddings.embed_documents(["a", "b"]) == pipeline.embedder.embed(["a", "b"]).tolist()


def test_embeddings_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        NewsroomEmbeddings(batch_size=0)


def test_qa_publishes_its_input_and_output_schemas(pipeline: Pipeline) -> None:
    schema = NewsroomQA(pipeline).get_input_jsonschema()
    kinds = schema["anyOf"]
    assert {"type": "string"} in kinds
    typed = next(k for k in kinds if k.get("type") != "string")
    typed = schema.get("$defs", {}).get(typed.get("$ref", "").rsplit("/", 1)[-1], typed)
    assert typed["required"] == ["question"] and "history" in typed["properties"]
    assert NewsroomQA(pipeline).get_output_jsonschema()["type"] == "object"


def test_retriever_embeds_the_question_once(pipeline: Pipeline) -> None:
    retriever = NewsroomRetriever(pipeline=pipeline)
    retriever.invoke("warm up the index")
    before = pipeline.embedder.calls  # type: ignore[attr-defined]
    retriever.invoke(QUESTION)
    assert pipeline.embedder.calls == before + 1  # type: ignore[attr-defined]
