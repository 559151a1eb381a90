"""Plain, frozen value types shared by every stage of the pipeline.

Offsets (`start`, `end`) are always character offsets into the *stored normalized
text* of a document (`Document.text`), so `doc.text[start:end]` is the exact
quoted text.  That single invariant is what makes every quote checkable.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DocKind = Literal["report", "news", "executive-order", "fact-sheet", "other"]

# answered: strong evidence, quoted as the answer. uncertain: the closest passages,
# which may not answer the question. not_covered: nothing relevant enough to show.
AnswerStatus = Literal["answered", "uncertain", "not_covered"]


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one document, from the manifest or the file itself."""

    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    kind: str = "other"
    url: str | None = None
    license: str = ""
    path: str | None = None


@dataclass(frozen=True)
class Document:
    """A loaded document: normalized text plus where each page starts.

    `page_starts` is empty for unpaged formats; for PDFs, `page_starts[i]` is the
    offset at which page i+1 begins.
    """

    info: SourceInfo
    text: str
    content_hash: str
    page_starts: tuple[int, ...] = ()

    @property
    def doc_id(self) -> str:
        return self.info.doc_id

    def page_at(self, offset: int) -> int | None:
        """Return the 1-based page holding `offset`, or None for unpaged documents."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) in a document's stored text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: contiguous text with its sentences' offsets."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    page: int | None
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Hit:
    """A chunk returned by retrieval, with the scores that ranked it."""

    chunk: Chunk
    score: float
    rank: int
    dense_rank: int | None = None
    lexical_rank: int | None = None
    # The passage's best sentence for the question, as the reranker scored it (None
    # before reranking, or when no sentence is long enough to be an answer).
    sentence: Span | None = None


def where(publisher: str, date: str, pages: Sequence[int] = (), *,
          page_word: str = "p.") -> str:
    """Where a quote is from, as every front end prints it (the one citation line):
    'Publisher, date, p. 3', or '..., pp. 3, 7'; unknown parts are left out."""
    cited = (f"{page_word} {pages[0]}" if len(pages) == 1 else
             "pp. " + ", ".join(map(str, pages)) if pages else "")
    return ", ".join(x for x in (publisher, date, cited) if x)


def printed(quote: str, lead: str | None) -> str:
    """A quote with its list lead, as every front end prints it (the one place)."""
    return f"{lead} … {quote}" if lead else quote


@dataclass(frozen=True)
class Citation:
    """A verified quote: `quote == document.text[start:end]` was checked."""

    n: int
    doc_id: str
    title: str
    publisher: str
    date: str
    url: str | None
    page: int | None
    start: int
    end: int
    quote: str
    # A list item is quoted with the line introducing its list (not adjacent to
    # it, so a separate span, verified the same way): "The Task Force shall
    # include the following members:" … "(i) the Secretary of Homeland Security…".
    lead_start: int | None = None
    lead_end: int | None = None
    lead: str | None = None

    @property
    def pages(self) -> tuple[int, ...]:
        """The quote's page, as a tuple for `where` (empty for unpaged documents)."""
        return (self.page,) if self.page else ()

    @property
    def printed(self) -> str:
        """The quote as it is printed: a list item after the line introducing its list."""
        return printed(self.quote, self.lead)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """What the pipeline returns for one question."""

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    timings_ms: dict[str, float]
    # `refused` is True exactly when status is "not_covered".
    status: AnswerStatus = "answered"
    # Calibrated probability that the shown quotes answer the question (0-1).
    confidence: float = 0.0
    # not_covered only: why, as a clause ("the indexed documents do not answer…");
    # front ends show it under their own heading instead of parsing `answer`.
    reason: str = ""
    hits: tuple[Hit, ...] = field(default=(), compare=False)
    # Score of the best answering sentence (0 when none): what the refusal
    # threshold is compared with. Kept out of the public JSON on purpose.
    evidence_score: float = 0.0
    # llm mode only: time to the first generated token, and how many generated
    # sentences there were and how many passed the support check.
    first_token_ms: float | None = None
    sentences_generated: int = 0
    sentences_supported: int = 0
    # Served from the answer cache: `timings_ms` is then the lookup's, and the
    # timings of the computation that produced it are in `original_timings_ms`.
    cached: bool = False
    original_timings_ms: dict[str, float] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape shared by `rag ask --json`, the API and the evals."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "status": self.status,
            "confidence": round(self.confidence, 3),
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": dict(self.timings_ms),
            "cached": self.cached,
        }


@dataclass(frozen=True)
class Token:
    """A piece of generated text, streamed before the checked `Answer` arrives."""

    text: str
