"""The answer reader: a cross-encoder that reads a question with one quote window and
gives the probability that the window states the answer.

It is MiniLM-L6 (the packaged all-MiniLM-L6-v2 weights) fine-tuned by
`python -m evals.train_reader` on public question-answering data (SQuAD 2.0 with its
unanswerable questions, SelQA, QNLI) and the project's synthetic documents; see the
model card `rag/answer/reader_model/README.md`. The artefact folder holds the weights
(fp16), the tokenizer, and `reader.json`: the artefact version, a hash of how window
text is rendered (`window_text`, the input length), the weights' sha256, and the
calibration and bars fitted by `python -m evals.calibrate_reader`. Loading a folder
whose version, input format, weights or calibration do not match is a `ConfigError`
naming the command that rebuilds it; nothing falls back silently.

The weights are kept in fp16 (the shipped size) and run as fp32 with int8 dynamic
quantization of the linear layers (`quantize`), which is what was measured fastest
on this machine's CPU at no loss of ranking quality (evals/README.md).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
import threading
import warnings
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.answer.windows import DocSentences, Window
from rag.digest import file_sha256
from rag.errors import ConfigError

DEFAULT_READER = Path(__file__).with_name("reader_model")
READER_VERSION = 1
MAX_LENGTH = 256  # tokens of question + window: a 3-sentence, 600-character window fits
META_FILE = "reader.json"
WEIGHTS_FILE = "model.safetensors"
TRAIN_COMMAND = "python -m evals.train_reader"
CALIBRATE_COMMAND = "python -m evals.calibrate_reader"


def window_text(sents: DocSentences, w: Window) -> str:
    """What the reader reads of a window: its list lead (if any), then its sentences,
    joined by single spaces (the training data is rendered by this same function)."""
    lead = [sents.text(w.lead)] if w.lead is not None else []
    return " ".join(lead + [sents.text(i) for i in w.members])


def format_hash() -> str:
    """A hash of how the reader's input is made: a change to it makes every trained
    artefact stale."""
    # The code's syntax tree without its docstring: rewording the comment is no change.
    tree = ast.parse(textwrap.dedent(inspect.getsource(window_text)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        del body[0]
    source = ast.dump(tree) + f"|max_length={MAX_LENGTH}|v{READER_VERSION}"
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ReaderBars:
    """Where the statuses change, on the reader's calibrated confidence.

    `answered`: at or above it the best window is presented as the answer.
    `close`: a window under it is not shown at all; when no window reaches it the
    question is not covered. `show_share`: an uncertain answer shows a further window
    only when its confidence is at least this share of the best one's."""

    answered: float
    close: float
    show_share: float


@dataclass(frozen=True)
class Calibration:
    """How a window's reader logit becomes a confidence. The window's score is the
    reader's logit plus `rank_weight` times the learned scorer's ranking score of it
    (the two read different things: the reader the words, the scorer the kind of fact
    and the speaker); confidence = sigmoid(a * score + b). All three are fitted by
    `python -m evals.calibrate_reader`."""

    a: float
    b: float
    rank_weight: float

    def score(self, logits: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        return np.asarray(logits, dtype=np.float64) + self.rank_weight * np.asarray(
            ranks, dtype=np.float64)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.a * scores + self.b, -30, 30)))


def read_meta(folder: Path, need_calibration: bool = True) -> dict:  # type: ignore[type-arg]
    """The artefact's metadata, checked against this code. Raises `ConfigError` naming
    the command that rebuilds it when it is missing, stale or incomplete."""
    meta_path = folder / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the answer reader's {meta_path} ({exc}); rebuild it "
                          f"with `{TRAIN_COMMAND}` then `{CALIBRATE_COMMAND}`, or set "
                          "RAG_ANSWER__READER_PATH to a folder they wrote") from exc
    if meta.get("version") != READER_VERSION or meta.get("format") != format_hash():
        raise ConfigError(f"the answer reader in {folder} was trained for another input "
                          f"format (version {meta.get('version')}, format {meta.get('format')}; "
                          f"this code: version {READER_VERSION}, format {format_hash()}); "
                          f"retrain it with `{TRAIN_COMMAND}`")
    weights = folder / WEIGHTS_FILE
    if not weights.is_file() or file_sha256(weights) != meta.get("weights_sha256"):
        raise ConfigError(f"the answer reader's weights {weights} are missing or are not the "
                          f"ones its {META_FILE} was written for; retrain with `{TRAIN_COMMAND}`")
    cal = meta.get("calibration") or {}
    if need_calibration and not (meta.get("bars") and {"a", "b", "rank_weight"} <= set(cal)):
        raise ConfigError(f"the answer reader in {folder} is not calibrated; run "
                          f"`{CALIBRATE_COMMAND}`")
    return meta


