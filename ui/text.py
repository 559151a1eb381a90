"""The shared bottom of the web layer: escaping, deep links and the fixed headings.

`render` (the chat's Markdown and passage view) and `cite_text` (the strings for a
draft) both build on this module; it imports neither of them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from rag.answer.wording import UNCERTAIN_TITLE
from rag.types import Answer, Citation

NOT_COVERED_TITLE = "Not covered by these documents."
UNCERTAIN_NOTE = "These are the closest passages; read them before relying on them."
# The heading of an uncertain answer, in the chat and in copied Markdown.
UNCERTAIN_HEADING = f"**{UNCERTAIN_TITLE}** {UNCERTAIN_NOTE}"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")

__all__ = ["NOT_COVERED_TITLE", "UNCERTAIN_HEADING", "UNCERTAIN_NOTE", "UNCERTAIN_TITLE",
           "deep_link", "md_text", "not_covered_reason"]


def md_text(text: str) -> str:
    """Escape `text` for a Markdown renderer that also accepts HTML: HTML first
    (`&`, `<`, `>` become entities), then Markdown punctuation gets a backslash.
    Quote marks stay as they are: they are harmless outside attributes, and
    escaping them would put entities inside Markdown link text."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def not_covered_reason(answer: Answer) -> str:
    """Why a `not_covered` answer is not covered, as a sentence (from `Answer.reason`)."""
    why = answer.reason
    return why[:1].upper() + why[1:]


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
