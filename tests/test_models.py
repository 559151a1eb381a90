"""`rag models` assembly, on small parts the test writes itself."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag import ConfigError
from rag.llm import models


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    chunks = [bytes([i]) * (1000 + i) for i in range(5)]
    paths = []
    for i, data in enumerate(chunks):
        path = tmp_path / f"part{i}"
        path.write_bytes(data)
        paths.append(path)
    whole = b"".join(chunks)
    monkeypatch.setattr(models, "part_paths", lambda: paths)
    monkeypatch.setattr(models, "QWEN_SIZE", len(whole))
    monkeypatch.setattr(models, "QWEN_SHA256", hashlib.sha256(whole).hexdigest())
    return whole


def test_parts_are_joined_in_order_and_checked(tmp_path: Path, parts: bytes) -> None:
    path, digest = models.assemble_qwen(tmp_path / "models", progress=False)
    assert path.read_bytes() == parts and digest == hashlib.sha256(parts).hexdigest()
    assert (tmp_path / "models" / f"{models.QWEN_FILE}.sha256").read_text().startswith(digest)
    again, _ = models.assemble_qwen(tmp_path / "models", progress=False)  # already there
    assert again == path


def test_a_wrong_digest_leaves_no_file(tmp_path: Path, parts: bytes,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "QWEN_SHA256", "0" * 64)
    with pytest.raises(ConfigError, match="reinstall"):
        models.assemble_qwen(tmp_path / "models", progress=False)
    assert not list((tmp_path / "models").iterdir())


def test_the_recorded_digest_is_pinned() -> None:
    assert models.QWEN_SIZE == 1_117_320_768
    assert models.QWEN_SHA256 == (
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")
