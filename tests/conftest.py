from __future__ import annotations

from pathlib import Path

import pytest

from rag import Pipeline, Settings

from .fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
PROJECT_CORPUS = ROOT / "corpus"


def make_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings for a test: index under `tmp`, the project's manifest."""
    values: dict[str, object] = {"data_dir": tmp / "data", "corpus_dir": PROJECT_CORPUS}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def serve_groups(**values: object) -> dict[str, object]:
    """`serve` settings from flat names (`rate_burst=3`, `access_log=...`,
    `max_pages=50`), each put in its group (`limits`, `logs`, `desk`) the way
    `Settings` nests them."""
    from rag.config import DeskSettings, LimitsSettings, LogsSettings

    out: dict[str, object] = {}
    for key, value in values.items():
        group = ("limits" if key in LimitsSettings.model_fields else
                 "logs" if key in LogsSettings.model_fields else
                 "desk" if key in DeskSettings.model_fields else None)
        target = out.setdefault(group, {}) if group else out
        target[key] = value  # type: ignore[index]
    return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def fake_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.fail(f"{SHARED_CORPUS} is missing: the tests read the shared documents there")
    return SHARED_CORPUS


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A tiny corpus written by the test: two documents on different topics."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbor.txt").write_text(
        "The harbor commission met on Tuesday.\n\n"
        "The commission approved 42 new mooring permits for the north basin. "
        "Commissioner Alvarez voted against the plan.\n\n"
        "Dredging of the channel will begin in March 2027.\n", encoding="utf-8")
    (folder / "library.md").write_text(
        "---\ntitle: Library budget\ndate: '2026-05-01'\nsource_url: https://example.org/lib\n---\n"
        "# Library budget\n\nThe city library will extend weekend opening hours.\n\n"
        "The **budget** for books rises by 12 percent next year.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def embedder():
    """The real packaged MiniLM, loaded once for every real-model test."""
    from rag.index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(Settings().embedding)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Expose each phase's report on the test item (browser tests screenshot on failure)."""
    outcome = yield
    setattr(item, f"rep_{outcome.get_result().when}", outcome.get_result())

# The public answer JSON (`rag ask --json`, /api/ask, the SSE answer event).
ANSWER_KEYS = {"question", "answer", "refused", "status", "confidence", "citations", "timings_ms",
               "cached"}
