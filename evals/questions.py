"""The eval question format (one JSON object per line) and its loader."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("id", "question", "answerable", "expect", "evidence", "doc")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    expect: tuple[str, ...]
    evidence: str
    doc: str
    category: str = ""
    page: int | None = None  # optional: the page (1-based, physical) the answer is on


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse a JSONL question set; raises ValueError naming the line at fault."""
    out: list[EvalQuestion] = []
    ids: set[str] = set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc})") from exc
        missing = [f for f in FIELDS if f not in raw]
        if missing:
            raise ValueError(f"{path}:{n}: missing {', '.join(missing)}")
        q = EvalQuestion(id=str(raw["id"]), question=str(raw["question"]),
                         answerable=bool(raw["answerable"]), expect=tuple(raw["expect"]),
                         evidence=str(raw["evidence"]), doc=str(raw["doc"]),
                         category=str(raw.get("category", "")),
                         page=int(raw["page"]) if raw.get("page") is not None else None)
        if q.answerable and not (q.expect and q.evidence and q.doc):
            raise ValueError(f"{path}:{n}: an answerable question needs expect, evidence, doc")
        if not q.answerable and (q.expect or q.evidence or q.doc):
            raise ValueError(f"{path}:{n}: an unanswerable question has empty expect/evidence/doc")
        if q.id in ids:
            raise ValueError(f"{path}:{n}: duplicate id {q.id!r}")
        ids.add(q.id)
        out.append(q)
    if not out:
        raise ValueError(f"{path}: no questions")
    return out
