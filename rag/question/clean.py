"""Checks on a question before any work is done for it."""

from __future__ import annotations

import unicodedata

from rag.errors import QuestionError
from rag.vocabulary import CONTROL



def clean_question(raw: object, max_chars: int) -> str:
    """Return the question trimmed and NFKC-normalized.

    Raises `QuestionError` when it is not text, empty, over `max_chars`, or
    mostly control characters (binary pasted into the box).
    """
    if not isinstance(raw, str):
        raise QuestionError("the question must be text")
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise QuestionError("the question is empty; type a question about the documents")
    if len(text) > max_chars:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is "
                            f"{max_chars}. Shorten it.")
    if len(CONTROL.findall(text)) > max(2, len(text) // 20):
        raise QuestionError("the question contains binary or control characters; "
                            "type it as plain text")
    return " ".join(CONTROL.sub(" ", text).split())
