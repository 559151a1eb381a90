"""Train the answer scorer on synthetic documents and questions (never on an eval set).

    python -m evals.train_scorer [--synth evals/synth] [--out rag/answer/answer_scorer.json]

The training data (evals/synth/, see its README) is invented documents on other
subjects than the project's, with questions on them: answerable ones with their
answer phrase, and on-topic traps they do not answer. The documents are indexed
together with the real corpus (as distractors; no question is asked of it), and
every question is asked through the same `Pipeline.evidence` that answers users.
Each window it returns becomes one training row, labelled 1 when the window holds
the question's answer phrase. Each answerable question is asked a second time with
its source document left out of the index: a near miss with realistic features
(the other documents may share its words, not its answer).

The model is an L2-regularized logistic regression over `rag.answer.features` (fitted by
Newton's method in numpy: small, exact, no new dependency). Before the final fit,
a leave-one-document-out run reports how it does on documents it has not seen:
top-window accuracy on answerable questions, and how well its best window's score
separates answerable from unanswerable (AUC). Calibration and the state bars are
fitted afterwards on the dev set by `python -m evals.calibrate`.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag import Pipeline, Settings
from rag.answer.features import NAMES
from rag.answer.scorer import (ARTEFACT_VERSION, DEFAULT_ARTEFACT, QUESTION_EXTRA, Linear,
                               fitted_with, question_row, sigmoid)

from .metrics import auc, fold

SHARED = Path("../shared/corpus")


@dataclass
class Asked:
    """One synthetic question asked once: its windows' features and labels."""

    qid: int
    doc: str
    answerable: bool  # the answer is in one of the windows shown
    x: np.ndarray
    y: np.ndarray


def load_synthetic(folder: Path) -> list[dict[str, object]]:
    """Questions of evals/synth/questions/*.jsonl, each with `doc` = its file's stem."""
    rows = []
    for path in sorted((folder / "questions").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append({**json.loads(line), "doc": path.stem})
    if not rows:
        raise SystemExit(f"no questions under {folder / 'questions'}")
    return rows


def ask_all(pipeline: Pipeline, questions: list[dict[str, object]]) -> list[Asked]:
    out: list[Asked] = []
    for qid, q in enumerate(tqdm(questions, desc="asking", unit="question")):
        runs: list[tuple[str, ...]] = [()]
        if q["answerable"]:
            runs.append((str(q["doc"]),))
        for exclude in runs:
            ev = pipeline.evidence(str(q["question"]), None, exclude_docs=exclude)
            if not ev.windows:
                continue
            answer = fold(str(q["answer"]))
            y = np.array([1.0 if answer and answer in fold(w.quote.printed) else 0.0
                          for w in ev.windows])
            x = np.stack([w.features for w in ev.windows])
            out.append(Asked(qid, str(q["doc"]), bool(y.any()), x, y))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 iterations: int = 50) -> Linear:
    """Standardize, then Newton's method on the L2-penalized log-loss."""
    mean, scale = _standardization(x)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = sigmoid(z @ w)
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Linear(mean, scale, w[:-1], float(w[-1]))


