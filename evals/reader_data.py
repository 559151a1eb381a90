"""Training and validation pairs for the answer reader, built as the answerer sees text.

Every paragraph or document is normalized, split into sentences and cut into quote
windows by the project's own code (`rag.normalize`, `rag.chunk`, `rag.windows`), and
each window is rendered for the reader by `rag.answer.reader.window_text`, the function the
answer path uses. So a pair in training looks exactly like a pair at run time.

Sources (read from ../shared/qa and evals/synth, never copied into the project):
- SQuAD 2.0: for an answerable question, the windows holding an annotated answer are
  positives and the other windows of its paragraph hard negatives; every window of an
  unanswerable question's paragraph is a near-miss negative; a window of another
  article is an easy negative.
- SelQA (answer-sentence selection) and QNLI (question–sentence entailment): the
  pairs as they are (single sentences).
- evals/synth: invented documents with reporters' questions and traps; a window is a
  positive when it holds the question's answer phrase.

Whole articles (documents) are held out: `VAL_ARTICLES` for the reader's validation
figures, `EXTERNAL_ARTICLES` for the external check (`evals.squad_check`), which no
fitting step ever reads.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.answer.reader import window_text
from rag.answer.windows import DocSentences, Window, windows_around
from rag.config import ChunkSettings
from rag.ingest.chunk import chunk_document
from rag.ingest.normalize import normalize_text
from rag.types import Document, Hit, SourceInfo
from rag.vocabulary import tokenize

from .metrics import fold

QA_DIR = Path("../shared/qa")
SYNTH_DIR = Path("evals/synth")
SQUAD_FILES = ("squad2-dev-half-a.json", "squad2-train-first10-articles.json")
SELQA_FILES = ("selqa-ass-dev.json", "selqa-ass-test.json")
QNLI_FILE = "qnli-dev-minus-heldout.tsv"

# Held out for the reader's validation figures (and, with the dev set, calibration).
VAL_ARTICLES = frozenset({"Normans", "Harvard_University", "IPod"})
# Held out from every fitting step: the external check only.
EXTERNAL_ARTICLES = frozenset({"1973_oil_crisis", "Scottish_Parliament",
                               "French_and_Indian_War", "Packet_switching"})
# Synthetic documents held out for validation.
VAL_SYNTH = frozenset({"heat_plan_fact_sheet", "oig_benefits_system_delay",
                       "encampment_ruling_news"})
MAX_QUOTE_CHARS = 600  # AnswerSettings.max_quote_chars' default: windows as the answer path cuts them


@dataclass(frozen=True)
class Pair:
    """One (question, window) pair with its label and where it came from."""

    question: str
    text: str
    label: int
    source: str  # squad, squad-impossible, squad-easy, selqa, qnli, synth
    group: str  # the article or document (the unit held out)
    qid: str  # the question (top-window hit rate is per question)


@dataclass(frozen=True)
class Passage:
    """A text cut into quote windows: each window's span and reader text."""

    doc: Document
    windows: list[tuple[int, int, str]]  # start, end, reader text


def passage(text: str, doc_id: str) -> Passage:
    """Normalize `text` and cut it into every quote window the answer path could show."""
    norm = normalize_text(text)
    info = SourceInfo(doc_id=doc_id, title="")
    doc = Document(info=info, text=norm,
                   content_hash=hashlib.sha256(norm.encode("utf-8")).hexdigest())
    chunks = chunk_document(doc, ChunkSettings())
    if not chunks:
        return Passage(doc, [])
    sents = DocSentences(doc, chunks)
    hit = Hit(chunks[0], 0.0, 1)
    seen: dict[tuple[int, int], Window] = {}
    for i in range(len(sents.sentences)):
        for w in windows_around(sents, i, hit, MAX_QUOTE_CHARS):
            seen.setdefault((w.first, w.last), w)
    windows = [(w.start, w.end, window_text(sents, w)) for w in seen.values()]
    return Passage(doc, sorted(windows))


def answer_spans(doc: Document, answers: list[dict[str, object]]) -> list[tuple[int, int]]:
    """Where each annotated answer sits in the normalized text: the occurrence of its
    normalized text nearest its original offset."""
    spans = []
    for a in answers:
        needle = normalize_text(str(a["text"]))
        if not needle:
            continue
        at, found = -1, []
        while (at := doc.text.find(needle, at + 1)) >= 0:
            found.append(at)
        if found:
            start = min(found, key=lambda s: abs(s - int(a["answer_start"])))  # type: ignore[call-overload]
            spans.append((start, start + len(needle)))
    return spans


