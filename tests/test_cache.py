"""The answer cache: a repeat is served from memory, a re-index invalidates it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rag import Pipeline
from rag.cache import AnswerCache, answer_key, normalize_question, settings_fingerprint
from rag.types import Answer

from .conftest import ANSWER_KEYS, make_settings
from .fakes import FakeEmbedder

QUESTION = "How many mooring permits were approved?"


def _pipeline(tmp: Path, corpus: Path, **overrides: object) -> tuple[Pipeline, FakeEmbedder]:
    settings = make_settings(tmp, **overrides)
    embedder = FakeEmbedder(name=settings.embedding.model)
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([corpus], progress=False)
    return pipeline, embedder


def test_a_repeat_is_a_hit_with_honest_timings(tmp_path: Path, small_corpus: Path) -> None:
    pipeline, embedder = _pipeline(tmp_path, small_corpus)
    first = pipeline.ask(QUESTION)
    calls = embedder.calls
    again = pipeline.ask("  how many MOORING permits were approved  ")
    assert not first.cached and again.cached
    assert embedder.calls == calls  # nothing was embedded: no retrieval ran
    assert again.citations == first.citations and again.answer == first.answer
    assert again.question == "how many MOORING permits were approved"
    assert set(again.timings_ms) == {"retrieve", "answer", "cache_lookup", "total"}
    assert again.timings_ms["total"] == again.timings_ms["cache_lookup"] > 0
    assert again.timings_ms["retrieve"] == 0.0
    assert again.original_timings_ms == first.timings_ms
    assert (pipeline.cache.hits, pipeline.cache.misses) == (1, 1)
    data = again.to_dict()
    assert set(data) == ANSWER_KEYS and data["cached"] is True
    assert first.to_dict()["cached"] is False


def test_a_reindex_invalidates(tmp_path: Path, small_corpus: Path) -> None:
    pipeline, _ = _pipeline(tmp_path, small_corpus)
    assert "42" in pipeline.ask(QUESTION).citations[0].quote
    assert pipeline.ask(QUESTION).cached
    (small_corpus / "harbor.txt").write_text(
        "The commission approved 77 new mooring permits for the north basin.\n")
    pipeline.ingest([small_corpus], progress=False)
    after = pipeline.ask(QUESTION)
    assert not after.cached and "77" in after.citations[0].quote
    assert pipeline.ask(QUESTION).cached


def test_evals_can_bypass_and_size_zero_turns_it_off(tmp_path: Path, small_corpus: Path) -> None:
    pipeline, _ = _pipeline(tmp_path / "a", small_corpus)
    pipeline.ask(QUESTION)
    assert not pipeline.ask(QUESTION, use_cache=False).cached
    off, _ = _pipeline(tmp_path / "b", small_corpus, cache={"size": 0})
    off.ask(QUESTION)
    assert not off.ask(QUESTION).cached and len(off.cache) == 0


def test_follow_ups_depend_on_the_history(tmp_path: Path, small_corpus: Path) -> None:
    pipeline, _ = _pipeline(tmp_path, small_corpus)
    about_dredging = [{"role": "user", "content": "When will dredging of the channel begin?"}]
    about_permits = [{"role": "user", "content": "Who approved the mooring permits?"}]
    one = pipeline.ask("and who voted against it?", about_dredging)
    two = pipeline.ask("and who voted against it?", about_permits)
    assert not two.cached and one.question != two.question
    assert pipeline.ask("and who voted against it?", about_dredging).question == one.question
    # A question that is not a follow-up does not depend on the history.
    pipeline.ask(QUESTION, about_dredging)
    assert pipeline.ask(QUESTION, about_permits).cached


def test_key_parts() -> None:
    base = answer_key(QUESTION, None, (0, 3), "f1")
    assert answer_key(QUESTION.upper(), [], (0, 3), "f1") == base
    assert answer_key(QUESTION, None, (0, 4), "f1") != base
    assert answer_key(QUESTION, None, (1, 3), "f1") != base
    assert answer_key(QUESTION, None, (0, 3), "f2") != base
    assert answer_key(QUESTION, None, (0, 3), "f1", kinds=["report"]) != base
    assert (answer_key(QUESTION, None, (0, 3), "f1", kinds=["news", "report"])
            == answer_key(QUESTION, None, (0, 3), "f1", kinds=["report", "news"]))
    assert answer_key(QUESTION, None, (0, 3), "f1", kinds=[]) != base
    assert normalize_question(" Who  drafted\tit?? ") == "who drafted it"


def test_settings_that_shape_answers_change_the_fingerprint(tmp_path: Path) -> None:
    base = settings_fingerprint(make_settings(tmp_path))
    assert settings_fingerprint(make_settings(tmp_path / "elsewhere")) == base
    assert settings_fingerprint(make_settings(tmp_path, serve={"port": 9})) == base
    assert settings_fingerprint(make_settings(tmp_path, answer={"max_quotes": 1})) != base
    assert settings_fingerprint(make_settings(tmp_path, retrieval={"top_k": 3})) != base
    assert settings_fingerprint(make_settings(tmp_path, llm={"max_tokens": 99})) != base
    assert settings_fingerprint(make_settings(tmp_path, chunking={"max_chars": 300})) != base


def test_lru_keeps_the_most_recently_used() -> None:
    cache = AnswerCache(2, wait_seconds=30)
    answers = {k: Answer(question=k, answer=k, refused=False, citations=(), timings_ms={})
               for k in "abc"}
    cache.put("a", "a", answers["a"])
    cache.put("b", "b", answers["b"])
    assert cache.get("a", "a") is not None  # a is now the most recent
    cache.put("c", "c", answers["c"])
    assert cache.get("b", "b") is None and cache.get("a", "a") is not None
    assert cache.get("c", "c") is not None and len(cache) == 2
    cache.sync((0, 1))
    cache.sync((0, 2))
    assert len(cache) == 0


class SlowEmbedder(FakeEmbedder):
    def embed(self, texts):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return super().embed(texts)


def test_concurrent_askers_of_one_question_share_one_computation(tmp_path: Path,
                                                                 small_corpus: Path) -> None:
    settings = make_settings(tmp_path)
    embedder = SlowEmbedder(name=settings.embedding.model)
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([small_corpus], progress=False)
    pipeline.warm_up()
    calls = embedder.calls
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: pipeline.ask(QUESTION), range(5)))
    assert embedder.calls == calls + 1  # the question was embedded once, not five times
    assert sorted(a.cached for a in answers) == [False, True, True, True, True]
    assert len({a.citations for a in answers}) == 1


def test_a_failed_computation_does_not_keep_others_waiting() -> None:
    cache = AnswerCache(4, wait_seconds=30)
    assert cache.lookup("k", "q") is None  # this caller computes
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(cache.lookup, "k", "q")
        time.sleep(0.1)
        cache.release("k")  # the computation failed: nothing was put
        assert waiting.result(timeout=5) is None
    assert time.monotonic() - started < 5
