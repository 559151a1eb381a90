from __future__ import annotations

from pathlib import Path

import pytest

from rag import IndexMismatchError, Pipeline
from rag.errors import EmptyIndexError

from .conftest import make_settings
from .fakes import FakeEmbedder


def test_reingest_of_unchanged_files_adds_nothing(fake_pipeline: Pipeline, small_corpus: Path) -> None:
    first = fake_pipeline.ingest([small_corpus], progress=False)
    assert sorted(first.added) == ["harbor", "library"] and not first.failed
    counts = fake_pipeline.store.counts()
    embedded = fake_pipeline.embedder.texts_embedded  # type: ignore[attr-defined]
    again = fake_pipeline.ingest([small_corpus], progress=False)
    assert again.added == [] and again.updated == [] and sorted(again.unchanged) == ["harbor", "library"]
    assert fake_pipeline.store.counts() == counts
    assert fake_pipeline.embedder.texts_embedded == embedded  # type: ignore[attr-defined]


def test_changed_file_replaces_its_old_chunks(fake_pipeline: Pipeline, small_corpus: Path) -> None:
    fake_pipeline.ingest([small_corpus], progress=False)
    (small_corpus / "harbor.txt").write_text("The harbor is closed for the winter season.\n")
    report = fake_pipeline.ingest([small_corpus], progress=False)
    assert report.updated == ["harbor"]
    harbor = [c for c in fake_pipeline.store.chunks() if c.doc_id == "harbor"]
    assert [c.text for c in harbor] == ["The harbor is closed for the winter season."]
    answer = fake_pipeline.ask("Is the harbor closed for the winter?")
    assert not answer.refused
    assert "mooring" not in " ".join(c.quote for c in answer.citations)


def test_bad_files_are_reported_and_the_rest_ingested(fake_pipeline: Pipeline, small_corpus: Path) -> None:
    (small_corpus / "empty.txt").write_text("")
    (small_corpus / "slides.pptx").write_bytes(b"PK")
    report = fake_pipeline.ingest([small_corpus, small_corpus / "missing.txt"], progress=False)
    assert sorted(report.added) == ["harbor", "library"]
    failed = sorted(Path(e.path).name for e in report.failed)
    assert failed == ["empty.txt", "missing.txt", "slides.pptx"]


def test_other_embedding_model_is_a_clear_mismatch(tmp_path: Path, small_corpus: Path) -> None:
    Pipeline(make_settings(tmp_path), embedder=FakeEmbedder()).ingest([small_corpus], progress=False)
    other = make_settings(tmp_path, embedding={"model": "some/other-model"})
    pipeline = Pipeline(other, embedder=FakeEmbedder(name="some/other-model"))
    with pytest.raises(IndexMismatchError) as err:
        pipeline.ask("harbor permits?")
    message = str(err.value)
    assert "embedding_model" in message and "some/other-model" in message
    assert "rag ingest --rebuild" in message
    with pytest.raises(IndexMismatchError):
        pipeline.ingest([small_corpus], progress=False)
    rebuilt = pipeline.ingest([small_corpus], on_mismatch="rebuild", progress=False)
    assert rebuilt.rebuilt and sorted(rebuilt.added) == ["harbor", "library"]
    assert not pipeline.ask("How many mooring permits were approved?").refused


def test_other_chunk_size_is_a_mismatch(tmp_path: Path, small_corpus: Path) -> None:
    Pipeline(make_settings(tmp_path), embedder=FakeEmbedder()).ingest([small_corpus], progress=False)
    other = make_settings(tmp_path, chunking={"max_chars": 300})
    with pytest.raises(IndexMismatchError, match="chunk_max_chars"):
        Pipeline(other, embedder=FakeEmbedder()).ask("harbor?")


def test_asking_an_empty_index_says_to_ingest(fake_pipeline: Pipeline) -> None:
    with pytest.raises(EmptyIndexError, match="rag ingest"):
        fake_pipeline.ask("Anything?")


def test_index_survives_a_new_process(tmp_path: Path, small_corpus: Path) -> None:
    Pipeline(make_settings(tmp_path), embedder=FakeEmbedder()).ingest([small_corpus], progress=False)
    reopened = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    assert reopened.stats()["documents"] == 2
    assert [s.doc_id for s in reopened.sources()] == ["harbor", "library"]


def test_same_content_under_another_name_is_indexed_once(
        fake_pipeline: Pipeline, small_corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "harbor-copy.txt").write_bytes((small_corpus / "harbor.txt").read_bytes())
    report = fake_pipeline.ingest([small_corpus, copy], progress=False)
    assert sorted(report.added) == ["harbor", "library"] and not report.failed
    assert len(report.notes) == 1 and "harbor-copy.txt: same content as" in report.notes[0]


def test_reading_the_store_in_many_pages_loses_nothing(fake_pipeline: Pipeline, small_corpus: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.index import store

    fake_pipeline.ingest([small_corpus], progress=False)
    whole = [c.chunk_id for c in fake_pipeline.store.chunks()]
    monkeypatch.setattr(store, "_PAGE_SIZE", 1)
    assert [c.chunk_id for c in fake_pipeline.store.chunks()] == whole and len(whole) >= 2
    assert sorted(fake_pipeline.store.documents()) == ["harbor", "library"]
