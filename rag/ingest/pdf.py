"""Read a PDF the way a person reads it: one normalized text per page.

What a reader skips is left out of the stored (and quoted) text: running headers
and footers, page numbers, the superscript numbers that point to footnotes.
What a reader joins is joined: words hyphenated at a line end, a sentence that
goes on in the next column or on the next page (kept whole on the page where it
starts, so its citation names that page). Footnotes are kept as their own
paragraphs at the end of their page ("12 The memorandum ..."), never spliced
into a sentence. When the positioned-text pass cannot read a file, pypdf's plain
extraction is used instead, page by page.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from rag.ingest.chunk import sentence_spans
from rag.ingest.normalize import normalize_text
from rag.ingest.pdf_layout import (Line, PageLines, group_lines, line_text, make_line,
                                   page_fragments, reading_order, split_notes,
                                   strip_running_heads)
from rag.vocabulary import CONTROL, SPACES

log = logging.getLogger(__name__)

_BULLET = re.compile(r"^[•◦▪‣●■–\-*]\s")
_LEADER = re.compile(r"\s*(?:\.\s?){4,}\s*")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SENTENCE_END = ".!?:;\"”’)]"


@dataclass
class Para:
    text: str
    kind: str   # text | row | bullet
    size: float
    rows: list[list[str]] = field(default_factory=list)  # a table's cells, row by row


def page_texts(reader: Any) -> list[str]:
    """Normalized text of each page of a pypdf `PdfReader`, in reading order."""
    try:
        raw = [page_fragments(page) for page in reader.pages]
    except (ValueError, KeyError, TypeError, AttributeError, IndexError,
            ZeroDivisionError) as exc:
        log.info("positioned text unavailable (%s); using plain extraction", exc)
        raw = []
    if not any(raw):
        return [normalize_text(page.extract_text() or "") for page in reader.pages]
    heights = [float(page.mediabox.height) for page in reader.pages]
    pages = strip_running_heads([group_lines(frags) for frags in raw], heights)
    size = _body_size(pages)
    split = [split_notes(lines, size) for lines in pages]
    for page in split:
        page.body = reading_order(page.body)
        for line in page.body:
            line.kind = _kind(line)
    vocab = _vocabulary(split)
    bodies = [_paragraphs(page.body, vocab) for page in split]
    _carry_sentences(bodies, vocab)
    return [_page_text(body, _notes(page, vocab)) for body, page in zip(bodies, split,
                                                                       strict=True)]


def _body_size(pages: list[list[Line]]) -> float:
    """The font height most characters of the document have."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line_text(line))
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _kind(line: Line) -> str:
    text = line_text(line).strip()
    if _BULLET.match(text):
        return "bullet"
    wide_gaps = sum(1 for a, b in zip(line.frags, line.frags[1:], strict=False)
                    if b.x0 - a.x1 > line.size and not b.superscript)
    # Table cells and contents entries (dot leaders) are rows, read one per line.
    return "row" if wide_gaps >= 2 or _LEADER.search(text) else "text"


def _clean(text: str) -> str:
    text = CONTROL.sub(" ", unicodedata.normalize("NFKC", text))
    return SPACES.sub(" ", _LEADER.sub(" ", text)).strip()


def _vocabulary(pages: list[PageLines]) -> set[str]:
    """Words of the document as printed whole (not the halves of a hyphenated word):
    what decides whether a hyphen at a line end is the printer's or the word's."""
    vocab: set[str] = set()
    for page in pages:
        after_hyphen = False
        for line in page.body + page.notes:
            words = _WORD.findall(line_text(line))
            hyphen = line_text(line).rstrip().endswith("-")
            vocab.update(w.lower() for w in words[1 if after_hyphen else 0:
                                                  -1 if hyphen else None])
            after_hyphen = hyphen
    return vocab


def _soft_hyphen(head: str, tail: str, vocab: set[str]) -> bool:
    """Whether "head-" at a line end and "tail" on the next line are one word.

    Join when the joined word occurs elsewhere in the document; keep the hyphen
    when the hyphenated form does ("family-unit"), when the tail is capitalized
    ("non-Federal"), or when both halves are words of the document ("case-" +
    "management"). Otherwise join: a fragment that is no word is the printer's.
    """
    if (head + tail).lower() in vocab:
        return True
    if f"{head}-{tail}".lower() in vocab or tail[:1].isupper():
        return False
    return not (len(head) >= 3 and len(tail) >= 2 and head.lower() in vocab
                and tail.lower() in vocab)


