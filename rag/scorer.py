"""The learned answer scorer: a logistic model over `rag.features`, then a frozen calibration.

The artefact (`rag/answer_scorer.json`, a few kilobytes, shipped with the package)
holds: feature names, standardization, coefficients, the isotonic calibration
table fitted on the dev set, and the bars that turn a calibrated confidence into
a status. It is written by `python -m evals.train_scorer` (model, from synthetic
questions) and `python -m evals.calibrate` (calibration and bars, from the dev set);
see evals/README.md for the protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .features import NAMES

DEFAULT_ARTEFACT = Path(__file__).with_name("answer_scorer.json")


# What the answer model reads besides the best window's features: the ranker's score
# of it. (Its lead over the other windows and its share of the ranker's softmax were
# tried and dropped: both grow when an index is small, so traps were answered
# confidently there.)
QUESTION_EXTRA = ("rank_score",)


@dataclass(frozen=True)
class Bars:
    """Where the statuses change. `answered`: calibrated confidence at or above it is
    presented as an answer. `relevant`: below this closest-sentence similarity
    nothing is shown (not covered)."""

    answered: float
    relevant: float


@dataclass(frozen=True)
class Linear:
    """A standardized linear model: ((x - mean) / scale) @ coef + intercept."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float = 0.0

    @classmethod
    def of(cls, data: dict) -> Linear:  # type: ignore[type-arg]
        return cls(*(np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")),
                   float(data.get("intercept", 0.0)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict[str, object]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept}


def question_row(x_best: np.ndarray, best: float) -> np.ndarray:
    """The answer model's input: the best window's features and its ranker score."""
    return np.concatenate([x_best, [best]])


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class LearnedScorer:
    """Two small models and a frozen calibration.

    The ranker orders a question's windows (a conditional logit: trained to put the
    window holding the answer first). The answer model gives the probability that
    the best window answers the question at all, from its features and how clearly
    it won. The calibration maps that to the share of dev answers that were right.
    """

    def __init__(self, data: dict, source: str) -> None:  # type: ignore[type-arg]
        names = tuple(data["features"])
        if names != NAMES:
            raise ConfigError(f"answer scorer {source} was trained on other features "
                              f"({len(names)} vs {len(NAMES)}); retrain it with "
                              "`python -m evals.train_scorer`")
        try:
            self.ranker = Linear.of(data["ranker"])
            self.answer = Linear.of(data["answer"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"answer scorer {source} is incomplete ({exc}); retrain it "
                              "with `python -m evals.train_scorer`") from exc
        cal = data.get("calibration") or {"x": [0.0, 1.0], "y": [0.0, 1.0]}
        self._cal_x = np.asarray(cal["x"], dtype=np.float64)
        self._cal_y = np.asarray(cal["y"], dtype=np.float64)
        bars = data.get("bars") or {"answered": 0.9, "relevant": 0.3}
        self.bars = Bars(float(bars["answered"]), float(bars["relevant"]))
        self.source = source

    @classmethod
    def load(cls, path: Path | None = None) -> LearnedScorer:
        """Read an artefact; raises `ConfigError` naming the file when it is unusable."""
        path = path or DEFAULT_ARTEFACT
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the answer scorer {path} ({exc}); set "
                              "RAG_ANSWER__SCORER_PATH to a file written by "
                              "`python -m evals.train_scorer`, or unset it") from exc
        return cls(data, str(path))

    def rank(self, x: np.ndarray) -> np.ndarray:
        """Ranker scores of window feature rows (higher: more likely the answer)."""
        return self.ranker(x)

    def answer_probability(self, row: np.ndarray) -> float:
        """P(the best window answers the question), before calibration."""
        return float(sigmoid(self.answer(row[None, :]))[0])

    def calibrated(self, p: float) -> float:
        """The dev-calibrated probability that an answer built on `p` is right."""
        return float(np.interp(p, self._cal_x, self._cal_y))