def overlap(q_terms: set[str], text: str) -> float:
    """Share of the question's terms the text holds (the word-overlap baseline too)."""
    terms = set(tokenize(text))
    return len(q_terms & terms) / (len(q_terms) or 1)


@dataclass(frozen=True)
class SquadQuestion:
    """A SQuAD question with its paragraph's windows and which ones answer it."""

    qid: str
    article: str
    question: str
    answerable: bool
    answers: tuple[str, ...]
    windows: list[tuple[str, int]]  # reader text, label (-1: partly holds the answer)
    context: str


def squad_questions(qa_dir: Path = QA_DIR) -> Iterator[SquadQuestion]:
    """Every SQuAD question of the shared files, with its paragraph's labelled windows."""
    for name in SQUAD_FILES:
        data = json.loads((qa_dir / name).read_text(encoding="utf-8"))["data"]
        for article in data:
            for n, para in enumerate(article["paragraphs"]):
                p = passage(para["context"], f"{article['title']}-{n}")
                for qa in para["qas"]:
                    spans = answer_spans(p.doc, qa["answers"]) if not qa["is_impossible"] else []
                    if not qa["is_impossible"] and not spans:
                        continue  # the answer did not survive normalization: skip
                    yield SquadQuestion(
                        qa["id"], article["title"], qa["question"], not qa["is_impossible"],
                        tuple(normalize_text(a["text"]) for a in qa["answers"]),
                        [(t, _label(s, e, spans)) for s, e, t in p.windows], p.doc.text)


def _label(start: int, end: int, spans: list[tuple[int, int]]) -> int:
    """1: the window holds an annotated answer whole; 0: it touches none; -1: partly."""
    if any(start <= a and b <= end for a, b in spans):
        return 1
    if any(a < end and start < b for a, b in spans):
        return -1
    return 0


def squad_pairs(questions: list[SquadQuestion], rng: random.Random, *, positives: int = 2,
                negatives: int = 3, easy_every: int = 3) -> list[Pair]:
    """Sampled training pairs: per answerable question up to `positives` answering
    windows (the tightest first) and `negatives` others of its paragraph (most of them
    the ones sharing most words with the question: the hardest); per unanswerable
    question `negatives` windows of its paragraph, likewise; every `easy_every`-th
    question also gets a window of another article."""
    out: list[Pair] = []
    pool = [(q.article, t) for q in questions[::7] for t, _ in q.windows[:3]]
    for i, q in enumerate(questions):
        terms = set(tokenize(q.question))
        pos = sorted((t for t, y in q.windows if y == 1), key=len)
        neg = [t for t, y in q.windows if y == 0]
        chosen_pos = pos[:1] + rng.sample(pos[1:], min(positives - 1, len(pos) - 1)) if pos else []
        neg.sort(key=lambda t: -overlap(terms, t))
        hard = neg[:negatives - 1]
        rest = neg[negatives - 1:]
        chosen_neg = hard + rng.sample(rest, min(1, len(rest)))
        kind = "squad" if q.answerable else "squad-impossible"
        out += [Pair(q.question, t, 1, kind, q.article, q.qid) for t in chosen_pos]
        out += [Pair(q.question, t, 0, kind, q.article, q.qid) for t in chosen_neg]
        if easy_every and i % easy_every == 0:
            others = [t for a, t in pool if a != q.article]
            out.append(Pair(q.question, rng.choice(others), 0, "squad-easy", q.article, q.qid))
    return out


def selqa_pairs(qa_dir: Path, rng: random.Random, negatives: int = 3
                ) -> tuple[list[Pair], list[Pair]]:
    """SelQA pairs (train, validation): answer sentences positive, up to `negatives`
    other candidates negative; articles hashed into a 10% validation share."""
    train: list[Pair] = []
    val: list[Pair] = []
    for name in SELQA_FILES:
        for n, q in enumerate(json.loads((qa_dir / name).read_text(encoding="utf-8"))):
            group = str(q.get("article", ""))
            answers = set(q["answers"])
            cands = [normalize_text(c) for c in q["candidates"]]
            pos = [c for i, c in enumerate(cands) if i in answers]
            neg = [c for i, c in enumerate(cands) if i not in answers and c]
            held = _held(group)
            neg = neg if held else rng.sample(neg, min(negatives, len(neg)))
            qid = f"selqa-{name}-{n}"
            pairs = ([Pair(q["question"], c, 1, "selqa", group, qid) for c in pos]
                     + [Pair(q["question"], c, 0, "selqa", group, qid) for c in neg])
            (val if held else train).extend(pairs)
    return train, val


