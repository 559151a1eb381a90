"""The human-readable eval report (Markdown) and its PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import metrics as M

_STATES = ["answered_precision", "answered_coverage", "answer_shown_rate",
           "unanswerable_answered_rate", "false_not_covered_rate", "ece", "aurc"]
_MAIN = ["retrieval_recall_at_5", "mrr", "answer_accuracy", "quote_fidelity",
         "citation_precision", "refusal_accuracy", "false_refusal_rate", *_STATES,
         "latency_p50_ms", "latency_p95_ms", "retrieval_latency_p50_ms",
         "retrieval_latency_p95_ms"]
_RETRIEVAL = {"retrieval_recall_at_5", "mrr", "retrieval_latency_p50_ms",
              "retrieval_latency_p95_ms"}


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _plots(out: Path, samples: list[M.Sample], base: list[M.Sample] | None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = list(range(1, 11))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ks, [M.recall_at_k(samples, k) for k in ks], marker="o", label="ours (hybrid)")
    if base:
        ax.plot(ks, [M.recall_at_k(base, k) for k in ks], marker="s", label="naive baseline")
    ax.set(xlabel="k passages", ylabel="recall@k", ylim=(0, 1.02), title="Evidence recall@k")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([s.total_ms for s in samples], bins=30, alpha=0.7, label="ours: total")
    ax.hist([s.retrieve_ms for s in samples], bins=30, alpha=0.7, label="ours: retrieval")
    if base:
        ax.hist([s.retrieve_ms for s in base], bins=30, alpha=0.7, label="baseline: retrieval")
    ax.set(xlabel="milliseconds", ylabel="questions", title="Latency per question")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)

    grid = np.linspace(0.2, 0.8, 25)
    ans = [s.evidence_score for s in samples if s.question.answerable]
    una = [s.evidence_score for s in samples if not s.question.answerable and s.evidence_score]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(grid, [np.mean([a < t for a in ans]) for t in grid], label="false refusal rate")
    if una:
        ax.plot(grid, [np.mean([u < t for u in una]) for t in grid],
                label="refusal accuracy (not guarded)")
    ax.set(xlabel="min_score threshold", ylabel="share", title="Refusal threshold sweep")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "refusal_threshold.png", dpi=110)
    plt.close(fig)
    return ["recall_at_k.png", "latency.png", "refusal_threshold.png",
            *_confidence_plots(out, samples, plt)]


def _confidence_plots(out: Path, samples: list[M.Sample], plt: Any) -> list[str]:
    """Risk-coverage curve and reliability diagram of the stated confidence."""
    coverage, risk = M.risk_coverage(samples)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(coverage, risk, label=f"ours (AURC {M.aurc(samples):.3f})")
    ax.set(xlabel="coverage (most confident answers kept)", ylabel="risk (share wrong)",
           ylim=(0, 1.02), title="Risk-coverage")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "risk_coverage.png", dpi=110)
    plt.close(fig)

    conf = np.array([float(s.response.get("confidence", 0.0)) for s in samples])
    right = np.array([1.0 if M.shows_expected(s) else 0.0 for s in samples])
    edges = np.linspace(0, 1, 11)
    which = np.minimum((conf * 10).astype(int), 9)
    mids = [(edges[b] + edges[b + 1]) / 2 for b in range(10) if (which == b).any()]
    acc = [right[which == b].mean() for b in range(10) if (which == b).any()]
    sizes = [int((which == b).sum()) for b in range(10) if (which == b).any()]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar(mids, acc, width=0.09, alpha=0.7, label=f"ours (ECE {M.ece(samples):.3f})")
    for x, y, n in zip(mids, acc, sizes):
        ax.annotate(str(n), (x, y), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="stated confidence", ylabel="share right", xlim=(0, 1), ylim=(0, 1.05),
           title="Reliability (questions per bin on the bars)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=110)
    plt.close(fig)
    return ["risk_coverage.png", "reliability.png"]


def _failures(samples: list[M.Sample]) -> list[str]:
    lines = []
    for s in samples:
        q = s.question
        if q.answerable and M.status(s) == "answered" and M.answer_correct(s) \
                and (M.evidence_rank(s) or 99) <= 5:
            continue
        if not q.answerable and M.status(s) != "answered":
            continue
        if q.answerable:
            why = "not covered" if s.response["refused"] else (
                "answer lacks every expected phrase" if not M.answer_correct(s)
                else "uncertain" if M.status(s) != "answered"
                else "evidence not in top-5 passages")
            expected = " | ".join(q.expect)
        else:
            why, expected = "answered an unanswerable question", "not answered"
        shown = s.response["answer"].replace("\n", " ")
        lines.append(f"- **{q.id}** ({q.category}; {why}; confidence "
                     f"{s.response.get('confidence', 0.0):.2f})  \n"
                     f"  Q: {q.question}  \n  expected: {expected}  \n"
                     f"  answered: {shown[:400]}")
    return lines


def write_report(out: Path, samples: list[M.Sample], summary: dict[str, Any],
                 base: list[M.Sample] | None) -> Path:
    plots = _plots(out, samples, base)
    lines = ["# Evaluation report", "",
             (f"Questions: `{summary['questions']}`; n = {summary['n']} "
              f"({summary['n_answerable']} answerable)."), "",
             "| metric | ours | naive baseline | ratio / difference |", "|---|---|---|---|"]
    baseline = summary.get("baseline", {})
    for key in _MAIN:
        b = baseline.get(key) if key in _RETRIEVAL else None
        diff = ""
        if b not in (None, 0) and summary.get(key) is not None:
            diff = (f"{summary[key] / b:.2f}x" if key.endswith("_ms")
                    else f"{100 * (summary[key] - b):+.1f} points")
        lines.append(f"| {key} | {_fmt(summary.get(key))} | {_fmt(b)} | {diff} |")
    lines += ["", *[f"![{p}]({p})" for p in plots], ""]
    if summary.get("previous_scorer"):
        lines += ["## The reader vs the learned scorer it replaced", "",
                  "| judge | " + " | ".join(_STATES + ["answer_accuracy", "latency_p95_ms"])
                  + " |", "|---" * (len(_STATES) + 3) + "|"]
        for name, row in (("reader (default)", summary),
                          ("learned scorer (previous)", summary["previous_scorer"])):
            lines.append(f"| {name} | " + " | ".join(
                _fmt(row.get(c)) for c in _STATES + ["answer_accuracy", "latency_p95_ms"])
                + " |")
        lines.append("")
    if summary.get("compare"):
        cols = ["answer_accuracy", "refusal_accuracy", "false_refusal_rate",
                "citation_precision", "quote_fidelity", "sentences_supported_share",
                "latency_p50_ms", "latency_p95_ms", "time_to_first_token_p50_ms",
                "time_to_first_token_p95_ms"]
        lines += [f"## Extractive vs llm mode ({summary.get('llm_model', '')})", "",
                  "| mode | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for name, row in summary["compare"].items():
            lines.append(f"| {name} | " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
        lines.append("")
    if summary.get("ablation"):
        cols = ["retrieval_recall_at_5", "mrr", "answer_accuracy", "citation_precision",
                "refusal_accuracy", "false_refusal_rate", "latency_p50_ms"]
        lines += ["## Ablation (each stage changed in turn)", "",
                  "| variant | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|",
                  "| **full pipeline** | " + " | ".join(_fmt(summary.get(c)) for c in cols) + " |"]
        for row in summary["ablation"]:
            lines.append(f"| {row['variant']} | " + " | ".join(_fmt(row.get(c)) for c in cols)
                         + " |")
        lines.append("")
    failures = _failures(samples)
    lines += [f"## Failures ({len(failures)})", "", *(failures or ["None."]), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