def _standardization(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return x.mean(axis=0), scale


def fit_ranker(asked: list[Asked], l2: float) -> Linear:
    """Conditional logit: for each question with an answering window, maximize the
    softmax mass its answering windows get among all its windows."""
    from scipy.optimize import minimize

    groups = [a for a in asked if a.y.any()]
    mean, scale = _standardization(np.vstack([a.x for a in asked]))
    zs = [((a.x - mean) / scale, a.y > 0) for a in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * w @ w, l2 * w
        for z, pos in zs:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * pos / (p[pos].sum())
            total -= float(np.log(p[pos].sum()))
            grad = grad + z.T @ (p - q)
        return total, grad

    w = minimize(loss, np.zeros(len(mean)), jac=True, method="L-BFGS-B").x
    return Linear(mean, scale, w)


def question_rows(asked: list[Asked], ranker: Linear) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the answer model's input row (as at run time) and whether the
    ranker's best window holds the answer."""
    rows, labels = [], []
    for a in asked:
        s = ranker(a.x)
        best = int(np.argmax(s))
        rows.append(question_row(a.x[best], float(s[best])))
        labels.append(a.y[best])
    return np.vstack(rows), np.array(labels)


def out_of_fold_rows(asked: list[Asked], l2: float) -> tuple[np.ndarray, np.ndarray,
                                                              list[str], float]:
    """Answer-model rows whose ranker scores come from a ranker that never saw the
    run's document (so the answer model learns from honest scores). Also returns
    each row's document and the held-out top-window accuracy."""
    rows, labels, docs, hits, total = [], [], [], 0, 0
    for doc in sorted({a.doc for a in asked}):
        test = [a for a in asked if a.doc == doc]
        ranker = fit_ranker([a for a in asked if a.doc != doc], l2)
        x, y = question_rows(test, ranker)
        rows.append(x)
        labels.append(y)
        docs += [doc] * len(y)
        hits += int(sum(y[i] for i, a in enumerate(test) if a.answerable))
        total += sum(a.answerable for a in test)
    return np.vstack(rows), np.concatenate(labels), docs, hits / max(total, 1)


def held_out_report(asked: list[Asked], l2: float) -> tuple[dict[str, float], np.ndarray,
                                                             np.ndarray]:
    """Leave one document out, for both models; returns the report and the
    out-of-fold answer-model rows and labels (what the final answer model fits)."""
    x, y, docs, top1 = out_of_fold_rows(asked, l2)
    pos, neg = [], []
    for doc in sorted(set(docs)):
        mask = np.array([d == doc for d in docs])
        p = sigmoid(fit_logistic(x[~mask], y[~mask], l2)(x[mask]))
        pos += p[y[mask] == 1].tolist()
        neg += p[y[mask] == 0].tolist()
    return ({"top1_accuracy": top1, "runs": len(y), "documents": len(set(docs)),
             "auc_answer_right_vs_not": auc(pos, neg)}, x, y)


def _ask_in_fresh_index(args: argparse.Namespace,
                        questions: list[dict[str, object]]) -> list[Asked]:
    with tempfile.TemporaryDirectory() as tmp:
        # The features do not depend on the scorer: unscored evidence needs no artefact.
        pipeline = Pipeline(Settings(data_dir=args.data_dir or Path(tmp)))
        pipeline.ingest([args.synth / "docs", Path("corpus"), SHARED], progress=False)
        return ask_all(pipeline, questions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synth", type=Path, default=Path("evals/synth"))
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--data-dir", type=Path, help="index to use (default: a fresh one)")
    parser.add_argument("--l2", type=float, default=3.0)
    parser.add_argument("--rows", type=Path, help="keep the asked rows here and reuse them "
                        "(for trying model settings; delete it after a feature change)")
    args = parser.parse_args(argv)
    questions = load_synthetic(args.synth)
    if args.rows and args.rows.exists():  # iterate on the model without asking again
        asked = pickle.loads(args.rows.read_bytes())
    else:
        asked = _ask_in_fresh_index(args, questions)
        if args.rows:
            args.rows.write_bytes(pickle.dumps(asked))
    report, qx, qy = held_out_report(asked, args.l2)
    ranker = fit_ranker(asked, args.l2)
    answer = fit_logistic(qx, qy, args.l2)
    y = np.concatenate([a.y for a in asked])
    artefact = {
        "version": ARTEFACT_VERSION, "fitted_with": fitted_with(),
        "features": list(NAMES), "question_extra": list(QUESTION_EXTRA),
        "ranker": ranker.to_dict(), "answer": answer.to_dict(),
        "trained_on": {"folder": str(args.synth), "questions": len(questions),
                       "runs": len(asked), "windows": int(len(y)), "positives": int(y.sum()),
                       "l2": args.l2},
        "held_out_documents": report,
        # Filled in by `python -m evals.calibrate` (dev set); unusable until then.
        "calibration": None, "bars": None,
    }
    args.out.write_text(json.dumps(artefact, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    names = list(NAMES) + list(QUESTION_EXTRA)
    for title, model, labels in (("ranker", ranker, NAMES), ("answer", answer, names)):
        top = sorted(zip(labels, model.coef), key=lambda t: -abs(t[1]))[:10]
        print(title + ": " + ", ".join(f"{n} {c:+.2f}" for n, c in top), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
