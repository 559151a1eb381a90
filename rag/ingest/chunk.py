"""Split a document into sentences and pack them into chunks, keeping offsets.

Invariant (property-tested): for every chunk `doc.text[c.start:c.end] == c.text`,
and every sentence span lies inside its chunk and in the same page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.config import ChunkSettings
from rag.types import Chunk, Document, Span

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(["mr", "mrs", "ms", "dr", "prof", "gen", "gov", "rep", "sen", "sec", "secs", "no", "nos", "v", "vs", "et", "seq", "al", "e.g", "i.e", "etc", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "st", "jr", "sr", "inc", "corp", "co", "ltd", "u.s", "u.s.c", "u.s.a", "fed", "reg", "pub", "l", "stat", "p", "pp", "ch", "art", "para", "dept", "div", "cf", "fig", "approx", "est", "op", "cit", "ibid", "id"])
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")


def _last_word(text: str) -> str:
    match = re.search(r"([\w.]+)$", text)
    return match.group(1).lower().rstrip(".") if match else ""


def sentence_spans(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of `text[start:end]` (one paragraph), trimmed of spaces.

    A line break inside a paragraph (list items) also ends a sentence.
    """
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        cursor = line_start
        for match in _BOUNDARY.finditer(line.group()):
            cut = line_start + match.end()
            head = text[cursor:line_start + match.start() + 1]
            word = _last_word(head)
            # "U.S." / "Sec." / an initial such as "J." do not end a sentence.
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            spans.append(Span(cursor, cut))
            cursor = cut
        spans.append(Span(cursor, line_start + len(line.group())))
    return [t for s in spans if (t := _trim(text, s)) is not None]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _split_long(text: str, span: Span, limit: int) -> Iterator[Span]:
    """Cut a sentence longer than `limit` at white space (tables, run-on PDF text)."""
    start = span.start
    while span.end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit)
        cut = cut if cut > start else start + limit
        if (piece := _trim(text, Span(start, cut))) is not None:
            yield piece
        start = cut
    if (rest := _trim(text, Span(start, span.end))) is not None:
        yield rest


def _regions(doc: Document) -> Iterator[tuple[int, int, int | None]]:
    """(start, end, page) of each page; the whole text for unpaged documents."""
    if not doc.page_starts:
        yield 0, len(doc.text), None
        return
    bounds = list(doc.page_starts) + [len(doc.text) + 2]
    for i, start in enumerate(doc.page_starts):
        yield start, min(bounds[i + 1] - 2, len(doc.text)), i + 1


def _paragraphs(text: str, start: int, end: int, limit: int) -> Iterator[list[Span]]:
    cursor = start
    for sep in list(_PARAGRAPH.finditer(text, start, end)) + [None]:
        stop = sep.start() if sep else end
        sentences = [p for s in sentence_spans(text, cursor, stop)
                     for p in _split_long(text, s, limit)]
        if sentences:
            yield sentences
        cursor = sep.end() if sep else end


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Pack whole paragraphs into chunks of at most `max_chars`; split longer ones
    by sentences with `overlap_sentences` of overlap. Chunks never cross pages."""
    limit = settings.max_chars
    groups: list[tuple[list[Span], int | None]] = []
    for region_start, region_end, page in _regions(doc):
        current: list[Span] = []
        for para in _paragraphs(doc.text, region_start, region_end, limit):
            if current and para[-1].end - current[0].start > limit:
                groups.append((current, page))
                current = []
            if para[-1].end - para[0].start <= limit:
                current.extend(para)
                continue
            window: list[Span] = []
            for sent in para:
                if window and sent.end - window[0].start > limit:
                    groups.append((window, page))
                    keep = window[-settings.overlap_sentences:] if settings.overlap_sentences else []
                    window = [s for s in keep if sent.end - s.start <= limit]
                window.append(sent)
            current = window
        if current:
            groups.append((current, page))
    return [_make_chunk(doc, i, spans, page) for i, (spans, page) in enumerate(groups)]


def _make_chunk(doc: Document, index: int, spans: list[Span], page: int | None) -> Chunk:
    start, end = spans[0].start, spans[-1].end
    return Chunk(
        chunk_id=f"{doc.doc_id}:{doc.content_hash[:12]}:{index}", doc_id=doc.doc_id,
        index=index, start=start, end=end, text=doc.text[start:end], page=page,
        sentences=tuple(spans),
    )
