"""Eval runs in other tools' formats: `rag eval --export ragas FILE`.

ragas reads a JSONL `EvaluationDataset`, one `SingleTurnSample` a line. Each line
here is one question of the run, in the question set's order (the same order as
`results.jsonl`):

- `user_input`: the question as asked;
- `retrieved_contexts`: the passages retrieved for it, best first;
- `response`: the answer text (`rag ask --json`'s `answer`);
- `reference`: the question set's evidence (verbatim text of the document that
  answers it), or, for a question the documents do not answer, `REFUSAL_REFERENCE`;
- `reference_contexts`: `[evidence]`, empty for unanswerable questions (ragas'
  context precision and recall against a reference apply to answerable rows only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

from .metrics import Sample

FORMATS = ("ragas",)
# The right response to a question the documents do not answer is a refusal, and
# every refusal the pipeline writes begins with these words (so ragas'
# StringPresence scores refusals too).
REFUSAL_REFERENCE = "Not covered"


def check_format(fmt: str) -> None:
    """Raises `ConfigError` naming the formats offered when `fmt` is not one."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; the one offered is "
                          f"{', '.join(repr(f) for f in FORMATS)}")


def ragas_row(sample: Sample) -> dict[str, Any]:
    """One question of the run as a ragas single-turn sample."""
    q = sample.question
    return {
        "user_input": q.question,
        "retrieved_contexts": list(sample.passages),
        "response": str(sample.response.get("answer", "")),
        "reference": q.evidence if q.answerable else REFUSAL_REFERENCE,
        "reference_contexts": [q.evidence] if q.answerable else [],
    }


def write_export(fmt: str, samples: list[Sample], path: Path) -> int:
    """Write `samples` to `path` in format `fmt`; return the number of rows.
    Raises `ConfigError` for an unknown format."""
    check_format(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for sample in samples:
            fh.write(json.dumps(ragas_row(sample), ensure_ascii=False) + "\n")
    return len(samples)
