"""Recognizes questions that try to instruct the system instead of asking about documents."""

from __future__ import annotations

import re

# Why such a question is not covered (the answer reads "Not covered: " and this).
INSTRUCTIONS_REASON = (
    "this question asks the system to follow new instructions. It only answers "
    "questions about the indexed documents, with quotes from them.")

_PATTERNS = [
    (r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules?|prompts?|"
     r"documents?|above|previous|guidelines|context)\b"),
    r"\bsystem\s*prompt\b", r"^\s*(system|assistant|developer)\s*:", r"\byou are now\b",
    r"\bpretend (you are|to be)\b", r"\brepeat after me\b",
    r"\b(reply|respond|answer) (only )?with\b", r"\bjailbreak\b", r"(?-i:\bDAN\b)",
    r"\bnew rule\b", r"\byour (personal )?opinion\b",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def looks_like_injection(question: str) -> bool:
    """True when the question contains an instruction-override pattern."""
    return _INJECTION.search(question) is not None
