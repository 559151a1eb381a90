"""Turn raw text into the normalized text that is stored and quoted.

The normalized text is the reference for every offset and every quote, so the
rules here are deliberately few and deterministic: Unicode NFKC, one newline
style, soft-wrapped lines joined, blank-line paragraph breaks kept.
"""

from __future__ import annotations

import re
import unicodedata

from rag.vocabulary import CONTROL, LIST_ITEM, SPACES

_MANY_BLANKS = re.compile(r"\n{3,}")


def normalize_text(raw: str) -> str:
    """Return `raw` normalized: NFKC, `\\n` newlines, soft wraps joined, trimmed.

    Paragraphs (separated by blank lines) stay separated by exactly one blank line.
    Inside a paragraph a line break is kept only before a list item, so that
    hard-wrapped prose reads (and is quoted) as one line.
    """
    text = unicodedata.normalize("NFKC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL.sub(" ", text)
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines = [SPACES.sub(" ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        out = lines[0]
        for line in lines[1:]:
            out += ("\n" if LIST_ITEM.match(line) else " ") + line
        paragraphs.append(out)
    return _MANY_BLANKS.sub("\n\n", "\n\n".join(paragraphs)).strip()


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t#]*$", re.MULTILINE)
_MD_HARD_BREAK = re.compile(r"(?:[ ]{2,}|\\)\n")
_MD_RULE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_MD_EMPH = re.compile(r"(?<![\w*])\*(?=\S)((?:[^*\n]|\n(?!\s*\n))+?)(?<=\S)\*(?![\w*])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_MD_BULLET = re.compile(r"^([ \t]*)[*+][ \t]+", re.MULTILINE)


def split_front_matter(raw: str) -> tuple[str, str | None]:
    """Return (body, front matter YAML text or None)."""
    match = _FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if not match:
        return raw, None
    return raw.lstrip("\ufeff")[match.end():], match.group(1)


def markdown_to_text(md: str) -> str:
    """Strip Markdown markup (headings, emphasis, links, rules), keeping the words."""
    text = _MD_RULE.sub("", md)
    # A heading is its own paragraph even when no blank line surrounds it.
    text = _MD_HEADING.sub(r"\n\1\n", text)
    # An explicit line break ends the line in the source's layout; keep it as a
    # paragraph break so it is not joined to the next line.
    text = _MD_HARD_BREAK.sub("\n\n", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_BULLET.sub(r"\1- ", text)
    text = _MD_STRONG.sub(r"\2", text)
    text = _MD_EMPH.sub(r"\1", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    # Emphasis opened on one line and closed on another leaves stray markers.
    return text.replace("**", "")
