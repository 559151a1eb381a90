"""The three answer states, decided by the scorer artefact's calibrated confidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Pipeline
from rag.answer.wording import NOT_COVERED, UNCERTAIN
from rag.errors import ConfigError
from rag.answer.features import NAMES
from rag.answer.scorer import ARTEFACT_VERSION, DEFAULT_ARTEFACT, LearnedScorer, fitted_with

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


def test_an_unreadable_or_stale_artefact_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the answer scorer"):
        LearnedScorer.load(tmp_path / "missing.json")
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"features": ["a", "b"], "ranker": {}, "answer": {}}))
    with pytest.raises(ConfigError, match="evals.train_scorer"):
        LearnedScorer.load(stale)


def test_an_artefact_fitted_with_other_constants_or_uncalibrated_is_refused(
        tmp_path: Path) -> None:
    data = json.loads(DEFAULT_ARTEFACT.read_text())
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps({**data, "fitted_with": "0" * 16}))
    with pytest.raises(ConfigError, match="other features or vocabulary.*evals.train_scorer"):
        LearnedScorer.load(changed)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({k: v for k, v in data.items() if k != "version"}))
    with pytest.raises(ConfigError, match="format version None"):
        LearnedScorer.load(old)
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({**data, "calibration": None, "bars": None}))
    with pytest.raises(ConfigError, match="not calibrated.*evals.calibrate"):
        LearnedScorer.load(raw)
    assert LearnedScorer.load(raw, calibrated=False).bars is None  # what calibrating reads


def test_the_shipped_artefact_is_trained_and_calibrated() -> None:
    data = json.loads(DEFAULT_ARTEFACT.read_text())
    assert tuple(data["features"]) == NAMES
    assert data["version"] == ARTEFACT_VERSION and data["fitted_with"] == fitted_with()
    assert data["calibration"] and data["bars"], "run evals.calibrate after training"
    assert "questions" not in data["trained_on"].get("folder", "")  # never an eval set
    scorer = LearnedScorer.load()
    ys = [scorer.calibrated(p / 10) for p in range(11)]
    assert ys == sorted(ys) and 0.0 <= ys[0] and ys[-1] <= 1.0  # monotone, a probability
