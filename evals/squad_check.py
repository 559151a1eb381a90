"""External check: SQuAD 2.0 articles held out from training, one index per article.

    python -m evals.squad_check [--per-article 60] [--out evals/out/squad]

Each held-out article (`reader_data.EXTERNAL_ARTICLES`, never read by any fitting
step) is written as a plain-text document (its paragraphs separated by blank
lines), ingested into an index of its own, and its questions are asked against it
through the same `Pipeline` users get, with the reader and with the previous
learned scorer. A question's answer is right when one of its annotated answer
texts is inside the shown quotes (the eval's `expect`); SQuAD's unanswerable
questions must not be answered. The metrics are the eval suite's (`evals.metrics`),
so the summary sits beside the project's own sets.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag import Pipeline, Settings
from rag.ingest.normalize import normalize_text

from . import metrics as M
from .questions import EvalQuestion
from .reader_data import EXTERNAL_ARTICLES, QA_DIR, SQUAD_FILES


@dataclass(frozen=True)
class Article:
    """One SQuAD article as a document, and questions on it in the eval format."""

    title: str
    doc_id: str
    text: str
    questions: list[EvalQuestion]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def articles(titles: frozenset[str], per_article: int, seed: int = 7,
             qa_dir: Path = QA_DIR) -> list[Article]:
    """The articles named, with up to `per_article` questions each, half of them
    answerable where the article has enough of both (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for name in SQUAD_FILES:
        for art in json.loads((qa_dir / name).read_text(encoding="utf-8"))["data"]:
            if art["title"] not in titles:
                continue
            doc_id = _slug(art["title"])
            text = "\n\n".join(p["context"].strip() for p in art["paragraphs"])
            yes, no = [], []
            for p in art["paragraphs"]:
                for qa in p["qas"]:
                    if qa["is_impossible"]:
                        no.append(EvalQuestion(qa["id"], qa["question"], False, (), "", "",
                                               "squad-unanswerable"))
                        continue
                    expect = tuple(dict.fromkeys(normalize_text(a["text"])
                                                 for a in qa["answers"]))
                    yes.append(EvalQuestion(qa["id"], qa["question"], True, expect,
                                            expect[0], doc_id, "squad"))
            half = per_article // 2
            n_no = min(len(no), max(half, per_article - len(yes)))
            n_yes = min(len(yes), per_article - n_no)
            chosen = rng.sample(yes, n_yes) + rng.sample(no, n_no)
            out.append(Article(art["title"], doc_id, text, chosen))
    return sorted(out, key=lambda a: a.title)


def indexed(base: Settings, arts: list[Article], **pipeline_args: Any
            ) -> Iterator[tuple[Article, Pipeline]]:
    """Each article in a fresh index of its own (a temporary data directory)."""
    for art in arts:
        with tempfile.TemporaryDirectory(prefix="rag-squad-") as tmp:
            path = Path(tmp) / f"{art.doc_id}.txt"
            path.write_text(art.text + "\n", encoding="utf-8")
            settings = base.model_copy(update={"data_dir": Path(tmp) / "index"})
            pipeline = Pipeline(settings, **pipeline_args)
            pipeline.ingest([path], progress=False)
            yield art, pipeline


def run(base: Settings, arts: list[Article], progress: bool = True) -> dict[str, Any]:
    """Summaries of the reader and of the previous scorer over every article."""
    from .runner import run_samples

    samples: dict[str, list[M.Sample]] = {"reader": [], "scorer": []}
    texts: dict[str, str] = {}
    for art, pipeline in indexed(base, arts):
        texts.update({d: doc.text for d, doc in pipeline.stored_documents().items()})
        for judge in samples:
            answer = {**base.answer.model_dump(), "judge": judge}
            other = pipeline.with_settings(base.model_copy(update={
                "data_dir": pipeline.settings.data_dir,
                "answer": base.answer.model_validate(answer)}))
            samples[judge] += run_samples(other, art.questions, progress,
                                          desc=f"{art.doc_id} ({judge})")
    summary = M.summarize(samples["reader"], texts)
    summary["previous_scorer"] = M.summarize(samples["scorer"], texts)
    summary["articles"] = {a.title: len(a.questions) for a in arts}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-article", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("evals/out/squad"))
    args = parser.parse_args(argv)
    arts = articles(EXTERNAL_ARTICLES, args.per_article)
    summary = run(Settings(), arts)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    keys = ("answered_precision", "answered_coverage", "answer_shown_rate",
            "unanswerable_answered_rate", "false_not_covered_rate", "ece", "quote_fidelity")
    for name, row in (("reader", summary), ("previous scorer", summary["previous_scorer"])):
        print(name + ": " + ", ".join(f"{k} {row.get(k)}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
