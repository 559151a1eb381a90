"""Words of the generated report: footnote marks, hyphenation halves, reading them back."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Word:
    text: str
    note: str | None = None  # footnote attached after this word
    whole: str | None = None  # set on the first half of a word hyphenated at a line end
    compound: bool = False    # ...which was split at its own hyphen


def words_of(text: str) -> list[Word]:
    """Split a paragraph into words, attaching each "{{note}}" to the word before it."""
    out: list[Word] = []
    for piece in re.split(r"(\{\{.*?\}\})", text):
        if piece.startswith("{{"):
            out[-1].note = piece[2:-2]
            continue
        out.extend(Word(w) for w in piece.split())
    return out


def roman(n: int) -> str:
    vals = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for value, numeral in vals:
        while n >= value:
            out, n = out + numeral, n - value
    return out


def read_words(words: list[Word]) -> str:
    """Words as a reader reads them: hyphenated halves joined, a compound's hyphen kept."""
    out = ""
    for n, word in enumerate(words):
        split = n > 0 and words[n - 1].whole is not None
        if split and not words[n - 1].compound:
            out = out[:-1] + word.text
        else:
            out = out + word.text if split else f"{out} {word.text}".strip()
    return out


def sentence_around(lines: list[list[Word]], i: int) -> str | None:
    """The sentence that runs from line i-1 into line i (None if one ends there)."""
    flat = [w for ln in lines for w in ln]
    cut = sum(len(ln) for ln in lines[:i])
    while cut > 0 and not re.search(r"[.!?:]$", flat[cut - 1].text):
        cut -= 1
    end = sum(len(ln) for ln in lines[:i])
    if cut == end:
        return None
    while end < len(flat) and not re.search(r"[.!?]$", flat[end].text):
        end += 1
    return read_words(flat[cut:end + 1])
