"""Server mode: app processes share one real `chroma run` server on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag import ConfigError, Pipeline

from .conftest import make_settings
from .fakes import FakeEmbedder
from devtools.web import free_port

QUESTION = "How many mooring permits did the commission approve?"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("the `chroma` command (from the chromadb package) is missing")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--path", str(folder), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("chroma run did not start")
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def server_pipeline(tmp: Path, url: str, collection: str) -> Pipeline:
    settings = make_settings(tmp, chroma_url=url, collection=collection)
    return Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))


def test_two_app_processes_share_the_server(chroma_server: str, tmp_path: Path,
                                            small_corpus: Path) -> None:
    writer = server_pipeline(tmp_path / "a", chroma_server, "shared")
    reader = server_pipeline(tmp_path / "b", chroma_server, "shared")  # nothing local shared
    writer.ingest([small_corpus], progress=False)
    assert reader.stats()["documents"] == 2
    assert "42" in reader.ask(QUESTION).citations[0].quote
    (small_corpus / "harbor.txt").write_text(
        "The commission approved 77 new mooring permits for the north basin.\n")
    writer.ingest([small_corpus], progress=False)
    # The reader's in-memory BM25 view is rebuilt because the revision changed.
    assert "77" in reader.ask(QUESTION).citations[0].quote
    rebuilt = writer.ingest([small_corpus], rebuild=True, progress=False)
    assert rebuilt.rebuilt and "77" in reader.ask(QUESTION).citations[0].quote


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot reach the Chroma server"):
        server_pipeline(tmp_path, f"http://127.0.0.1:{free_port()}", "x-idx").stats()


def test_each_replica_keeps_its_own_cache_and_sees_a_reindex(chroma_server: str, tmp_path: Path,
                                                              small_corpus: Path) -> None:
    writer = server_pipeline(tmp_path / "w", chroma_server, "cached")
    one = server_pipeline(tmp_path / "r1", chroma_server, "cached")
    two = server_pipeline(tmp_path / "r2", chroma_server, "cached")
    writer.ingest([small_corpus], progress=False)
    assert not one.ask(QUESTION).cached and one.ask(QUESTION).cached
    assert not two.ask(QUESTION).cached  # its own cache: the other replica's hit is not shared
    assert two.ask(QUESTION).cached
    (small_corpus / "harbor.txt").write_text(
        "The commission approved 77 new mooring permits for the north basin.\n")
    writer.ingest([small_corpus], progress=False)  # another process bumps the revision
    for replica in (one, two):
        fresh = replica.ask(QUESTION)
        assert not fresh.cached and "77" in fresh.citations[0].quote
        assert replica.ask(QUESTION).cached