def join_lines(left: str, right: str, vocab: set[str]) -> str:
    """Append the next line of a paragraph, undoing line-end hyphenation."""
    if left.endswith("\u00ad"):  # a soft hyphen: the typesetter's by definition
        return left[:-1] + right
    head = re.search(r"([^\W\d_]+)-$", left)
    tail = re.match(r"[^\W\d_]+", right)
    if head and tail:
        if _soft_hyphen(head.group(1), tail.group(), vocab):
            return left[:-1] + right
        return left + right
    return f"{left} {right}" if left and right else left or right


def _paragraphs(lines: list[Line], vocab: set[str]) -> list[Para]:
    """Group reading-ordered lines into paragraphs: a wider gap, another type size,
    a bullet or a change between prose and table rows starts a new one."""
    gaps = [a.y - b.y for a, b in zip(lines, lines[1:], strict=False)
            if a.y > b.y and abs(a.size - b.size) < 0.5]
    pitch = median(gaps) if gaps else 0.0
    paras: list[Para] = []
    prev: Line | None = None
    for line in lines:
        text = _clean(line_text(line))
        if not text:
            continue
        if prev is None or _starts_paragraph(prev, line, pitch, paras[-1]):
            paras.append(Para(text, line.kind, line.size))
        elif line.kind != "row":
            paras[-1].text = join_lines(paras[-1].text, text, vocab)
        if line.kind == "row":
            paras[-1].rows.append(_cells(line))
        prev = line
    for para in paras:
        if para.rows:
            para.text = _table_text(para.rows)
    return paras


def _cells(line: Line) -> list[str]:
    """The cells of a table row: runs of text separated by more than a type size."""
    groups = [[line.frags[0]]]
    for a, b in zip(line.frags, line.frags[1:], strict=False):
        if b.x0 - a.x1 > line.size and not b.superscript:
            groups.append([])
        groups[-1].append(b)
    return [_clean(line_text(make_line(g, line.y))) for g in groups]


def _table_text(rows: list[list[str]]) -> str:
    """One line per row. Under a heading row, each cell is read with its column's
    heading ("Harlow: Referred 874; Declined 38%"), as a person reads a table, so
    that a quoted row says what its numbers are."""
    head = rows[0]
    if len(rows) < 2 or len(head) < 3 or any(len(r) != len(head) for r in rows[1:]):
        return "\n".join(" ".join(r) for r in rows)
    body = [f"{r[0]}: " + "; ".join(f"{h} {c}" for h, c in zip(head[1:], r[1:], strict=True))
            for r in rows[1:]]
    return "\n".join([" ".join(head), *body])


def _starts_paragraph(prev: Line, line: Line, pitch: float, para: Para) -> bool:
    if line.kind == "bullet" or abs(line.size - prev.size) >= 0.5:
        return True
    if (line.kind == "row") != (para.kind == "row"):
        return True
    if line.y >= prev.y:  # the next column: the paragraph goes on unless it ended
        return _ends_sentence(para.text)
    return pitch > 0 and prev.y - line.y > 1.3 * pitch


def _ends_sentence(text: str) -> bool:
    return not text or text.rstrip()[-1] in _SENTENCE_END


def _carry_sentences(pages: list[list[Para]], vocab: set[str]) -> None:
    """A sentence running onto the next page is completed on the page it starts on,
    so it stays whole (chunks never cross pages) and is cited with that page."""
    for here, there in zip(pages, pages[1:], strict=False):
        if not here or not there:
            continue
        last, first = here[-1], there[0]
        if last.kind == "row" or first.kind != "text" or abs(last.size - first.size) >= 0.5 \
                or _ends_sentence(last.text):
            continue
        spans = sentence_spans(first.text, 0, len(first.text))
        end = spans[0].end if spans else len(first.text)
        last.text = join_lines(last.text, first.text[:end], vocab)
        rest = first.text[end:].strip()
        if rest:
            first.text = rest
        else:
            there.pop(0)


def _notes(page: PageLines, vocab: set[str]) -> list[Para]:
    """Each footnote as one paragraph, opening with its number."""
    notes: list[Para] = []
    for line in page.notes:
        text = _clean(line_text(line))
        if line.note_label is not None:
            body = text[len(line.note_label):].strip() if text.startswith(line.note_label) \
                else text
            notes.append(Para(f"{line.note_label} {body}", "text", line.size))
        elif notes:
            notes[-1].text = join_lines(notes[-1].text, text, vocab)
    return notes


def _page_text(body: list[Para], notes: list[Para]) -> str:
    return "\n\n".join(p.text.replace("\u00ad", "") for p in body + notes if p.text)
