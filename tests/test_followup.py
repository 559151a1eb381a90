from __future__ import annotations

import pytest

from rag.question.followup import rewrite

PREVIOUS = [{"role": "user", "content": "When did Sessions announce the zero-tolerance policy?"},
            {"role": "assistant", "content": "“In April 2018, ...” [1]"}]


@pytest.mark.parametrize("question,expected", [
    ("and who drafted it?", "Who drafted the zero-tolerance policy?"),
    ("What did he say on the May call?", "What did Sessions say on the May call?"),
    ("And how many children were separated?",
     "How many children were separated (about: When did Sessions announce the "
     "zero-tolerance policy)?"),
    ("Who chairs the reunification task force?", "Who chairs the reunification task force?"),
])
def test_follow_ups_become_standalone(question: str, expected: str) -> None:
    assert rewrite(question, PREVIOUS) == expected


def test_without_history_the_question_is_unchanged() -> None:
    assert rewrite("and who drafted it?", None) == "and who drafted it?"
    assert rewrite("and who drafted it?", [{"role": "assistant", "content": "hi"}]) == (
        "and who drafted it?")