def _held(group: str) -> bool:
    return int(hashlib.sha256(group.encode("utf-8")).hexdigest(), 16) % 10 == 0


def qnli_pairs(qa_dir: Path) -> tuple[list[Pair], list[Pair]]:
    """QNLI pairs (train, validation), every tenth row held out."""
    train: list[Pair] = []
    val: list[Pair] = []
    with (qa_dir / QNLI_FILE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            pair = Pair(row["question"], normalize_text(row["sentence"]),
                        int(row["label"] == "entailment"), "qnli", "qnli", f"qnli-{row['index']}")
            (val if int(row["index"]) % 10 == 0 else train).append(pair)
    return train, val


def synth_pairs(folder: Path, rng: random.Random, negatives: int = 4
                ) -> tuple[list[Pair], list[Pair]]:
    """Pairs from the synthetic documents: for an answerable question the windows
    holding its answer phrase (up to two, tightest first) against the windows sharing
    most words with it; for a trap, its closest windows. Held-out documents keep,
    for each question every answering window and the 12 closest others (a
    shortlist, as the answer path gives the reader; for the top-window hit rate)."""
    from rag.load import load_document
    from rag.manifest import Manifest

    train: list[Pair] = []
    val: list[Pair] = []
    for path in sorted((folder / "docs").glob("*.md")):
        doc = load_document(path, Manifest.empty())
        p = passage(doc.text, path.stem)
        held = path.stem in VAL_SYNTH
        lines = (folder / "questions" / f"{path.stem}.jsonl").read_text(encoding="utf-8")
        for n, line in enumerate(lines.splitlines()):
            if not line.strip():
                continue
            q = json.loads(line)
            answer = fold(str(q.get("answer") or "")) if q["answerable"] else ""
            labelled = [(t, int(bool(answer) and answer in fold(t))) for _, _, t in p.windows]
            if q["answerable"] and not any(y for _, y in labelled):
                continue
            qid = f"synth-{path.stem}-{n}"
            terms = set(tokenize(q["question"]))
            neg = sorted((t for t, y in labelled if not y), key=lambda t: -overlap(terms, t))
            if held:  # every answering window, against the closest others (a shortlist)
                labelled = [(t, 1) for t, y in labelled if y] + [(t, 0) for t in neg[:12]]
            else:
                pos = sorted((t for t, y in labelled if y), key=len)[:2]
                labelled = [(t, 1) for t in pos] + [(t, 0) for t in neg[:negatives]]
            pairs = [Pair(q["question"], t, y, "synth", path.stem, qid) for t, y in labelled]
            (val if held else train).extend(pairs)
    return train, val


@dataclass
class Splits:
    """The training pairs and the held-out validation pairs."""

    train: list[Pair]
    val: list[Pair]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, pairs in (("train", self.train), ("val", self.val)):
            for p in pairs:
                c = out.setdefault(f"{name}/{p.source}", {"pairs": 0, "positive": 0})
                c["pairs"] += 1
                c["positive"] += p.label
        return out


def build(qa_dir: Path = QA_DIR, synth_dir: Path = SYNTH_DIR, seed: int = 13,
          squad_val_questions: int = 400) -> Splits:
    """Every training and validation pair (deterministic for a seed). The external
    articles are never read into either."""
    rng = random.Random(seed)
    questions = [q for q in squad_questions(qa_dir) if q.article not in EXTERNAL_ARTICLES]
    train_q = [q for q in questions if q.article not in VAL_ARTICLES]
    val_q = [q for q in questions if q.article in VAL_ARTICLES]
    val_q = rng.sample(val_q, min(squad_val_questions, len(val_q)))
    train = squad_pairs(train_q, rng)
    # Validation keeps every window of the paragraph (top-window hit rate).
    val = [Pair(q.question, t, y, "squad" if q.answerable else "squad-impossible",
                q.article, q.qid) for q in val_q for t, y in q.windows if y >= 0]
    for part in (selqa_pairs(qa_dir, rng), qnli_pairs(qa_dir), synth_pairs(synth_dir, rng)):
        train += part[0]
        val += part[1]
    rng.shuffle(train)
    return Splits(train, val)


if __name__ == "__main__":
    import sys

    splits = build()
    json.dump(splits.counts(), sys.stdout, indent=1)
    print()
