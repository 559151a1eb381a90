"""Plain-text rendering of answers and source lists for the terminal."""

from __future__ import annotations

import textwrap

from rag.types import Answer, SourceInfo, where


def render_answer(answer: Answer) -> str:
    """A readable answer: the text, then each quote with where it comes from."""
    lines = [answer.answer, ""]
    if answer.status == "not_covered":
        return answer.answer
    for c in answer.citations:
        place = where(c.publisher, c.date, c.pages)
        lines.append(f"[{c.n}] {c.title}" + (f" ({place})" if place else ""))
        lines.extend(textwrap.wrap(c.quote, 88, initial_indent="    > ",
                                   subsequent_indent="    > "))
        lines.append(f"    {c.url or c.doc_id}  chars {c.start}-{c.end}")
    return "\n".join(lines)


def render_sources(sources: list[SourceInfo]) -> str:
    if not sources:
        return "no documents are indexed; run `rag ingest`"
    return "\n".join(f"{s.doc_id}\t{s.kind}\t{s.date}\t{s.publisher}\t{s.title}"
                     for s in sources)
