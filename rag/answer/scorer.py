"""The learned answer scorer: a logistic model over `rag.answer.features`, then a frozen calibration.

The artefact (`rag/answer/answer_scorer.json`, a few kilobytes, shipped with the
package) holds: its format `version`, `fitted_with` (a digest of the feature names
and of every constant of the vocabulary, the features and the windows it was fitted
with), feature names, standardization, coefficients, the isotonic calibration table
fitted on the dev set, and the bars that turn a calibrated confidence into a status.
It is written by `python -m evals.train_scorer` (model, from synthetic questions) and
`python -m evals.calibrate` (calibration and bars, from the dev set); see
evals/README.md. An artefact of another version or digest, an incomplete one or one
without its calibration is refused with a `ConfigError` naming those commands.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag import vocabulary
from rag.answer import features, windows
from rag.answer.features import NAMES
from rag.config import AnswerSettings
from rag.errors import ConfigError

DEFAULT_ARTEFACT = Path(__file__).with_name("answer_scorer.json")
# The artefact's format; bump when its fields change meaning.
ARTEFACT_VERSION = 2
_RETRAIN = ("rebuild it with `python -m evals.train_scorer` then "
            "`python -m evals.calibrate` (see evals/README.md)")
_RECALIBRATE = "calibrate it with `python -m evals.calibrate` (see evals/README.md)"


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


def fitted_with() -> str:
    """A digest of what a fitted model depends on: the feature and extra names, every
    constant of the vocabulary, the features, the windows and the window search, and
    the code of the feature functions. An artefact records it when trained; loading
    one with another digest is an error (a changed constant never runs a stale model)."""
    parts: dict[str, object] = {"names": list(NAMES), "extra": list(QUESTION_EXTRA)}
    for module in (vocabulary, features, windows):
        parts[module.__name__] = {k: _constant(v) for k, v in sorted(vars(module).items())
                                  if not k.startswith("__") and _constant(v) is not None}
    parts["code"] = [inspect.getsource(f) for f in (features.analyse, features.facts_in,
                                                    features.new_fact, features.features)]
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _constant(value: object) -> object:
    """A module-level constant as JSON-able data, or None for anything else."""
    if isinstance(value, re.Pattern):
        return [value.pattern, value.flags]
    if isinstance(value, frozenset):
        return sorted(map(str, value))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, tuple | dict):
        return json.loads(json.dumps(value, default=_constant))
    return None


def check_artefact(data: dict, source: str) -> None:  # type: ignore[type-arg]
    """Raises `ConfigError` unless `data` is an artefact of this format, fitted with
    the current features and vocabulary."""
    if data.get("version") != ARTEFACT_VERSION:
        raise ConfigError(f"answer scorer {source} has format version "
                          f"{data.get('version')!r}, this code reads {ARTEFACT_VERSION}; "
                          f"{_RETRAIN}")
    if tuple(data.get("features", ())) != NAMES or data.get("fitted_with") != fitted_with():
        raise ConfigError(f"answer scorer {source} was fitted with other features or "
                          f"vocabulary (digest {data.get('fitted_with')!r}, now "
                          f"{fitted_with()!r}); {_RETRAIN}")


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

    def __init__(self, data: dict, source: str, *,  # type: ignore[type-arg]
                 calibrated: bool = True) -> None:
        check_artefact(data, source)
        try:
            self.ranker = Linear.of(data["ranker"])
            self.answer = Linear.of(data["answer"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"answer scorer {source} is incomplete ({exc}); {_RETRAIN}"
                              ) from exc
        cal, bars = data.get("calibration"), data.get("bars")
        if calibrated and not (cal and bars):
            raise ConfigError(f"answer scorer {source} is not calibrated (no calibration or "
                              f"bars); {_RECALIBRATE}")
        cal = cal or {"x": [0.0, 1.0], "y": [0.0, 1.0]}  # calibrating: raw probabilities
        self._cal_x = np.asarray(cal["x"], dtype=np.float64)
        self._cal_y = np.asarray(cal["y"], dtype=np.float64)
        self.bars = Bars(float(bars["answered"]), float(bars["relevant"])) if bars else None
        self.source = source

    @classmethod
    def load(cls, path: Path | None = None, *, calibrated: bool = True) -> LearnedScorer:
        """Read an artefact. Raises `ConfigError` naming the file and the command that
        rebuilds it when it cannot be read, was fitted with other features or
        vocabulary, is incomplete, or (`calibrated`) lacks its calibration."""
        path = path or DEFAULT_ARTEFACT
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the answer scorer {path} ({exc}); set "
                              "RAG_ANSWER__SCORER_PATH to a file written by "
                              "`python -m evals.train_scorer`, or unset it") from exc
        return cls(data, str(path), calibrated=calibrated)

    @classmethod
    def from_settings(cls, settings: AnswerSettings) -> LearnedScorer:
        """The configured artefact, with the bars the settings override."""
        scorer = cls.load(settings.scorer_path)
        bars = scorer.bars
        assert bars is not None  # a calibrated artefact has its bars
        scorer.bars = Bars(bars.answered if settings.answered_bar is None
                           else settings.answered_bar,
                           bars.relevant if settings.relevant_bar is None
                           else settings.relevant_bar)
        return scorer

    def rank(self, x: np.ndarray) -> np.ndarray:
        """Ranker scores of window feature rows (higher: more likely the answer)."""
        return self.ranker(x)

    def answer_probability(self, row: np.ndarray) -> float:
        """P(the best window answers the question), before calibration."""
        return float(sigmoid(self.answer(row[None, :]))[0])

    def calibrated(self, p: float) -> float:
        """The dev-calibrated probability that an answer built on `p` is right."""
        return float(np.interp(p, self._cal_x, self._cal_y))
