"""PDF page geometry: positioned text fragments grouped into lines, in reading order.

pypdf's layout-mode text pass (`text_show_operations`) gives, for every run of
text, where it starts and ends and its font height. From that we find what a
reader skips (running headers and footers, page numbers), what is a footnote
reference (a small digit raised above its line), which lines are the notes at
the page foot, and in which order two columns are read. No new dependency: the
pinned pypdf already computes these positions for its layout mode.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import Any

# Note references are at most this much smaller than the text they follow...
_SUPER_RATIO = 0.8
# ...and raised by at most this share of that text's size.
_SUPER_RAISE = 0.6
# Lines in this share of the page height at its top or bottom can be running heads.
_MARGIN_SHARE = 0.1
_NUMBERING = r"(?:page\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?"
_PAGE_NUMBER = re.compile(rf"^{_NUMBERING}$", re.IGNORECASE)
_NUMBER_AT_START = re.compile(rf"^{_NUMBERING}\s*[|·•–—-]?\s+")
_NUMBER_AT_END = re.compile(rf"\s+[|·•–—-]?\s*{_NUMBERING}$")
_MARKER = re.compile(r"^(?:\d{1,3}|[*†‡§])$")


@dataclass(frozen=True)
class Frag:
    """A run of text: left and right x, baseline y (up is larger), font height."""

    x0: float
    x1: float
    y: float
    size: float
    text: str
    superscript: bool = False


@dataclass
class Line:
    frags: list[Frag]
    y: float
    size: float  # the font height most of its characters have
    note_label: str | None = None  # set on the first line of a footnote
    kind: str = "text"  # text | row (table or contents row) | bullet

    @property
    def x0(self) -> float:
        return self.frags[0].x0

    @property
    def x1(self) -> float:
        return self.frags[-1].x1


@dataclass
class PageLines:
    """One page: body lines in reading order, then its footnotes' lines."""

    body: list[Line] = field(default_factory=list)
    notes: list[Line] = field(default_factory=list)


def page_fragments(page: Any) -> list[Frag]:
    """Positioned text runs of one pypdf page (empty for a page without text)."""
    from pypdf._text_extraction import _layout_mode
    from pypdf.generic import ArrayObject, ContentStream, StreamObject

    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if not isinstance(contents, ArrayObject | StreamObject):
        return []
    ops = iter(ContentStream(contents, page.pdf, "bytes").operations)
    groups = _layout_mode.text_show_operations(ops, page._layout_mode_fonts())
    return [Frag(g["tx"], g["displaced_tx"], g["ty"], g["font_height"], g["text"])
            for g in groups if g["text"].strip()]


def _mark_superscripts(frags: list[Frag]) -> list[Frag]:
    """Mark small raised digits touching a larger run as note markers, on its baseline."""
    out = []
    for f in frags:
        host = None
        if _MARKER.match(f.text.strip()):
            host = next((g for g in frags if g.size * _SUPER_RATIO >= f.size
                         and 0 < f.y - g.y <= _SUPER_RAISE * g.size
                         and min(abs(f.x0 - g.x1), abs(g.x0 - f.x1)) <= 0.5 * g.size), None)
        out.append(Frag(f.x0, f.x1, host.y, f.size, f.text.strip(), True) if host else f)
    return out


def group_lines(frags: list[Frag]) -> list[Line]:
    """Fragments sharing a baseline, top to bottom, each line left to right."""
    lines: list[Line] = []
    for f in sorted(_mark_superscripts(frags), key=lambda f: (-f.y, f.x0)):
        if lines and abs(lines[-1].y - f.y) <= 0.3 * f.size:
            lines[-1].frags.append(f)
            continue
        lines.append(Line([f], f.y, f.size))
    return [make_line(line.frags, line.y) for line in lines]


def line_text(line: Line, keep_label: bool = False) -> str:
    """The words of a line; note markers dropped (a note's own label kept if asked)."""
    out = ""
    prev: Frag | None = None
    for f in line.frags:
        if f.superscript and not (keep_label and prev is None):
            continue
        if prev is not None and not (out.endswith(" ") or f.text.startswith(" ")) \
                and f.x0 - prev.x1 > 0.15 * f.size:
            out += " "
        out += f.text
        prev = f
    return out


def _key(text: str) -> str:
    """What a running head looks like on every page: its page number (at either end)
    left out. Numbers inside the line are kept, so that similar lines of content
    ("Item 3: ...") are not taken for one repeated head."""
    text = " ".join(text.lower().split())
    text = _NUMBER_AT_START.sub("", text)
    return _NUMBER_AT_END.sub("", text)


