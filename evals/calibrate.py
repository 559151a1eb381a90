"""Calibrate the answer scorer's confidence and fit the state bars on the dev set only.

    python -m evals.calibrate [--questions evals/questions.jsonl] [--artefact rag/answer/answer_scorer.json]

Every dev question is asked through `Pipeline.evidence` (the same path as users'
questions). For each: the answer model's probability, whether the quotes an answer
would show hold an expected phrase (unanswerable questions: never), and the
closest sentence's similarity. Then, frozen into the artefact:
- an isotonic map from score to P(right) (pool-adjacent-violators);
- `answered`: the lowest confidence at which the dev answers at or above it are
  right at least `--precision` of the time (0.90, the product's target; higher
  targets leave almost no dev answer above the bar with today's scorer, see
  evals/README.md);
- `relevant`: the closest-sentence similarity under which a question is not
  covered: midway between dev's off-topic questions and its answerable ones.
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
from rag.answer.scorer import LearnedScorer
from rag.answer.states import shown_windows
from rag.question.guard import looks_like_injection
from rag.answer.scorer import DEFAULT_ARTEFACT

from .metrics import fold
from .questions import load_questions
from .train_scorer import SHARED


def isotonic(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: a non-decreasing fit of y on x, as (x, y) knots."""
    order = np.argsort(x, kind="stable")
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for i in order:
        blocks.append([float(x[i]), float(y[i]), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            sx, sy, n = blocks.pop()
            blocks[-1] = [blocks[-1][0] + sx, blocks[-1][1] + sy, blocks[-1][2] + n]
    return [b[0] / b[2] for b in blocks], [b[1] / b[2] for b in blocks]


def answered_bar(conf: np.ndarray, right: np.ndarray, precision: float, min_n: int) -> float:
    """The lowest confidence at which the dev answers at or above it (at least `min_n`
    of them) are right at least `precision` of the time: the widest answered set
    that keeps the precision."""
    ok = [t for t in set(conf.tolist())
          if (conf >= t).sum() >= min_n and right[conf >= t].mean() >= precision]
    return float(min(ok, default=1.0))


def relevant_bar(answerable: np.ndarray, off_topic: np.ndarray, share: float) -> float:
    """Not covered means "as far from the documents as an off-topic question": the
    bar sits midway between the closest off-topic question and the farthest
    answerable one. (A quantile of dev's answerable questions alone, tried first,
    sat too high for tersely worded questions: on-topic questions then went
    unanswered instead of being shown as uncertain.) Without a gap, or without
    off-topic questions, it falls back to that quantile."""
    fallback = float(np.quantile(answerable, share))
    if not off_topic.size or off_topic.max() >= answerable.min():
        return min(fallback, float(off_topic.max())) if off_topic.size else fallback
    return float((off_topic.max() + answerable.min()) / 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=Path("evals/questions.jsonl"))
    parser.add_argument("--artefact", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--precision", type=float, default=0.90)
    parser.add_argument("--max-not-covered", type=float, default=0.02)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    data = json.loads(args.artefact.read_text(encoding="utf-8"))
    data["calibration"], data["bars"] = None, None
    args.artefact.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    questions = [q for q in load_questions(args.questions) if not looks_like_injection(q.question)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.data_dir or Path(tmp),
                            answer={"scorer_path": args.artefact,  # type: ignore[arg-type]
                                    "judge": "scorer"})
        pipeline = Pipeline(settings)
        scorer = LearnedScorer.load(args.artefact, calibrated=False)
        if args.data_dir is None:
            pipeline.ingest([Path("corpus"), SHARED], progress=False)
        rows = []
        for q in tqdm(questions, desc="calibrating", unit="question"):
            ev = pipeline.evidence(q.question, scorer)
            # What an answer would show: the labels are about exactly that.
            top = " ".join(w.quote.printed
                           for w in shown_windows(ev, "answered", settings.answer))
            right = q.answerable and any(fold(e) in fold(top) for e in q.expect)
            rows.append((ev.strength, float(right), ev.closest, q.answerable,
                         q.category == "off-topic"))
    p = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    closest = np.array([r[2] for r in rows if r[3]])
    off_topic = np.array([r[2] for r in rows if r[4]])
    knots_x, knots_y = isotonic(p, right)
    conf = np.interp(p, knots_x, knots_y)
    bars = {"answered": answered_bar(conf, right, args.precision, min_n=10),
            "relevant": relevant_bar(closest, off_topic, args.max_not_covered)}
    data["calibration"] = {"x": knots_x, "y": knots_y}
    data["bars"] = bars
    kept = conf >= bars["answered"]
    data["calibrated_on"] = {
        "file": str(args.questions), "questions": len(rows),
        "precision_target": args.precision, "dev_answered": int(kept.sum()),
        "dev_answered_precision": float(right[kept].mean()) if kept.any() else None}
    args.artefact.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"bars": bars, **data["calibrated_on"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
