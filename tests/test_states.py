"""The three answer states, decided by the scorer artefact's calibrated confidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Pipeline
from rag.answer import NOT_COVERED, UNCERTAIN
from rag.errors import ConfigError
from rag.features import NAMES
from rag.scorer import DEFAULT_ARTEFACT, LearnedScorer

from .conftest import make_settings
from .fakes import FakeEmbedder, write_artefact


@pytest.fixture
def pipeline(tmp_path: Path, small_corpus: Path) -> Pipeline:
    settings = make_settings(tmp_path, answer={"scorer_path": write_artefact(tmp_path / "s.json")})
    p = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    p.ingest([small_corpus], progress=False)
    return p


def test_strong_evidence_is_answered(pipeline: Pipeline) -> None:
    a = pipeline.ask("How many mooring permits did the commission approve?")
    assert a.status == "answered" and not a.refused and a.confidence >= 0.9
    assert "42 new mooring permits" in a.citations[0].quote
    assert not a.answer.startswith(UNCERTAIN)
    assert a.to_dict()["status"] == "answered"


def test_weak_evidence_shows_the_closest_passages_marked_uncertain(pipeline: Pipeline) -> None:
    a = pipeline.ask("How many mooring permits were denied to fishermen last winter?")
    assert a.status == "uncertain" and not a.refused
    assert 0.0 < a.confidence < 0.9
    assert a.citations and a.answer.startswith(UNCERTAIN)
    for c in a.citations:  # still verbatim at its offsets
        doc = pipeline.document(c.doc_id)
        assert doc is not None and doc.text[c.start:c.end] == c.quote


def test_nothing_close_is_not_covered(pipeline: Pipeline) -> None:
    a = pipeline.ask("What is the boiling point of mercury?")
    assert a.status == "not_covered" and a.refused and a.citations == ()
    assert a.answer == NOT_COVERED and a.confidence == 0.0


def test_bars_can_be_overridden_in_settings(tmp_path: Path, small_corpus: Path) -> None:
    settings = make_settings(tmp_path, answer={
        "scorer_path": write_artefact(tmp_path / "s.json"), "answered_bar": 0.0})
    p = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    p.ingest([small_corpus], progress=False)
    assert p.ask("How many mooring permits were denied to fishermen last winter?").status \
        == "answered"


def test_the_hand_scorer_has_two_states(tmp_path: Path, small_corpus: Path) -> None:
    settings = make_settings(tmp_path, answer={"scorer": "hand"})
    p = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    p.ingest([small_corpus], progress=False)
    assert p.ask("How many mooring permits did the commission approve?").status == "answered"
    assert p.ask("What is the boiling point of mercury?").status == "not_covered"


def test_an_unreadable_or_stale_artefact_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the answer scorer"):
        LearnedScorer.load(tmp_path / "missing.json")
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"features": ["a", "b"], "ranker": {}, "answer": {}}))
    with pytest.raises(ConfigError, match="retrain"):
        LearnedScorer.load(stale)


def test_the_shipped_artefact_is_trained_and_calibrated() -> None:
    data = json.loads(DEFAULT_ARTEFACT.read_text())
    assert tuple(data["features"]) == NAMES
    assert data["calibration"] and data["bars"], "run evals.calibrate after training"
    assert "questions" not in data["trained_on"].get("folder", "")  # never an eval set
    scorer = LearnedScorer.load()
    ys = [scorer.calibrated(p / 10) for p in range(11)]
    assert ys == sorted(ys) and 0.0 <= ys[0] and ys[-1] <= 1.0  # monotone, a probability
