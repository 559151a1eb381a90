from __future__ import annotations

import pytest

from evals import metrics as M
from evals.questions import EvalQuestion

Q_ANS = EvalQuestion("a", "How many?", True, ("3,000",), "more than 3,000 children", "news")
Q_UNA = EvalQuestion("u", "Capital of France?", False, (), "", "")


def sample(q: EvalQuestion, *, refused: bool = False, quotes: tuple[tuple[str, int, int], ...] = (),
           passages: tuple[str, ...] = (), ok: tuple[bool, ...] = ()) -> M.Sample:
    cites = [{"n": i + 1, "doc_id": "news", "quote": t, "start": s, "end": e}
             for i, (t, s, e) in enumerate(quotes)]
    answer = " ".join(f"“{t}” [{i + 1}]" for i, (t, _, _) in enumerate(quotes))
    return M.Sample(q, {"answer": answer, "refused": refused, "citations": cites},
                    passages, 5.0, 10.0, 0.5, ok or tuple(True for _ in quotes))


def test_recall_and_mrr_use_the_first_passage_holding_the_evidence() -> None:
    hit2 = sample(Q_ANS, passages=("nothing", "it was more than  3,000\nchildren in all"))
    miss = sample(Q_ANS, passages=("nothing",) * 6)
    assert M.evidence_rank(hit2) == 2
    assert M.recall_at_k([hit2, miss], 1) == 0.0
    assert M.recall_at_k([hit2, miss], 5) == 0.5
    assert M.mrr([hit2, miss]) == pytest.approx(0.25)


def test_answer_accuracy_counts_refusals_as_wrong() -> None:
    right = sample(Q_ANS, quotes=(("more than 3,000 children", 10, 34),))
    refused = sample(Q_ANS, refused=True)
    assert M.answer_accuracy([right, refused]) == 0.5
    assert M.false_refusal_rate([right, refused]) == 0.5


def test_citation_precision_by_overlap_or_phrase() -> None:
    text = "Intro. It was more than 3,000 children. Other things."
    at = text.index("more than")
    s = sample(Q_ANS, quotes=(("It was more", at - 7, at + 4), ("Other things.", 40, 53)))
    assert M.citation_precision([s], {"news": text}) == 0.5


def test_refusal_accuracy_and_quote_fidelity() -> None:
    ok = sample(Q_UNA, refused=True)
    bad = sample(Q_UNA, quotes=(("x", 0, 1), ("y", 1, 2)), ok=(True, False))
    assert M.refusal_accuracy([ok, bad]) == 0.5
    assert M.quote_fidelity([ok, bad]) == 0.5


def test_metrics_refuse_empty_input_loudly() -> None:
    with pytest.raises(ValueError):
        M.recall_at_k([sample(Q_UNA)], 5)
    with pytest.raises(ValueError):
        M.refusal_accuracy([sample(Q_ANS)])
    with pytest.raises(ValueError):
        M.quote_fidelity([sample(Q_UNA, refused=True)])
    summary = M.summarize([sample(Q_UNA, refused=True)], {})
    assert summary["quote_fidelity"] is None and "quote_fidelity" in summary["not_measured"]
