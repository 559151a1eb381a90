"""Generate the fixture report: a report-grade PDF written for the tests (fpdf2, offline).

    python -m devtools.report.make_report OUT.pdf [--pages 64]

What a long government report has, on purpose: a title page, a table of contents,
a running header and footer on every page with page numbers (roman for the front
matter), numbered footnotes (superscript markers, notes at the page foot), words
hyphenated at line ends (and compounds such as "family-unit" broken at their own
hyphen), a two-column executive summary, a table, bulleted lists and a sentence
that continues across a page break. `build` returns what it laid out where
(`Layout`), so tests can check the ingest against it.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

from devtools.report import content as C
from devtools.report.words import Word, roman, sentence_around, words_of

PAGE_W, PAGE_H, MARGIN = 612.0, 792.0, 72.0
BODY, LEAD = 11.0, 14.0          # body font size and line pitch
NOTE, NOTE_LEAD = 8.0, 10.0      # footnotes
GUTTER = 24.0
BOTTOM = PAGE_H - 66.0           # lowest body baseline (the footer sits below)
_VOWELS = set("aeiouy")


@dataclass
class Layout:
    """Where things ended up (1-based physical page numbers)."""

    pages: int = 0
    section_pages: dict[str, str] = field(default_factory=dict)   # heading -> printed label
    hyphenated: list[tuple[str, int]] = field(default_factory=list)  # word split at a line end
    compounds_broken: list[tuple[str, int]] = field(default_factory=list)  # at their own "-"
    notes: list[tuple[int, str, int]] = field(default_factory=list)  # number, text, page
    page_crossings: list[tuple[str, int]] = field(default_factory=list)  # sentence, start page
    column_crossings: list[str] = field(default_factory=list)  # sentence: left col -> right


class Writer:
    """A small typesetter: ragged-right lines, footnotes at the page foot, columns."""

    def __init__(self, toc: dict[str, str]) -> None:
        self.pdf = FPDF(unit="pt", format="letter")
        self.pdf.core_fonts_encoding = "windows-1252"  # curly quotes, dashes and bullets
        self.pdf.set_auto_page_break(False)
        self.pdf.set_title(C.TITLE)
        self.toc, self.layout = toc, Layout()
        self.front, self.number, self.note_no = True, 0, 0
        self.notes: list[tuple[int, list[str]]] = []
        self.cols: int = 1
        self.col = 0
        self.y = 0.0

    # -- pages -----------------------------------------------------------------------

    def new_page(self) -> None:
        if self.pdf.page:
            self._flush_notes()
        self.pdf.add_page()
        self.number += 1
        label = roman(self.number) if self.front else str(self.number)
        self.pdf.set_font("helvetica", size=8)
        self.pdf.text(MARGIN, 40, C.HEADER[0])
        self.pdf.text(PAGE_W - MARGIN - self.pdf.get_string_width(C.HEADER[1]), 40, C.HEADER[1])
        self.pdf.line(MARGIN, 46, PAGE_W - MARGIN, 46)
        self.pdf.text(MARGIN, PAGE_H - 40, C.REPORT_NO)
        page_label = f"Page {label}"
        self.pdf.text(PAGE_W - MARGIN - self.pdf.get_string_width(page_label), PAGE_H - 40,
                      page_label)
        self.label = label
        self.y = MARGIN + BODY
        self.col = 0

    def start_body(self) -> None:
        self.front, self.number = False, 0
        self.new_page()

    def _notes_height(self, extra: list[list[str]]) -> float:
        lines = sum(len(ls) for _, ls in self.notes) + sum(len(ls) for ls in extra)
        return (12.0 + lines * NOTE_LEAD) if lines else 0.0

    def _flush_notes(self) -> None:
        if not self.notes:
            return
        y = BOTTOM + 6 - self._notes_height([]) + 12.0
        self.pdf.line(MARGIN, y - 12.0, MARGIN + 144, y - 12.0)
        for number, lines in self.notes:
            self.pdf.set_font("helvetica", size=5.5)
            self.pdf.text(MARGIN, y - 3, str(number))
            self.pdf.set_font("helvetica", size=NOTE)
            for line in lines:
                self.pdf.text(MARGIN + 6, y, line)
                y += NOTE_LEAD
        self.notes = []

    # -- lines -----------------------------------------------------------------------

    def _x_width(self) -> tuple[float, float]:
        if self.cols == 1:
            return MARGIN, PAGE_W - 2 * MARGIN
        width = (PAGE_W - 2 * MARGIN - GUTTER) / 2
        return MARGIN + self.col * (width + GUTTER), width

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        self.pdf.set_font("helvetica", size=size)
        lines, line = [], ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if line and self.pdf.get_string_width(trial) > width:
                lines.append(line)
                trial = word
            line = trial
        return lines + [line]

    def _room(self, notes: list[list[str]], lead: float) -> bool:
        return self.y + lead <= BOTTOM - self._notes_height(notes) + 6

    def _advance(self, lead: float, notes: list[list[str]]) -> None:
        """Move to the next line, to the next column or page when this one is full."""
        if self._room(notes, lead):
            return
        if self.cols == 2 and self.col == 0:
            self.col, self.y = 1, self.col_top
            self.column_switched = True
            return
        self.new_page()
        if self.cols == 2:
            self.col_top = self.y

    def paragraph(self, text: str, size: float = BODY, lead: float = LEAD, indent: float = 0,
                  bullet: str | None = None, style: str = "") -> None:
        words = words_of(text)
        forced = [i for i, w in enumerate(words) if w.text == "{break}"]
        words = [w for w in words if w.text != "{break}"]
        x0, width = self._x_width()
        self.pdf.set_font("helvetica", style=style, size=size)
        lines = self._break_lines(words, width - indent)
        for i, line in enumerate(lines):
            notes = [self._wrap(w.note, PAGE_W - 2 * MARGIN - 6, NOTE) for w in line if w.note]
            starts_at = sum(len(ln) for ln in lines[:i])
            if forced and forced[0] <= starts_at and i:
                forced = []
                if sentence := sentence_around(lines, i):
                    self.layout.page_crossings.append((sentence, self.pdf.page))
                self.new_page()
            page_before, self.column_switched = self.pdf.page, False
            self._advance(lead, notes)
            sentence = sentence_around(lines, i) if i else None
            if sentence and self.pdf.page != page_before:
                self.layout.page_crossings.append((sentence, page_before))
            if sentence and self.column_switched:
                self.layout.column_crossings.append(sentence)
            x0, width = self._x_width()
            if bullet and i == 0:
                self.pdf.set_font("helvetica", size=size)
                self.pdf.text(x0 + indent - 12, self.y, bullet)
            self._draw_line(line, x0 + indent, size, style)
            self.y += lead

    def _break_lines(self, words: list[Word], width: float) -> list[list[Word]]:
        """Fill lines up to `width` in the current font, hyphenating where a word
        does not fit."""
        lines: list[list[Word]] = [[]]
        used = 0.0
        space = self.pdf.get_string_width(" ")
        queue = list(words)
        while queue:
            word = queue.pop(0)
            w = self.pdf.get_string_width(word.text) + (space if lines[-1] else 0)
            if used + w <= width or not lines[-1]:
                lines[-1].append(word)
                used += w
                continue
            head, tail = self._split(word, width - used - space)
            if head is not None and tail is not None:
                lines[-1].append(head)
                queue.insert(0, tail)
            else:
                queue.insert(0, word)
            lines.append([])
            used = 0.0
        return [ln for ln in lines if ln]

    def _split(self, word: Word, room: float) -> tuple[Word | None, Word | None]:
        """Hyphenate `word` to fit `room`: at its own hyphen, else between syllables."""
        text = word.text
        if "-" in text[1:-1]:
            head = text[:text.index("-") + 1]
            if self.pdf.get_string_width(head) <= room:
                return Word(head, whole=text, compound=True), Word(text[len(head):], word.note)
            return None, None
        core = re.match(r"[A-Za-z]+", text)
        if not core or len(core.group()) < 8 or room < 60:
            return None, None
        letters = core.group()
        for k in range(len(letters) - 3, 2, -1):
            if letters[k - 1].lower() in _VOWELS and letters[k].lower() not in _VOWELS \
                    and letters[k + 1].lower() in _VOWELS \
                    and self.pdf.get_string_width(letters[:k] + "-") <= room:
                return Word(letters[:k] + "-", whole=letters), Word(text[k:], word.note)
        return None, None

    def _draw_line(self, line: list[Word], x: float, size: float, style: str) -> None:
        run = ""
        for n, word in enumerate(line):
            run += ("" if n == 0 else " ") + word.text
            if word.note is None and n < len(line) - 1:
                continue
            self.pdf.set_font("helvetica", style=style, size=size)
            self.pdf.text(x, self.y, run)
            x += self.pdf.get_string_width(run)
            run = ""
            if word.note is not None:
                self.note_no += 1
                self.notes.append((self.note_no, self._wrap(word.note,
                                                            PAGE_W - 2 * MARGIN - 6, NOTE)))
                self.layout.notes.append((self.note_no, word.note, self.pdf.page))
                self.pdf.set_font("helvetica", size=7)
                self.pdf.text(x, self.y - 4, str(self.note_no))
                x += self.pdf.get_string_width(str(self.note_no))
        last = line[-1]
        if last.whole:
            target = self.layout.compounds_broken if last.compound else self.layout.hyphenated
            target.append((last.whole, self.pdf.page))

    # -- blocks ----------------------------------------------------------------------

    def heading(self, text: str) -> None:
        self.y += 10
        if self.y + 3 * LEAD > BOTTOM - self._notes_height([]):
            self.new_page()  # keep a heading with what follows it
        self.layout.section_pages[text] = self.label
        self.paragraph(text, size=14, lead=20, style="B")
        self.y += 4

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.paragraph(item, indent=18, bullet="\u2022")
            self.y += 3
        self.y += 6

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.y += 4
        if self.y + (len(rows) + 2) * 13 > BOTTOM - self._notes_height([]):
            self.new_page()
        self.pdf.set_font("helvetica", style="B", size=9.5)
        self.pdf.text(MARGIN, self.y, "Table 1: Referrals and prosecutions by district, "
                      "May to June 2018")
        self.y += 16
        stops = [MARGIN, MARGIN + 200, MARGIN + 300, MARGIN + 400]
        for r, row in enumerate([header] + rows):
            self.pdf.set_font("helvetica", style="B" if r == 0 else "", size=9.5)
            for c, cell in enumerate(row):
                x = stops[c] if c == 0 else stops[c] + 60 - self.pdf.get_string_width(cell)
                self.pdf.text(x, self.y, cell)
            self.y += 13
        self.y += 10

    def columns(self, paragraphs: list[str]) -> None:
        """Two columns, filled left then right, page after page."""
        self.cols, self.col_top = 2, self.y
        for text in paragraphs:
            self.paragraph(text)
            self.y += 6
        self.cols = 1

    def title_page(self) -> None:
        self.new_page()
        self.pdf.set_font("helvetica", style="B", size=20)
        y = 220.0
        for line in self._wrap(C.TITLE, PAGE_W - 2 * MARGIN, 20):
            self.pdf.set_font("helvetica", style="B", size=20)
            self.pdf.text(MARGIN, y, line)
            y += 26
        self.pdf.set_font("helvetica", size=12)
        for line in [C.REPORT_NO, "March 2021", "",
                     "This document is a test fixture. Its districts, people and figures "
                     "are fictional."]:
            for part in self._wrap(line, PAGE_W - 2 * MARGIN, 12) if line else [""]:
                self.pdf.text(MARGIN, y + 20, part)
                y += 16

    def contents(self, headings: list[str]) -> None:
        self.new_page()
        self.paragraph("Table of Contents", size=14, lead=24, style="B")
        self.pdf.set_font("helvetica", size=BODY)
        for text in ["Executive Summary"] + headings:
            label = self.toc.get(text, "?")
            dots_w = PAGE_W - 2 * MARGIN - self.pdf.get_string_width(f"{text}  {label}")
            dots = "." * int(dots_w / self.pdf.get_string_width("."))
            self.pdf.text(MARGIN, self.y, f"{text} {dots[:-2]} {label}")
            self.y += LEAD + 4


def _render(toc: dict[str, str], pages: int) -> Writer:
    blocks = C.body(pages)
    headings = [b[1] for b in blocks if b[0] == "h1"]
    w = Writer(toc)
    w.title_page()
    w.contents(headings)
    w.new_page()
    w.heading("Executive Summary")
    w.columns(C.EXECUTIVE_SUMMARY)
    w.start_body()
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            w.heading(block[1])
        elif kind == "p":
            w.paragraph(block[1])
            w.y += 6
        elif kind == "ul":
            w.bullets(block[1])
        elif kind == "table":
            w.table(block[1], block[2])
    w._flush_notes()
    w.layout.pages = w.pdf.page
    return w


def build(path: Path, pages: int = 64) -> Layout:
    """Write the report to `path` (about `pages` pages); return what went where.

    Two passes: the first finds on which page each section starts, for the
    table of contents of the second.
    """
    first = _render({}, pages)
    toc = dict(first.layout.section_pages)
    final = _render(toc, pages)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    final.pdf.output(str(path))
    return final.layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=64)
    args = parser.parse_args()
    layout = build(args.out, args.pages)
    print(f"{args.out}: {layout.pages} pages, {len(layout.notes)} footnotes, "
          f"{len(layout.hyphenated)} hyphenated words")


if __name__ == "__main__":
    main()
