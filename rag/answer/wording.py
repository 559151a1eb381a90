"""What an answer says in words, by state: the one place these sentences are made.

Front ends never parse them back: they read `Answer.status` and `Answer.reason`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import AnswerStatus, Citation

NOT_COVERED_REASON = ("the indexed documents do not answer this question, so no quote is "
                      "offered as an answer.")
UNCERTAIN_TITLE = "The documents may not answer this directly."
UNCERTAIN = f"{UNCERTAIN_TITLE} These are the closest passages:"


def not_covered(reason: str = NOT_COVERED_REASON) -> str:
    """The answer text of a `not_covered` answer for `reason`."""
    return f"Not covered: {reason}"


NOT_COVERED = not_covered()


def quoted(c: Citation) -> str:
    """One quote as it stands in an answer's text: “…” [n]."""
    return f"“{c.printed}” [{c.n}]"


def answer_text(status: AnswerStatus, citations: Sequence[Citation]) -> str:
    """The text of an `answered` or `uncertain` answer made of `citations`."""
    body = " ".join(quoted(c) for c in citations)
    return body if status == "answered" else f"{UNCERTAIN} {body}"
