"""Lexical side of retrieval: tokenization, stemming and a BM25 index (bm25s).

The index lives in memory and is rebuilt from the store's chunks, so the store
stays the single source of truth.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from functools import lru_cache

import numpy as np

STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "also", "did", "does", "said", "says", "tell", "me", "please", "many", "much"])

# Irregular verb forms the Snowball stemmer leaves apart from their base form, so that
# "How long did prosecutions take?" matches "prosecutions took three to seven days".
_IRREGULAR = dict(pair.split(":") for pair in ["took:take", "taken:take", "said:say", "wrote:write", "written:write", "began:begin", "begun:begin", "knew:know", "known:know", "found:find", "made:make", "told:tell", "held:hold", "gave:give", "given:give", "thought:think", "brought:bring", "sent:send", "led:lead", "met:meet", "left:leave", "kept:keep", "paid:pay", "ran:run", "went:go", "gone:go", "came:come", "saw:see", "seen:see", "got:get", "gotten:get", "chose:choose", "chosen:choose", "spoke:speak", "spoken:speak", "drew:draw", "drawn:draw", "drove:drive", "driven:drive", "grew:grow", "grown:grow", "sought:seek", "bought:buy", "caught:catch", "taught:teach", "fought:fight", "felt:feel", "heard:hear", "lost:lose", "meant:mean", "stood:stand", "understood:understand", "won:win", "wore:wear", "hid:hide", "hidden:hide", "forgot:forget", "forgotten:forget", "rose:rise", "risen:rise", "fell:fall", "fallen:fall", "broke:break", "broken:break", "struck:strike", "sought:seek", "laid:lay", "lain:lie"])
_TOKEN = re.compile(r"\d+(?:[,.]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words; numbers lose their thousands commas."""
    out = []
    for raw in _TOKEN.findall(text.lower()):
        if raw[0].isdigit():
            out.append(raw.replace(",", ""))
        elif raw not in STOPWORDS and len(raw) > 1:
            out.append(stem(_IRREGULAR.get(raw, raw).replace("’", "'")))
    return out


class LexicalIndex:
    """BM25 over chunk texts; `search` returns (row, score) pairs, best first."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG at import; keep its chatter out of our output.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._bm25 = bm25s.BM25()
        tokens = [tokenize(t) for t in texts]
        self.size = len(texts)
        df: Counter[str] = Counter()
        for toks in tokens:
            df.update(set(toks))
        self._df = df
        if self.size:
            self._bm25.index([t or ["\u2400"] for t in tokens], show_progress=False)

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency. A word the corpus never uses gets
        the highest value: a question that hinges on it is probably not covered."""
        if self.size == 0:
            return 0.0
        n = self._df.get(token, 0)
        return float(np.log(1 + (self.size - n + 0.5) / (n + 0.5)))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None
               ) -> list[tuple[int, float]]:
        """The `k` best rows for `query`; with `allowed` (a boolean mask over the rows),
        only those rows. IDF stays that of the whole index, so a restricted search ranks
        rows the same way an unrestricted one would."""
        words = [t for t in tokenize(query) if t in self._df]
        if not words or not self.size:
            return []
        scores = self._bm25.get_scores(words)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in top), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]
