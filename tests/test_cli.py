from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from cli.main import main

from .fakes import FakeEmbedder


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "nothing"))
    made: list[Settings] = []

    def factory(settings: Settings) -> Pipeline:
        made.append(settings)
        return Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))

    def run(*argv: str) -> int:
        return main(list(argv), make_pipeline=factory)

    run.made = made  # type: ignore[attr-defined]
    return run


def test_ingest_ask_json_and_sources(cli, small_corpus: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("ingest", str(small_corpus)) == 0
    assert cli.made[0].data_dir == tmp_path / "data"  # RAG_DATA_DIR honoured
    capsys.readouterr()
    assert cli("ask", "How many mooring permits were approved?", "--json") == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON object, nothing else on stdout
    assert out.count("\n") == 1 and data["refused"] is False
    assert "42" in data["citations"][0]["quote"]
    assert cli("sources") == 0
    assert "harbor" in capsys.readouterr().out


def test_readable_answer_shows_quotes_and_sources(cli, small_corpus: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cli("ingest", str(small_corpus))
    capsys.readouterr()
    assert cli("ask", "When will dredging of the channel begin?") == 0
    out = capsys.readouterr().out
    assert "[1] harbor" in out and "> Dredging of the channel will begin in March 2027." in out


def test_failed_file_makes_ingest_exit_non_zero(cli, small_corpus: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (small_corpus / "empty.txt").write_text("")
    assert cli("ingest", str(small_corpus)) == 1
    captured = capsys.readouterr()
    assert "empty.txt: empty file" in captured.err and "2 new" in captured.out


def test_errors_become_exit_codes(cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("ask", "anything") == 3
    assert "rag ingest" in capsys.readouterr().err
    assert cli("ask", "") == 3
