"""The answer reader: its artefact checks, its input, and the states it decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Pipeline
from rag.answer.evidence import Evidence, shortlist
from rag.answer.reader import (CALIBRATE_COMMAND, DEFAULT_READER, META_FILE, READER_VERSION,
                               TRAIN_COMMAND, WEIGHTS_FILE, Reader, file_sha256, format_hash,
                               read_meta, window_text)
from rag.answer.scorer import LearnedScorer
from rag.answer.windows import DocSentences, windows_around
from rag.answer.wording import NOT_COVERED, UNCERTAIN
from rag.config import ChunkSettings
from rag.errors import ConfigError
from rag.ingest.chunk import chunk_document
from rag.types import Document, Hit, SourceInfo

from .conftest import make_settings
from .fakes import FakeEmbedder, FakeReader


def _artefact(folder: Path, **meta: object) -> Path:
    """A reader folder with a stand-in weights file (the checks never load it)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS_FILE).write_bytes(b"weights")
    data = {"version": READER_VERSION, "format": format_hash(),
            "weights_sha256": file_sha256(folder / WEIGHTS_FILE),
            "calibration": {"a": 1.0, "b": 0.0, "rank_weight": 0.5},
            "bars": {"answered": 0.8, "close": 0.1, "show_share": 0.5}}
    data.update(meta)
    (folder / META_FILE).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_a_complete_artefact_passes_its_checks(tmp_path: Path) -> None:
    reader = Reader(_artefact(tmp_path / "r"))
    assert reader.bars.answered == 0.8 and reader.bars.close == 0.1
    assert reader.confidence([0.0])[0] == pytest.approx(0.5)
    # A window's score is its logit plus rank_weight x the scorer's ranking score.
    assert reader.score([1.0, 0.0], [2.0, -2.0]).tolist() == pytest.approx([2.0, -1.0])


@pytest.mark.parametrize(("meta", "names"), [
    ({"version": READER_VERSION + 1}, TRAIN_COMMAND),
    ({"format": "0" * 16}, TRAIN_COMMAND),
    ({"weights_sha256": "0" * 64}, TRAIN_COMMAND),
    ({"calibration": None}, CALIBRATE_COMMAND),
    ({"bars": None}, CALIBRATE_COMMAND),
    ({"calibration": {"a": 1.0, "b": 0.0}}, CALIBRATE_COMMAND),
])
def test_a_stale_or_incomplete_artefact_is_an_error_naming_the_fix(
        tmp_path: Path, meta: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        Reader(_artefact(tmp_path / "r", **meta))


def test_a_missing_artefact_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train_reader"):
        Reader(tmp_path / "nowhere")


def test_the_shipped_artefact_is_current_calibrated_and_small() -> None:
    meta = read_meta(DEFAULT_READER)  # raises if stale or uncalibrated
    assert (DEFAULT_READER / WEIGHTS_FILE).stat().st_size < 50 * 2**20
    assert 0.0 < meta["bars"]["close"] < meta["bars"]["answered"] <= 1.0
    card = (DEFAULT_READER / "README.md").read_text(encoding="utf-8")
    for credit in ("SQuAD 2.0", "SelQA", "QNLI", "CC BY-SA 4.0", "all-MiniLM-L6-v2"):
        assert credit in card


def test_the_reader_reads_a_list_item_after_its_lead() -> None:
    text = ("The Task Force shall include the following members:\n"
            "(i) the Secretary of Homeland Security, who shall serve as Chair;\n"
            "(ii) the Secretary of State.")
    doc = Document(SourceInfo("d", "t"), text, "h")
    chunks = chunk_document(doc, ChunkSettings())
    sents = DocSentences(doc, chunks)
    w = windows_around(sents, 1, Hit(chunks[0], 0.0, 1), 600)[0]
    assert window_text(sents, w) == ("The Task Force shall include the following members: "
                                     "(i) the Secretary of Homeland Security, who shall serve "
                                     "as Chair;")


def _evidence(p: Pipeline, question: str, read: bool = True) -> Evidence:
    return p.evidence(question, LearnedScorer.from_settings(p.settings.answer), read=read)


@pytest.fixture
def corpus_pipeline(tmp_path: Path, small_corpus: Path) -> tuple[Pipeline, FakeReader]:
    reader = FakeReader(answered=0.95, close=0.1)
    settings = make_settings(tmp_path)
    p = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model), reader=reader)
    p.ingest([small_corpus], progress=False)
    return p, reader


def test_the_reader_decides_an_answer(corpus_pipeline: tuple[Pipeline, FakeReader]) -> None:
    p, reader = corpus_pipeline
    a = p.ask("How many mooring permits did the commission approve?", use_cache=False)
    assert a.status == "answered" and a.confidence >= 0.95
    assert "42 new mooring permits" in a.citations[0].quote
    assert reader.calls and reader.calls[-1][1] <= p.settings.answer.reader_shortlist


def test_an_uncertain_answer_shows_only_windows_the_reader_scores_close(
        corpus_pipeline: tuple[Pipeline, FakeReader]) -> None:
    p, reader = corpus_pipeline
    question = "How many mooring permits were denied to fishermen last winter?"
    a = p.ask(question, use_cache=False)
    assert a.status == "uncertain" and a.answer.startswith(UNCERTAIN)
    ev = _evidence(p, question)
    best = ev.windows[0].confidence
    assert best is not None and a.confidence == pytest.approx(best)
    floor = max(reader.bars.close, reader.bars.show_share * best)
    shown = {(c.start, c.end) for c in a.citations}
    for s in ev.windows:
        if (s.quote.start, s.quote.end) in shown:
            assert (s.confidence or 0.0) >= floor
    # Nothing from the unrelated library document fills a slot.
    assert all(c.doc_id != "library" for c in a.citations)


def test_nothing_the_reader_scores_close_is_not_covered(
        corpus_pipeline: tuple[Pipeline, FakeReader]) -> None:
    p, _ = corpus_pipeline
    a = p.ask("What is the boiling point of mercury?", use_cache=False)
    assert a.status == "not_covered" and a.citations == () and a.answer == NOT_COVERED


def test_the_shortlist_limits_windows_around_one_sentence(
        corpus_pipeline: tuple[Pipeline, FakeReader]) -> None:
    p, _ = corpus_pipeline
    ev = _evidence(p, "Who voted against the mooring permits plan?", read=False)
    short = shortlist(ev.windows, 50, per_sentence=2)
    for s in short:
        w = s.window
        for i in w.members:
            holding = [o for o in short if o.window.doc_id == w.doc_id
                       and o.window.first <= i <= o.window.last]
            assert len(holding) <= 2
    assert len(shortlist(ev.windows, 3)) == min(3, len(ev.windows))
