"""Safe rendering of answers, sources and passages for the web.

Every piece of document text, question and answer is escaped for HTML *and* for
Markdown before it reaches the page, so a document or question holding
`<script>` or `<img onerror=...>` shows as text and never runs, and a quote with
`*` or `_` shows those characters instead of turning into emphasis.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from rag import Settings
from rag.answer import UNCERTAIN_TITLE
from rag.desk.provenance import DeskManifest
from rag.types import Answer, Citation, Document

NOT_COVERED_TITLE = "Not covered by these documents."
UNCERTAIN_NOTE = "These are the closest passages; read them before relying on them."
# The heading of an uncertain answer, in the chat and in copied Markdown.
UNCERTAIN_HEADING = f"**{UNCERTAIN_TITLE}** {UNCERTAIN_NOTE}"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def md_text(text: str) -> str:
    """Escape `text` for a Markdown renderer that also accepts HTML: HTML first
    (`&`, `<`, `>` become entities), then Markdown punctuation gets a backslash.
    Quote marks stay as they are: they are harmless outside attributes, and
    escaping them would put entities inside Markdown link text."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def deep_link(c: Citation) -> str | None:
    """The original URL pointing at the quote: `#page=N` for PDFs, else a text fragment."""
    if not c.url:
        return None
    base = c.url.split("#", 1)[0]
    if c.page is not None:
        return f"{base}#page={c.page}"
    words = c.quote.split()
    start = " ".join(words[:6])
    fragment = quote(start, safe="") if len(words) <= 6 else (
        f"{quote(start, safe='')},{quote(' '.join(words[-3:]), safe='')}")
    return f"{base}#:~:text={fragment}"


def source_line(c: Citation) -> str:
    where = ", ".join(x for x in (c.publisher, c.date, f"p. {c.page}" if c.page else "") if x)
    link = deep_link(c)
    title = md_text(c.title)
    shown = f"[{title}]({html.escape(link, quote=True)})" if link else title
    return f"{c.n}. {shown}" + (f" ({md_text(where)})" if where else "")


def answer_markdown(answer: Answer) -> str:
    """The chat message for an answer: quotes as block quotes with [n], then sources."""
    if answer.refused:
        why = answer.answer.removeprefix("Not covered:").strip()
        return f"**{NOT_COVERED_TITLE}** {md_text(why[:1].upper() + why[1:])}"
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
    parts.append(sources_markdown(answer))
    return "\n\n".join(parts)


def sources_markdown(answer: Answer) -> str:
    """The sources list: one entry per document, with its quote numbers and pages."""
    from .cite_text import grouped_source_lines  # it builds on this module's helpers

    return "\n".join(grouped_source_lines(answer.citations))


def citation_label(c: Citation) -> str:
    """A one-line label for the passage picker: number, start of the quote, source."""
    words = c.quote.split()
    start = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    where = ", ".join(x for x in (c.publisher, f"p. {c.page}" if c.page else "") if x)
    return f"[{c.n}] “{start}” ({where or c.title[:40]})"


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
    where = ", ".join(x for x in (c.publisher, c.date, f"page {c.page}" if c.page else "") if x)
    return (f'<div class="passage"><div class="passage-head"><strong>[{c.n}] '
            f"{html.escape(c.title)}</strong><br><small>{html.escape(where)} · characters "
            f"{c.start}–{c.end} · {origin}</small>"
            + (f'<br><small class="provenance">{html.escape(note)}</small>' if note else "")
            + f"</div><p>{body}</p></div>")
