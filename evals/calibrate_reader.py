"""Calibrate the answer reader and fit its state bars, on the dev set and held-out
SQuAD articles only.

    python -m evals.calibrate_reader [--precision 0.90] [--per-article 100]

Two sources, so that the bars hold beyond one corpus's score distribution:
- the dev set (`evals/questions.jsonl`) over the project's documents;
- the SQuAD 2.0 validation articles (`reader_data.VAL_ARTICLES`: held out from the
  reader's training, never part of the external check), one index per article.
Every question is asked through `Pipeline.evidence` (the answer path users get).
For each: the shortlisted windows' reader logits and the learned scorer's ranking
scores, and whether each window holds an expected answer (unanswerable questions:
never). Then, frozen into the artefact's `reader.json`:
- `rank_weight`: a window's score is logit + rank_weight x ranking score; the weight
  (from a small grid) that puts a right window first most often, sources averaged;
- Platt scaling of the best window's score → P(right), both sources weighted equally;
- `answered`: the lowest confidence at which the answers at or above it are right
  at least `--precision` of the time in *each* source (the stricter of the two);
- `close`: under it nothing is shown (not covered): the confidence that keeps
  `--max-not-covered` of each source's answerable questions below it (the lower);
- `show_share`: a further window is shown when its confidence is at least this
  share of the best's (a fixed product choice, 0.5, not fitted).
No other question set is read here (evals/README.md, the protocol).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag import Pipeline, Settings
from rag.answer.reader import DEFAULT_READER, META_FILE, Reader
from rag.answer.scorer import LearnedScorer
from rag.question.guard import looks_like_injection

from .calibrate import answered_bar
from .metrics import fold
from .questions import EvalQuestion, load_questions
from .reader_data import VAL_ARTICLES
from .reader_eval import write_card
from .squad_check import articles, indexed
from .train_scorer import SHARED

SHOW_SHARE = 0.5


# One question: its shortlisted windows' (reader logit, scorer ranking score, holds
# an expected answer), and whether the question is answerable.
Row = tuple[list[tuple[float, float, bool]], bool]
RANK_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def _rows(pipeline: Pipeline, questions: list[EvalQuestion], desc: str) -> list[Row]:
    out: list[Row] = []
    scorer = LearnedScorer.from_settings(pipeline.settings.answer)
    for q in tqdm(questions, desc=desc, unit="q"):
        ev = pipeline.evidence(q.question, scorer, read=True)
        out.append(([(float(s.reader_logit or 0.0), s.p,
                      q.answerable and any(fold(e) in fold(s.quote.printed) for e in q.expect))
                     for s in ev.windows], q.answerable))
    return out


def best_of(rows: list[Row], weight: float) -> list[tuple[float, float, bool]]:
    """Per question: (best window's score, is it right, answerable) when windows are
    scored logit + weight x ranking score."""
    out = []
    for windows, answerable in rows:
        if not windows:
            out.append((-30.0, 0.0, answerable))
            continue
        z, p, right = max(windows, key=lambda w: w[0] + weight * w[1])
        out.append((z + weight * p, float(right), answerable))
    return out


def rank_weight(sources: dict[str, list[Row]]) -> tuple[float, dict[str, dict[str, float]]]:
    """The weight of the scorer's ranking score that puts a right window first most
    often, on average over the sources (the smallest among equals)."""
    hits: dict[str, dict[str, float]] = {}
    for weight in RANK_WEIGHTS:
        hits[str(weight)] = {}
        for name, rows in sources.items():
            best = [b for b, (_, answerable) in zip(best_of(rows, weight), rows) if answerable]
            hits[str(weight)][name] = float(np.mean([b[1] for b in best]))
    chosen = max(RANK_WEIGHTS, key=lambda w: (round(float(np.mean(list(
        hits[str(w)].values()))), 4), -w))
    return chosen, hits


def platt(z: np.ndarray, y: np.ndarray, w: np.ndarray, iterations: int = 100
          ) -> tuple[float, float]:
    """Weighted logistic fit of y on z: returns (a, b). Newton's method on the
    standardized score with a little ridge, halving a step that does not lower the
    loss (so a few extreme scores cannot make it diverge)."""
    mu, sd = float(z.mean()), float(z.std() or 1.0)
    x = np.stack([(z - mu) / sd, np.ones_like(z)], axis=1)

    def loss(t: np.ndarray) -> float:
        m = x @ t
        return float(np.sum(w * (np.logaddexp(0, m) - y * m)) + 0.5e-3 * t[0] ** 2)

    theta = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ theta, -30, 30)))
        grad = x.T @ (w * (p - y)) + np.array([1e-3 * theta[0], 0.0])
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        while loss(theta - step) > loss(theta) and np.abs(step).max() > 1e-12:
            step = step / 2
        theta = theta - step
        if np.abs(step).max() < 1e-9:
            break
    return float(theta[0] / sd), float(theta[1] - theta[0] * mu / sd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=Path("evals/questions.jsonl"))
    parser.add_argument("--reader", type=Path, default=DEFAULT_READER)
    parser.add_argument("--precision", type=float, default=0.90)
    parser.add_argument("--max-not-covered", type=float, default=0.03)
    parser.add_argument("--per-article", type=int, default=100)
    args = parser.parse_args(argv)
    reader = Reader(args.reader, need_calibration=False)
    settings = Settings(answer={"reader_path": args.reader})  # type: ignore[arg-type]
    found: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as tmp:
        pipeline = Pipeline(settings.model_copy(update={"data_dir": Path(tmp)}), reader=reader)
        pipeline.ingest([Path("corpus"), SHARED], progress=False)
        dev = [q for q in load_questions(args.questions) if not looks_like_injection(q.question)]
        found["dev"] = _rows(pipeline, dev, "dev")
    found["squad-val"] = []
    for art, pipeline in indexed(settings, articles(VAL_ARTICLES, args.per_article),
                                 reader=reader):
        found["squad-val"] += _rows(pipeline, art.questions, art.doc_id)
    weight, top_hits = rank_weight(found)
    sources = {name: best_of(rows, weight) for name, rows in found.items()}
    # A question with no window at all is not covered whatever the bars: left out of
    # the fit (its placeholder score would only pull the curve).
    fitted = {name: [r for r in rows if r[0] > -30.0] for name, rows in sources.items()}
    z = np.concatenate([np.array([r[0] for r in rows]) for rows in fitted.values()])
    y = np.concatenate([np.array([r[1] for r in rows]) for rows in fitted.values()])
    w = np.concatenate([np.full(len(rows), 1.0 / len(rows)) for rows in fitted.values()])
    a, b = platt(z, y, w * len(z) / len(fitted))
    conf = {name: 1 / (1 + np.exp(-(a * np.array([r[0] for r in rows]) + b)))
            for name, rows in sources.items()}
    right = {name: np.array([r[1] for r in rows]) for name, rows in sources.items()}
    answerable = {name: np.array([r[2] for r in rows]) for name, rows in sources.items()}
    answered = max(answered_bar(conf[n], right[n], args.precision, min_n=10) for n in sources)
    close = min(float(np.quantile(conf[n][answerable[n]], args.max_not_covered))
                for n in sources)
    per_source = {}
    for n in sources:
        kept = conf[n] >= answered
        per_source[n] = {
            "questions": len(conf[n]), "answerable": int(answerable[n].sum()),
            "top_window_right": float(right[n][answerable[n]].mean()),
            "answered": int(kept.sum()),
            "answered_precision": float(right[n][kept].mean()) if kept.any() else None,
            "answered_coverage": float((kept & (right[n] == 1)).sum() / answerable[n].sum()),
            "not_covered_answerable": float((conf[n][answerable[n]] < close).mean()),
            "not_covered_unanswerable": float((conf[n][~answerable[n]] < close).mean())
            if (~answerable[n]).any() else None}
    meta_path = args.reader / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["calibration"] = {"a": a, "b": b, "rank_weight": weight,
                           "top_window_right_by_rank_weight": top_hits, "fitted_on": f"{args.questions} and SQuAD 2.0 "
                           f"articles {', '.join(sorted(VAL_ARTICLES))} (equal weight)"}
    meta["bars"] = {"answered": answered, "close": close, "show_share": SHOW_SHARE}
    meta["calibrated_on"] = {"reader_shortlist": settings.answer.reader_shortlist,
                             "precision_target": args.precision,
                             "max_not_covered": args.max_not_covered, "sources": per_source}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    write_card(args.reader)
    print(json.dumps({"calibration": meta["calibration"], "bars": meta["bars"],
                      **meta["calibrated_on"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