def _edges(lines: list[Line], height: float) -> list[Line]:
    """The lines that can be running heads: at most two at the top and two at the
    bottom, set apart from the body by more than its line spacing, near the edge."""
    gaps = [a.y - b.y for a, b in zip(lines, lines[1:], strict=False)]
    if not gaps:
        return lines
    same = [g for g, a, b in zip(gaps, lines, lines[1:], strict=False) if a.size == b.size]
    wide = 1.4 * (median(same) if same else min(gaps))
    top = next((i + 1 for i in range(min(2, len(gaps))) if gaps[i] > wide), 0)
    bottom = next((i + 1 for i in range(len(gaps) - 1, max(len(gaps) - 3, -1), -1)
                   if gaps[i] > wide), len(lines))
    band = _MARGIN_SHARE * height
    # A line opening with a note number is a footnote ("14 Id."), content however often
    # it repeats.
    return [ln for ln in lines[:top] + lines[max(bottom, top):]
            if (ln.y >= lines[0].y - band or ln.y <= lines[-1].y + band)
            and not ln.frags[0].superscript]


def strip_running_heads(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Drop page numbers and lines repeated at the top or bottom of many pages."""
    edges = [_edges(lines, height) for lines, height in zip(pages, heights, strict=True)]
    counts = Counter(k for lines in edges for k in {_key(line_text(ln)) for ln in lines})
    # A head seen on a quarter of the pages (at least 3) is furniture, not content;
    # a quarter so that heads alternating between odd and even pages count too.
    repeated = {k for k, n in counts.items() if n >= max(3, len(pages) // 4)}
    out = []
    for lines, edge in zip(pages, edges, strict=True):
        drop = {id(ln) for ln in edge
                if _key(line_text(ln)) in repeated or _PAGE_NUMBER.match(line_text(ln).strip())}
        out.append([ln for ln in lines if id(ln) not in drop])
    return out


def split_notes(lines: list[Line], body_size: float) -> PageLines:
    """Separate the footnotes at the page foot: the trailing run of small-type lines,
    from the first one that starts with a note number."""
    start = len(lines)
    while start > 0 and lines[start - 1].size <= 0.85 * body_size:
        start -= 1
    first = next((i for i in range(start, len(lines)) if _label(lines[i])), None)
    if first is None:
        return PageLines(body=lines)
    for line in lines[first:]:
        line.note_label = _label(line)
    return PageLines(body=lines[:first], notes=lines[first:])


def _label(line: Line) -> str | None:
    head = line.frags[0]
    if head.superscript:
        return head.text
    match = re.match(r"\s*(\d{1,3})\s", head.text)
    return match.group(1) if match and len(line.frags) == 1 else None


def make_line(frags: list[Frag], y: float) -> Line:
    """A line of these fragments (left to right), sized by most of its characters."""
    frags = sorted(frags, key=lambda f: f.x0)
    sizes: Counter[float] = Counter()
    for f in frags:
        if not f.superscript:
            sizes[round(f.size, 1)] += len(f.text)
    size = sizes.most_common(1)[0][0] if sizes else frags[0].size
    return Line(frags, y, size)


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines as a person reads them: in a two-column stretch, the left column down
    to its end, then the right one. The gutter is found where several wide runs of
    text start near the middle of the page."""
    frags = [f for ln in lines for f in ln.frags if not f.superscript]
    if not frags:
        return lines
    left, right = min(f.x0 for f in frags), max(f.x1 for f in frags)
    width = right - left
    starts = Counter(round(f.x0) for f in frags if left + 0.3 * width < f.x0
                     < left + 0.7 * width and f.x1 - f.x0 >= 0.2 * width)
    if not starts or starts.most_common(1)[0][1] < 3:
        return lines
    gutter = starts.most_common(1)[0][0]
    out: list[Line] = []
    run: list[Line] = []
    for line in lines:
        if any(f.x0 < gutter - 2 and f.x1 > gutter + 2 for f in line.frags):
            out += _columns(run, gutter) + [line]
            run = []
        else:
            run.append(line)
    return out + _columns(run, gutter)


def _columns(run: list[Line], gutter: float) -> list[Line]:
    lefts = [make_line(fs, ln.y) for ln in run
             if (fs := [f for f in ln.frags if f.x0 < gutter - 1])]
    rights = [make_line(fs, ln.y) for ln in run
              if (fs := [f for f in ln.frags if f.x0 >= gutter - 1])]
    return lefts + rights if rights else run
