"""Eval metrics: small pure functions over one shared sample vocabulary.

Every metric refuses empty input loudly (`ValueError`) instead of returning a
flattering default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .questions import EvalQuestion


@dataclass(frozen=True)
class Sample:
    """One question as run: what was asked, retrieved and answered."""

    question: EvalQuestion
    response: dict[str, Any]               # the `rag ask --json` object
    passages: tuple[str, ...]              # retrieved passage texts, best first
    retrieve_ms: float
    total_ms: float
    evidence_score: float = 0.0
    quotes_ok: tuple[bool, ...] = field(default=())  # per citation: verbatim at its offsets
    first_token_ms: float | None = None  # llm mode
    generated: int = 0                   # llm mode: sentences the model wrote
    supported: int = 0                   # ...and how many passed the support check


def fold(text: str) -> str:
    """Case, quote-style and space folding used to match an answer phrase."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split()).lower()


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(a random positive outscores a random negative), ties counted half."""
    if not len(pos) or not len(neg):
        return float("nan")
    allv = np.concatenate([np.asarray(pos, float), np.asarray(neg, float)])
    ranks = _ranks(allv)
    r_pos = ranks[:len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v))
    sv = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def evidence_rank(sample: Sample) -> int | None:
    """1-based rank of the first passage containing the evidence span, or None."""
    needle = _squash(sample.question.evidence)
    for rank, passage in enumerate(sample.passages, start=1):
        if needle and needle in _squash(passage):
            return rank
    return None


def _answerable(samples: list[Sample]) -> list[Sample]:
    got = [s for s in samples if s.question.answerable]
    if not got:
        raise ValueError("no answerable questions to measure")
    return got


def _unanswerable(samples: list[Sample]) -> list[Sample]:
    got = [s for s in samples if not s.question.answerable]
    if not got:
        raise ValueError("no unanswerable questions to measure")
    return got


def recall_at_k(samples: list[Sample], k: int) -> float:
    ranks = [evidence_rank(s) for s in _answerable(samples)]
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(samples: list[Sample]) -> float:
    ranks = [evidence_rank(s) for s in _answerable(samples)]
    return float(np.mean([1.0 / r if r else 0.0 for r in ranks]))


def answer_correct(sample: Sample) -> bool:
    """Not refused, and the answer or a cited quote contains an expected phrase."""
    if sample.response["refused"]:
        return False
    shown = _squash(sample.response["answer"] + " " + " ".join(
        c["quote"] for c in sample.response["citations"]))
    return any(_squash(e) in shown for e in sample.question.expect)


def answer_accuracy(samples: list[Sample]) -> float:
    got = _answerable(samples)
    return sum(answer_correct(s) for s in got) / len(got)


def quote_fidelity(samples: list[Sample]) -> float:
    flags = [ok for s in samples for ok in s.quotes_ok]
    if not flags:
        raise ValueError("no quotes were shown, so fidelity cannot be measured")
    return sum(flags) / len(flags)


def citation_relevant(sample: Sample, citation: dict[str, Any], doc_text: str | None) -> bool:
    """The quote overlaps the evidence span in its document, or holds an expected phrase."""
    quote = _squash(citation["quote"])
    if any(_squash(e) in quote for e in sample.question.expect):
        return True
    if doc_text is None:
        return False
    at = doc_text.find(sample.question.evidence)
    while at >= 0:
        if citation["start"] < at + len(sample.question.evidence) and at < citation["end"]:
            return True
        at = doc_text.find(sample.question.evidence, at + 1)
    return False


def answer_on_page(sample: Sample, doc_text: str | None) -> bool:
    """A relevant quote of the answer is cited with the page the question file gives."""
    return any(c.get("page") == sample.question.page and citation_relevant(sample, c, doc_text)
               for c in sample.response["citations"])


def page_accuracy(samples: list[Sample], doc_texts: dict[str, str]) -> float:
    """Share of answerable questions with a `page` whose answer cites that page."""
    got = [s for s in _answerable(samples) if s.question.page is not None]
    if not got:
        raise ValueError("no answerable question gives a page")
    return sum(answer_on_page(s, doc_texts.get(s.question.doc)) for s in got) / len(got)


def citation_precision(samples: list[Sample], doc_texts: dict[str, str]) -> float:
    pairs = [(s, c) for s in _answerable(samples) for c in s.response["citations"]]
    if not pairs:
        raise ValueError("no citations on answerable questions")
    return sum(citation_relevant(s, c, doc_texts.get(c["doc_id"])) for s, c in pairs) / len(pairs)


def refusal_accuracy(samples: list[Sample]) -> float:
    got = _unanswerable(samples)
    return sum(bool(s.response["refused"]) for s in got) / len(got)


def false_refusal_rate(samples: list[Sample]) -> float:
    got = _answerable(samples)
    return sum(bool(s.response["refused"]) for s in got) / len(got)


def status(sample: Sample) -> str:
    """answered | uncertain | not_covered (older result files: from `refused`)."""
    return str(sample.response.get("status")
               or ("not_covered" if sample.response["refused"] else "answered"))


def shows_expected(sample: Sample) -> bool:
    """An expected phrase is in the answer or its quotes, whatever the status said."""
    if not sample.question.answerable or status(sample) == "not_covered":
        return False
    shown = _squash(sample.response["answer"] + " " + " ".join(
        (c.get("lead") or "") + " " + c["quote"] for c in sample.response["citations"]))
    return any(_squash(e) in shown for e in sample.question.expect)


def answered_precision(samples: list[Sample]) -> float:
    """Of the answers presented as answers, the share that hold an expected phrase
    (an unanswerable question answered counts against it)."""
    got = [s for s in samples if status(s) == "answered"]
    if not got:
        raise ValueError("no answer had status 'answered'")
    return sum(shows_expected(s) for s in got) / len(got)


def answered_coverage(samples: list[Sample]) -> float:
    got = _answerable(samples)
    return sum(status(s) == "answered" and shows_expected(s) for s in got) / len(got)


def answer_shown_rate(samples: list[Sample]) -> float:
    """Answerable questions whose expected phrase is shown, answered or uncertain."""
    got = _answerable(samples)
    return sum(shows_expected(s) for s in got) / len(got)


def unanswerable_answered_rate(samples: list[Sample]) -> float:
    got = _unanswerable(samples)
    return sum(status(s) == "answered" for s in got) / len(got)


def false_not_covered_rate(samples: list[Sample]) -> float:
    got = _answerable(samples)
    return sum(status(s) == "not_covered" for s in got) / len(got)


def _confidence_and_correct(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the stated confidence, and whether what was shown answers it
    (for an unanswerable question, nothing shown is an answer)."""
    if not samples:
        raise ValueError("no samples")
    conf = np.array([float(s.response.get("confidence", 0.0)) for s in samples])
    right = np.array([1.0 if shows_expected(s) else 0.0 for s in samples])
    return conf, right


