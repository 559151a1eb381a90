"""Quote windows: 1-3 adjacent sentences of one paragraph, chosen and scored as a unit.

A single sentence often cannot stand alone in print: a statement in quotation
marks needs the sentence that says who said it, a list item needs the line that
introduces it. A `Window` is a contiguous run of sentences (so its quote is still
exactly `doc.text[start:end]`), optionally with the *lead* of a list: the line
ending in a colon that introduces the item, quoted separately and verified the
same way.

A window may reach back into the previous paragraph only when its first
paragraph is a bare continuation (it opens with a quotation mark or a pronoun:
"“It was a failed policy…,” he said." follows the paragraph naming the speaker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.index.store import sentence_id
from rag.types import Chunk, Document, Hit, Span
from rag.vocabulary import LIST_ITEM

MAX_SENTENCES = 3
CORES = 24  # best sentences of a question that windows are grown around
_LEAD_END = re.compile(r"[:—–-]\s*$|\bfollowing\W*$")
_CONTINUATION = re.compile(r"^(?:[“\"‘']|(?:He|She|They|It|This|That|These|Those|His|Her|"
                           r"Their)\b)")
_LEAD_REACH = 12  # list items between an item and its lead, at most


_ROMAN = re.compile(r"^\(?(?:i{1,3}|iv|vi{0,3}|ix|xi{0,3})[.)]", re.IGNORECASE)


def _style(item: str) -> str:
    """The marker style of a list item: roman, letter, LETTER, digit or bullet."""
    head = item.lstrip()[:8]
    if _ROMAN.match(head):
        return "roman"
    marker = head.lstrip("(")[:1]
    if marker.isdigit():
        return "digit"
    if marker.isalpha():
        return "upper" if marker.isupper() else "letter"
    return "bullet"


@dataclass(frozen=True)
class Sentence:
    """One sentence of a stored document, with where it sits in its layout."""

    span: Span
    key: str  # the sentence id its vector is stored under
    paragraph: int
    is_item: bool


class DocSentences:
    """Every sentence of one document in reading order (from its indexed chunks)."""

    def __init__(self, doc: Document, chunks: list[Chunk]) -> None:
        seen: dict[tuple[int, int], str] = {}
        for chunk in sorted(chunks, key=lambda c: c.start):
            for i, span in enumerate(chunk.sentences):
                seen.setdefault((span.start, span.end), sentence_id(chunk.chunk_id, i))
        text = doc.text
        ordered = sorted(seen)
        self.sentences: list[Sentence] = []
        paragraph = 0
        for n, (start, end) in enumerate(ordered):
            if n and "\n\n" in text[ordered[n - 1][1]:start]:
                paragraph += 1
            self.sentences.append(Sentence(Span(start, end), seen[(start, end)], paragraph,
                                           bool(LIST_ITEM.match(text[start:end]))))
        self._index = {s.span: i for i, s in enumerate(self.sentences)}
        self.doc = doc

    def index_of(self, span: Span) -> int | None:
        return self._index.get(span)

    def text(self, i: int) -> str:
        s = self.sentences[i].span
        return self.doc.text[s.start:s.end]

    def lead_of(self, i: int) -> int | None:
        """The sentence introducing the list that sentence `i` is an item of, if any.

        Walking back over items, a line ending in a colon is the lead unless it is
        itself an item of the same style as `i` (then it is a sibling whose own
        sub-list ended: "(a) …include the following:" does not introduce "(b)")."""
        if not self.sentences[i].is_item:
            return None
        style = _style(self.text(i))
        for j in range(i - 1, max(-1, i - 1 - _LEAD_REACH), -1):
            item = self.sentences[j].is_item
            if item and _style(self.text(j)) == style and _LEAD_END.search(self.text(j)):
                return None
            if _LEAD_END.search(self.text(j)):
                return j
            if not item:
                return None
        return None

    def joins(self, i: int) -> bool:
        """May sentence `i` and the one before it share a window?"""
        if i <= 0:
            return False
        here, before = self.sentences[i], self.sentences[i - 1]
        if here.paragraph == before.paragraph:
            return True
        return here.paragraph == before.paragraph + 1 and self._opens_continuation(i)

    def _opens_continuation(self, i: int) -> bool:
        first = next(j for j in range(i, -1, -1)
                     if j == 0 or self.sentences[j - 1].paragraph != self.sentences[i].paragraph)
        return first == i and bool(_CONTINUATION.match(self.text(i)))


@dataclass(frozen=True)
class Window:
    """Sentences `first..last` of a document (contiguous), plus an optional list lead.

    `core` is the sentence the window was grown around; `hit` is the retrieved
    passage that brought it in.
    """

    doc_id: str
    first: int
    last: int
    core: int
    lead: int | None
    hit: Hit
    start: int
    end: int

    @property
    def members(self) -> range:
        return range(self.first, self.last + 1)


def windows_around(sents: DocSentences, core: int, hit: Hit, max_chars: int) -> list[Window]:
    """Every window of 1..MAX_SENTENCES sentences that holds sentence `core`."""
    out = []
    for size in range(1, MAX_SENTENCES + 1):
        for first in range(core - size + 1, core + 1):
            last = first + size - 1
            if first < 0 or last >= len(sents.sentences):
                continue
            if not all(sents.joins(j) for j in range(first + 1, last + 1)):
                continue
            start = sents.sentences[first].span.start
            end = sents.sentences[last].span.end
            if size > 1 and end - start > max_chars:
                continue
            lead = sents.lead_of(first)
            out.append(Window(sents.doc.doc_id, first, last, core, lead, hit, start, end))
    return out
