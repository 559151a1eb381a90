"""Atomic re-index, one ingest at a time, readers following writes, SIGKILL safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import IngestBusyError, Pipeline
from rag.ingest.lock import ingest_lock

from .conftest import PROJECT_CORPUS, ROOT, make_settings
from .fakes import FakeEmbedder

QUESTION = "How many mooring permits did the commission approve?"


def test_failed_rebuild_leaves_the_old_index_answering(tmp_path: Path, small_corpus: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    pipeline.ingest([small_corpus], progress=False)
    before = pipeline.ask(QUESTION).to_dict()
    calls = {"n": 0}
    original = pipeline.store.replace_document

    def crash_on_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)
    monkeypatch.setattr(pipeline.store, "replace_document", crash_on_second)
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.ingest([small_corpus], rebuild=True, progress=False)
    fresh = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    after = fresh.ask(QUESTION).to_dict()
    assert after["citations"] == before["citations"]
    assert fresh.stats()["documents"] == 2
    monkeypatch.undo()
    rebuilt = fresh.ingest([small_corpus], rebuild=True, progress=False)  # cleans up
    assert rebuilt.rebuilt and sorted(rebuilt.added) == ["harbor", "library"]
    assert len(fresh.store._generations()) == 1


def test_a_second_ingest_is_refused(tmp_path: Path, small_corpus: Path) -> None:
    pipeline = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    with ingest_lock(tmp_path / "data"):
        with pytest.raises(IngestBusyError, match="another ingest is running"):
            pipeline.ingest([small_corpus], progress=False)
    assert pipeline.ingest([small_corpus], progress=False).added  # free again


def test_readers_follow_writes_from_another_pipeline(tmp_path: Path, small_corpus: Path) -> None:
    writer = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    writer.ingest([small_corpus], progress=False)
    reader = Pipeline(make_settings(tmp_path), embedder=FakeEmbedder())
    assert "42" in reader.ask(QUESTION).citations[0].quote
    (small_corpus / "harbor.txt").write_text(
        "The commission approved 77 new mooring permits for the north basin.\n")
    writer.ingest([small_corpus], progress=False)
    assert "77" in reader.ask(QUESTION).citations[0].quote


@pytest.mark.real_model
def test_sigkill_during_rebuild_leaves_the_previous_index(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path)
    Pipeline(settings, embedder=embedder).ingest([PROJECT_CORPUS], progress=False)
    question = "How many children were separated from their families?"
    before = Pipeline(settings, embedder=embedder).ask(question).to_dict()
    big = tmp_path / "big"
    big.mkdir()
    for i in range(40):  # enough text that the rebuild is still embedding when killed
        (big / f"memo-{i}.txt").write_text("\n\n".join(
            f"Memo {i} paragraph {j} records routine harbor business number {i * 100 + j}."
            for j in range(300)))
    env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir),
           "RAG_CORPUS_DIR": str(PROJECT_CORPUS)}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", "--rebuild",
                             str(PROJECT_CORPUS), str(big)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(12)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reopened = Pipeline(settings, embedder=embedder)
    assert reopened.stats()["documents"] == 1
    assert reopened.ask(question).to_dict()["citations"] == before["citations"]
    # The lock died with the process: the next ingest runs, and cleans up.
    done = subprocess.run([sys.executable, "-m", "cli", "ingest", "--rebuild",
                           str(PROJECT_CORPUS)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(subprocess.run(
        [sys.executable, "-m", "cli", "ask", question, "--json"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300).stdout)["citations"]
