"""Deterministic fakes: pure functions of their input, no randomness, no network."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from rag.answer.features import NAMES
from rag.answer.reader import ReaderBars
from rag.answer.scorer import ARTEFACT_VERSION, QUESTION_EXTRA, fitted_with
from rag.vocabulary import tokenize


class FakeEmbedder:
    """Hashed bag of stemmed words, L2-normalized: similar words, similar vectors."""

    def __init__(self, dim: int = 256, name: str = "fake-hash-embedder") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                bucket = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
                out[row, bucket] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


class FakeChat:
    """A deterministic chat backend: a pure function of the prompt it is given.

    `script` maps a question substring to the reply; the reply may use {S1}, {S2}…
    to stand for the text of the numbered sentences the prompt shows.
    """

    name = "fake-chat"

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.prompts: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], grammar: str | None = None):  # type: ignore[no-untyped-def]
        import re

        self.prompts.append(messages)
        user = messages[-1]["content"]
        shown = dict(re.findall(r"^S(\d+): (.*)$", user, re.MULTILINE))
        reply = next((r for key, r in self.script.items() if key in user), "NOT COVERED")
        reply = re.sub(r"\{S(\d+)\}", lambda m: shown.get(m.group(1), ""), reply)
        for i in range(0, len(reply), 7):  # stream in small pieces
            yield reply[i:i + 7]


def write_artefact(path: Path, answered: float = 0.9, relevant: float = 0.1) -> Path:
    """A scorer that only reads question-word coverage: windows ranked by it, and
    P(answer) = sigmoid(8 * coverage - 4) for the best one."""
    n, q = len(NAMES), len(NAMES) + len(QUESTION_EXTRA)
    coef = [8.0 if name == "lex_window" else 0.0 for name in NAMES]

    def linear(size: int, intercept: float) -> dict[str, object]:
        return {"mean": [0.0] * size, "scale": [1.0] * size,
                "coef": coef + [0.0] * (size - n), "intercept": intercept}

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "version": ARTEFACT_VERSION, "fitted_with": fitted_with(),
        "features": list(NAMES), "ranker": linear(n, 0.0), "answer": linear(q, -4.0),
        "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
        "bars": {"answered": answered, "relevant": relevant}}))
    return path


class FakeReader:
    """A deterministic reader: a window's logit is 10 x (share of the question's words
    it holds) - 5, its confidence the logistic of that; bars set by the test."""

    def __init__(self, answered: float = 0.9, close: float = 0.2, show_share: float = 0.5) -> None:
        self.bars = ReaderBars(answered, close, show_share)
        self.calls: list[tuple[str, int]] = []

    def logits(self, question: str, texts: list[str]) -> np.ndarray:
        self.calls.append((question, len(texts)))
        q = set(tokenize(question))
        return np.array([10.0 * len(q & set(tokenize(t))) / (len(q) or 1) - 5.0 for t in texts])

    def score(self, logits: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        return np.asarray(logits, dtype=float)  # the reader alone orders the windows

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.asarray(scores, dtype=float)))
