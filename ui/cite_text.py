"""Citations for a journalist's draft: sources grouped by document, a publishable line
per quote, the whole answer as Markdown.

The one place these strings are made. The chat and the widget show and copy what
is computed here (the widget receives it in the answer JSON under `draft`, the chat
in `data-copy` attributes); no JavaScript rebuilds them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.types import Answer, Citation, where

from .text import (NOT_COVERED_TITLE, UNCERTAIN_HEADING, UNCERTAIN_NOTE, UNCERTAIN_TITLE,
                   deep_link, md_text, not_covered_reason)


@dataclass(frozen=True)
class SourceGroup:
    """One document's citations: their numbers, the pages they are on, one link."""

    citations: tuple[Citation, ...]

    @property
    def first(self) -> Citation:
        return self.citations[0]

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(sorted(c.n for c in self.citations))

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(sorted({c.page for c in self.citations if c.page is not None}))

    @property
    def link(self) -> str | None:
        """The first cited place in the original (its page for a PDF)."""
        return deep_link(self.first)

    def where(self) -> str:
        """'Publisher, date, p. 3' or '..., pp. 3, 7' (parts that are unknown left out)."""
        return where(self.first.publisher, self.first.date, self.pages)


def group_sources(citations: Sequence[Citation]) -> list[SourceGroup]:
    """Citations grouped by document, in the order each document is first cited."""
    by_doc: dict[str, list[Citation]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    return [SourceGroup(tuple(cs)) for cs in by_doc.values()]


def _numbers(group: SourceGroup) -> str:
    return " ".join(f"[{n}]" for n in group.numbers)


def citation_url(c: Citation) -> str | None:
    """The original's address for a printed citation: the page of a PDF, else the page
    itself (a text fragment is for browsers, not for print)."""
    if not c.url:
        return None
    base = c.url.split("#", 1)[0]
    return f"{base}#page={c.page}" if c.page is not None else base


def quote_line(c: Citation) -> str:
    """A publishable line: the quote in quotation marks, then title, publisher, date,
    page and URL, each left out when unknown."""
    parts = [c.title, where(c.publisher, c.date, c.pages), citation_url(c) or ""]
    return f"“{c.printed}” — " + ", ".join(p for p in parts if p)


def _md_link_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def answer_copy_markdown(answer: Answer) -> str:
    """The whole answer with its sources, as Markdown to paste into a draft."""
    if answer.status == "not_covered":
        return f"**{NOT_COVERED_TITLE}** {not_covered_reason(answer)}"
    parts = [answer.answer] if answer.sentences_supported else []
    if answer.status == "uncertain":
        parts.insert(0, UNCERTAIN_HEADING)
    parts += [f"> “{c.printed}” [{c.n}]".replace("\n", "\n> ") for c in answer.citations]
    lines = []
    for g in group_sources(answer.citations):
        title = f"[{_md_link_text(g.first.title)}]({g.link})" if g.link else g.first.title
        where = g.where()
        lines.append(f"- {_numbers(g)} {title}" + (f", {where}" if where else ""))
    parts.append("Sources:\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def grouped_source_lines(citations: Sequence[Citation]) -> list[str]:
    """The chat's sources list (escaped Markdown): one line per document with its quote
    numbers and pages, linked to the first cited place."""
    lines = []
    for g in group_sources(citations):
        link = g.link
        title = md_text(g.first.title)
        shown = f"[{title}]({html.escape(link, quote=True)})" if link else title
        where = g.where()
        lines.append(f"- **{md_text(_numbers(g))}** {shown}"
                     + (f" ({md_text(where)})" if where else ""))
    return lines


def draft_payload(answer: Answer) -> dict[str, Any]:
    """What the widget shows and copies, computed here: per quote its publishable line,
    per document its grouped entry, and the whole answer as Markdown."""
    return {
        "quotes": [{"n": c.n, "text": c.printed, "copy": quote_line(c)}
                   for c in answer.citations],
        "uncertain_title": UNCERTAIN_TITLE, "uncertain_note": UNCERTAIN_NOTE,
        "not_covered_title": NOT_COVERED_TITLE,
        "reason": not_covered_reason(answer) if answer.status == "not_covered" else "",
        "sources": [{"numbers": _numbers(g), "title": g.first.title, "href": g.link,
                     "where": g.where()} for g in group_sources(answer.citations)],
        "markdown": answer_copy_markdown(answer),
    }


def draft_html(payload: dict[str, Any] | None) -> str:
    """The chat's 'For a draft' panel: a Copy button per quote and one for the answer.
    Every string is escaped; what is copied sits in `data-copy` attributes."""
    if not payload or not payload["quotes"]:
        return ""
    rows = []
    for q in payload["quotes"]:
        start = q["copy"].split("” — ", 1)[0].lstrip("“")
        start = start if len(start) <= 80 else start[:80].rsplit(" ", 1)[0] + "…"
        rows.append(f'<li><button type="button" class="copy-quote" data-copy="'
                    f'{html.escape(q["copy"], quote=True)}">Copy</button> '
                    f"[{q['n']}] “{html.escape(start)}”</li>")
    return ('<div class="draft"><strong>For a draft</strong> '
            f'<button type="button" id="copy-answer" data-copy="'
            f'{html.escape(payload["markdown"], quote=True)}">Copy answer</button>'
            f'<ul class="draft-quotes">{"".join(rows)}</ul></div>')
