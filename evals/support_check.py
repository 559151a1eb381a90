"""Measures the llm-mode support check (rag.generate.SupportChecker) on sentences made
from the dev set's evidence: faithful restatements it must accept, and the errors a
newsroom fears most, which it must reject: a changed number, a swapped name, an
inserted negation, and an unrelated sentence citing the evidence.

    .venv/bin/python -m evals.support_check [QUESTIONS.jsonl]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from evals.questions import load_questions
from rag.llm.generate import SupportChecker

NAMES = ["Rosenstein", "Nielsen", "Hamilton", "Sessions", "Trump", "Biden", "Mexico"]


def cases(evidence: list[str]) -> list[tuple[str, str, str, bool]]:
    """(kind, generated sentence, cited sentence, should be supported)."""
    out = []
    for i, ev in enumerate(evidence):
        words = ev.rstrip(".").split()
        if len(words) < 5:
            continue
        out.append(("faithful: evidence restated", " ".join(words) + ".", ev, True))
        out.append(("faithful: first part only", " ".join(words[: max(4, len(words) * 2 // 3)])
                    + ".", ev, True))
        if re.search(r"\d", ev):
            changed = re.sub(r"\d", lambda m: str((int(m.group()) + 3) % 10), ev, count=1)
            out.append(("error: changed number", changed, ev, False))
        names = [w for w in words[1:] if w[:1].isupper() and w.isalpha() and len(w) > 3]
        if names:
            other = next(n for n in NAMES if n != names[0])
            out.append(("error: swapped name", ev.replace(names[0], other, 1), ev, False))
        verb = re.search(r"\b(was|were|is|are|has|had|did|will|shall|may|can)\b", ev)
        if verb and not re.search(r"\bnot\b|n[’']t\b|\bno\b|\bnever\b", ev):
            negated = ev[:verb.end()] + " not" + ev[verb.end():]
            out.append(("error: inserted negation", negated, ev, False))
        other_ev = evidence[(i + 7) % len(evidence)]
        out.append(("error: unrelated sentence", other_ev, ev, other_ev == ev))
    return out


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/questions.jsonl")
    evidence = list(dict.fromkeys(q.evidence for q in load_questions(path) if q.answerable))
    checker = SupportChecker(lambda w: 1.0, 0.5)  # uniform weights: no index needed
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for kind, sentence, cited, expected in cases(evidence):
        total[kind] += 1
        right[kind] += checker.check(sentence, [cited]) == expected
    for kind in sorted(total):
        print(f"{kind:32s} {right[kind]:3d}/{total[kind]:3d}  {right[kind] / total[kind]:.2f}")


if __name__ == "__main__":
    main()