def ece(samples: list[Sample], bins: int = 10) -> float:
    """Expected calibration error of `confidence` (equal-width bins, weighted by size)."""
    conf, right = _confidence_and_correct(samples)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(conf[which == b].mean() - right[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(conf))


def risk_coverage(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, risk) when only the k most confident answers are kept, k = 1..n."""
    conf, right = _confidence_and_correct(samples)
    order = np.argsort(-conf, kind="stable")
    errors = np.cumsum(1.0 - right[order])
    k = np.arange(1, len(conf) + 1)
    return k / len(conf), errors / k


def aurc(samples: list[Sample]) -> float:
    """Area under the risk-coverage curve (lower is better)."""
    _, risk = risk_coverage(samples)
    return float(risk.mean())


def percentile(values: list[float], q: float) -> float:
    if not values:
        raise ValueError("no latencies to summarize")
    return float(np.percentile(values, q))


def supported_share(samples: list[Sample]) -> float:
    """Share of generated sentences that passed the support check (llm mode)."""
    generated = sum(s.generated for s in samples)
    if not generated:
        raise ValueError("no generated sentences (not llm mode, or every question refused)")
    return sum(s.supported for s in samples) / generated


def ttft(samples: list[Sample], q: float) -> float:
    return percentile([s.first_token_ms for s in samples if s.first_token_ms is not None], q)


def summarize(samples: list[Sample], doc_texts: dict[str, str]) -> dict[str, Any]:
    """The summary.json keys; a metric that cannot be computed is null (with why)."""
    out: dict[str, Any] = {"n": len(samples),
                           "n_answerable": sum(s.question.answerable for s in samples)}
    metrics = {
        "retrieval_recall_at_5": lambda: recall_at_k(samples, 5),
        "mrr": lambda: mrr(samples),
        "answer_accuracy": lambda: answer_accuracy(samples),
        "quote_fidelity": lambda: quote_fidelity(samples),
        "citation_precision": lambda: citation_precision(samples, doc_texts),
        "refusal_accuracy": lambda: refusal_accuracy(samples),
        "false_refusal_rate": lambda: false_refusal_rate(samples),
        "answered_precision": lambda: answered_precision(samples),
        "answered_coverage": lambda: answered_coverage(samples),
        "answer_shown_rate": lambda: answer_shown_rate(samples),
        "unanswerable_answered_rate": lambda: unanswerable_answered_rate(samples),
        "false_not_covered_rate": lambda: false_not_covered_rate(samples),
        "ece": lambda: ece(samples),
        "aurc": lambda: aurc(samples),
        "latency_p50_ms": lambda: percentile([s.total_ms for s in samples], 50),
        "latency_p95_ms": lambda: percentile([s.total_ms for s in samples], 95),
        "retrieval_latency_p50_ms": lambda: percentile([s.retrieve_ms for s in samples], 50),
        "retrieval_latency_p95_ms": lambda: percentile([s.retrieve_ms for s in samples], 95),
    }
    if any(s.question.page is not None for s in samples):
        metrics["answer_page_accuracy"] = lambda: page_accuracy(samples, doc_texts)
    if any(s.generated for s in samples):
        metrics.update({
            "sentences_supported_share": lambda: supported_share(samples),
            "time_to_first_token_p50_ms": lambda: ttft(samples, 50),
            "time_to_first_token_p95_ms": lambda: ttft(samples, 95),
        })
    for name, fn in metrics.items():
        try:
            out[name] = round(fn(), 4)
        except ValueError as exc:
            out[name] = None
            out.setdefault("not_measured", {})[name] = str(exc)
    return out


def retrieval_summary(samples: list[Sample]) -> dict[str, Any]:
    """Only the retrieval metrics (for the baseline, which does not answer)."""
    return {
        "retrieval_recall_at_5": round(recall_at_k(samples, 5), 4),
        "mrr": round(mrr(samples), 4),
        "retrieval_latency_p50_ms": round(percentile([s.retrieve_ms for s in samples], 50), 4),
        "retrieval_latency_p95_ms": round(percentile([s.retrieve_ms for s in samples], 95), 4),
    }