class WindowReader(Protocol):
    """What the answer path needs of a reader (tests inject a deterministic fake)."""

    bars: ReaderBars

    def logits(self, question: str, texts: list[str]) -> np.ndarray: ...

    def score(self, logits: np.ndarray, ranks: np.ndarray) -> np.ndarray: ...

    def confidence(self, scores: np.ndarray) -> np.ndarray: ...


class Reader:
    """Scores (question, window text) pairs; loads its model once, on first use.

    Thread-safe: torch inference may run from several threads; loading is locked."""

    def __init__(self, folder: Path | None = None, *, quantize: bool = True,
                 threads: int | None = None, need_calibration: bool = True) -> None:
        self.folder = Path(folder or DEFAULT_READER)
        self.meta = read_meta(self.folder, need_calibration)
        # Uncalibrated (only while calibrating, which refits from the raw logits):
        # the raw logit, as a probability.
        cal = (self.meta["calibration"] if need_calibration
               else {"a": 1.0, "b": 0.0, "rank_weight": 0.0})
        self.calibration = Calibration(float(cal["a"]), float(cal["b"]),
                                       float(cal["rank_weight"]))
        bars = self.meta.get("bars") or {}
        self.bars = ReaderBars(float(bars.get("answered", 1.0)), float(bars.get("close", 0.0)),
                               float(bars.get("show_share", 0.5)))
        self._quantize = quantize
        self._threads = threads
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def load(self):  # type: ignore[no-untyped-def]
        """The model and tokenizer, loaded on first call (then kept)."""
        with self._lock:
            if self._model is None:
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                if self._threads:
                    torch.set_num_threads(self._threads)
                try:
                    tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
                    model = AutoModelForSequenceClassification.from_pretrained(
                        str(self.folder), dtype=torch.float32)
                except (OSError, ValueError) as exc:
                    raise ConfigError(f"cannot load the answer reader from {self.folder} "
                                      f"({exc}); retrain it with `{TRAIN_COMMAND}`") from exc
                model.eval()
                if self._quantize:
                    with warnings.catch_warnings():
                        # torch marks its quantized tensor types deprecated; this is
                        # still the measured fastest CPU path (see evals/README.md).
                        warnings.simplefilter("ignore", UserWarning)
                        model = torch.ao.quantization.quantize_dynamic(
                            model, {torch.nn.Linear}, dtype=torch.qint8)
                self._tokenizer, self._model = tokenizer, model
            return self._model, self._tokenizer

    def logits(self, question: str, texts: list[str], batch: int = 16) -> np.ndarray:
        """The reader's raw score of each text for `question` (higher: more likely it
        states the answer)."""
        if not texts:
            return np.zeros(0)
        import torch

        model, tokenizer = self.load()
        out = []
        # Longest first so a batch holds texts of similar length (less padding).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i in range(0, len(order), batch):
            part = [texts[j] for j in order[i:i + batch]]
            enc = tokenizer([question] * len(part), part, truncation="only_second",
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            with torch.inference_mode():
                out.append(model(**enc).logits[:, 0].float().numpy())
        scores = np.concatenate(out)
        result = np.empty_like(scores)
        result[order] = scores
        return result.astype(np.float64)

    def score(self, logits: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """Each window's score: its logit with the scorer's ranking score `ranks`."""
        return self.calibration.score(logits, ranks)

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated P(the window states the answer) for window scores."""
        return self.calibration(np.asarray(scores, dtype=np.float64))


def shared_reader(folder: Path | None = None) -> Reader:
    """One `Reader` per artefact folder and version of its metadata in this process,
    so pipelines built for other settings (evals, the desk's re-index, tests) share one
    loaded model. Raises `ConfigError` like `Reader`."""
    path = Path(folder or DEFAULT_READER).resolve()
    try:
        stamp = (path / META_FILE).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _reader_at(str(path), stamp)


@lru_cache(maxsize=4)
def _reader_at(folder: str, stamp: int) -> Reader:
    return Reader(Path(folder))
