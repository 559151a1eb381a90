"""The llm-mode support check, measured on sentences built from the dev set's evidence."""

from __future__ import annotations

from collections import Counter

from evals.questions import load_questions
from evals.support_check import cases
from rag.llm.generate import SupportChecker

from .conftest import ROOT


def test_support_check_rejects_the_errors_and_keeps_faithful_sentences() -> None:
    evidence = list(dict.fromkeys(q.evidence for q in load_questions(
        ROOT / "evals" / "questions.jsonl") if q.answerable))
    checker = SupportChecker(lambda w: 1.0, 0.5)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for kind, sentence, cited, expected in cases(evidence):
        total[kind] += 1
        right[kind] += checker.check(sentence, [cited]) == expected
    rate = {k: right[k] / total[k] for k in total}
    assert rate["error: changed number"] == 1.0
    assert rate["error: unrelated sentence"] == 1.0
    assert rate["error: swapped name"] >= 0.95 and rate["error: inserted negation"] >= 0.95
    assert rate["faithful: evidence restated"] == rate["faithful: first part only"] == 1.0
