"""Safe rendering of answers, sources and passages for the web.

Every piece of document text, question and answer is escaped for HTML *and* for
Markdown before it reaches the page, so a document or question holding
`<script>` or `<img onerror=...>` shows as text and never runs, and a quote with
`*` or `_` shows those characters instead of turning into emphasis.
"""

from __future__ import annotations

import html

from rag import Settings
from rag.ingest.provenance import DeskManifest
from rag.types import Answer, Citation, Document, where

from .cite_text import grouped_source_lines
from .text import NOT_COVERED_TITLE, UNCERTAIN_HEADING, deep_link, md_text, not_covered_reason


def answer_markdown(answer: Answer) -> str:
    """The chat message for an answer: quotes as block quotes with [n], then sources."""
    if answer.status == "not_covered":
        return f"**{NOT_COVERED_TITLE}** {md_text(not_covered_reason(answer))}"
    parts = []
    if answer.status == "uncertain":
        # Shown apart from an answer: a plain heading first, then the closest passages.
        parts.append(UNCERTAIN_HEADING)
    if answer.sentences_supported:
        # llm mode: the generated sentences (their [n] markers point at the quotes).
        parts.append(md_text(answer.answer))
    # Uncertain quotes are marked one by one too, so none reads as an answer when
    # copied or skimmed on its own.
    mark = "*closest passage:* " if answer.status == "uncertain" else ""
    # A quote may span a paragraph break (a speaker named just before a quoted
    # paragraph): every line stays inside the block quote.
    parts += [f"> {mark}“{md_text(c.printed)}” **\\[{c.n}\\]**".replace("\n", "\n> ")
              for c in answer.citations]
    parts.append("**Sources**")
    parts.append("\n".join(grouped_source_lines(answer.citations)))
    return "\n\n".join(parts)


def citation_label(c: Citation) -> str:
    """A one-line label for the passage picker: number, start of the quote, source."""
    words = c.quote.split()
    start = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    place = where(c.publisher, "", c.pages)
    return f"[{c.n}] “{start}” ({place or c.title[:40]})"


def desk_note(settings: Settings, doc_id: str) -> str | None:
    """Where a document added on the sources desk came from ("uploaded by alice on
    2026-12-02, sha256 1a2b…"), or None for other documents."""
    record = DeskManifest(settings.desk_dir).get(doc_id)
    if record is None or record.origin == "manifest":
        return None
    return f"{record.note()}, sha256 {record.content_hash[:12]}…"


def context_html(doc: Document, c: Citation, paragraphs: int = 1,
                 note: str | None = None) -> str:
    """The cited passage in its surrounding paragraphs, the quote highlighted;
    `note` (the desk's provenance line) is shown under the source when given.

    The highlight is placed at the cited offsets of the stored text, so what is
    marked is by construction the text that was quoted.
    """
    text = doc.text
    start = text.rfind("\n\n", 0, c.start)
    for _ in range(paragraphs):
        start = text.rfind("\n\n", 0, start) if start > 0 else start
    start = max(start, 0)
    end = c.end
    for _ in range(paragraphs + 1):
        nxt = text.find("\n\n", end + 1)
        end = len(text) if nxt < 0 else nxt
    before, quoted, after = text[start:c.start], text[c.start:c.end], text[c.end:end]
    body = (html.escape(before) + f'<mark class="quote" data-start="{c.start}" '
            f'data-end="{c.end}">{html.escape(quoted)}</mark>' + html.escape(after))
    body = body.strip("\n").replace("\n\n", "</p><p>").replace("\n", "<br>")
    link = deep_link(c)
    origin = (f'<a href="{html.escape(link, quote=True)}" target="_blank" '
              f'rel="noopener noreferrer">open the original</a>' if link else "")
    place = where(c.publisher, c.date, c.pages, page_word="page")
    return (f'<div class="passage"><div class="passage-head"><strong>[{c.n}] '
            f"{html.escape(c.title)}</strong><br><small>{html.escape(place)} · characters "
            f"{c.start}–{c.end} · {origin}</small>"
            + (f'<br><small class="provenance">{html.escape(note)}</small>' if note else "")
            + f"</div><p>{body}</p></div>")
