"""Rule-based rewriting of a follow-up question into a standalone one.

"And who drafted it?" after "When did Sessions announce the zero-tolerance policy?"
becomes "Who drafted the zero-tolerance policy?". With no model configured this is
the rewrite every front end gets (through `Pipeline.ask(question, history)`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_LEAD = re.compile(r"^\s*(and|also|so|but|then|ok(ay)?|what about|how about)\b[\s,]*", re.IGNORECASE)
_THING = re.compile(r"\b(it|its|this|that|these|those)\b", re.IGNORECASE)
_PERSON = re.compile(r"\b(he|she|him|her|his|they|them|their)\b", re.IGNORECASE)
_LAST_NP = re.compile(r"\b(?:the|a|an|this|that|its|his|her|their)\s+([^?.,;]+?)\s*[?.!]*$", re.IGNORECASE)
# Verbs that end questions ("when will the dredging begin?") and are not part of the
# noun phrase a pronoun stands for.
_TRAILING_VERBS = {"begin", "start", "end", "happen", "occur", "take", "say", "mean", "do",
                   "work", "come", "go", "be", "have", "was", "were", "is", "are", "said",
                   "took", "began", "ended", "released", "announced", "signed", "issued"}
_NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)\b")
_QUESTION_WORDS = {"What", "When", "Who", "Whom", "Whose", "Which", "Why", "How", "Where",
                   "Did", "Does", "Do", "Is", "Are", "Was", "Were", "Can", "Could", "Should",
                   "Would", "Will", "According", "The", "A", "An", "In", "On"}


def last_user_question(history: Sequence[dict[str, Any]] | None) -> str | None:
    for turn in reversed(history or []):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"]).strip()
    return None


def is_follow_up(question: str) -> bool:
    """Starts like a continuation, or leans on a pronoun, and is short."""
    led = _LEAD.match(question)
    body = question[led.end():] if led else question
    return bool(led or _THING.search(body) or _PERSON.search(body)) and len(body.split()) <= 12


def rewrite(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """Return `question` made standalone using the previous user question, or as is."""
    previous = last_user_question(history)
    if not previous:
        return question
    if not is_follow_up(question):
        return question
    led = _LEAD.match(question)
    body = question[led.end():] if led else question
    thing, person = _THING.search(body), _PERSON.search(body)
    body = body[:1].upper() + body[1:]
    if thing:
        np = _LAST_NP.search(previous)
        if np:
            words = np.group(1).split()
            while len(words) > 1 and words[-1].lower() in _TRAILING_VERBS:
                words.pop()
            possessive = "'s" if thing.group(1).lower() == "its" else ""
            return _THING.sub(f"the {' '.join(words)}{possessive}", body, count=1)
    if person:
        names = [n for n in _NAME.findall(previous) if n.split()[0] not in _QUESTION_WORDS]
        if names:
            name = names[0]
            return _PERSON.sub(lambda m: name + ("'s" if m.group(1).lower() in
                                                 ("his", "her", "their") else ""), body, count=1)
    return f"{body.rstrip('?')} (about: {previous.rstrip('?')})?"
