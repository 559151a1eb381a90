"""The words and patterns every stage asks of a text: the one vocabulary.

What the reranker, the answer features, the generator's support check, the year
filter, the normalizer and the question checks need to know about English text:
its terms (stemmed content words), the kind of fact a question asks for, dates,
years, numbers, durations, names and what is not a name, list items and control
characters. General English only: nothing here names a person, place or agency
of the indexed documents (anything document-specific is read from the documents).
It imports nothing from the rest of `rag`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# -- characters and layout ----------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
LIST_ITEM = re.compile(r"^(?:[-*•‣◦]\s|\(?[0-9]{1,3}[.)]\s|\([a-zA-Z]{1,5}\)\s|[A-Z][.)]\s)")

# -- terms -----------------------------------------------------------------------------

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


@lru_cache(maxsize=100_000)
def terms_of(text: str) -> frozenset[str]:
    """A text's stemmed content words (cached: sentences recur as neighbours and
    across questions)."""
    return frozenset(tokenize(text))


# -- facts: dates, numbers, names ----------------------------------------------------

QUESTION_TYPES = (
    ("duration", re.compile(r"\bhow long\b|\bhow many (hours|days|weeks|months|years)\b|"
                            r"\bwithin how\b|\bhow (soon|quickly)\b|\bdeadline\b", re.I)),
    ("number", re.compile(r"\bhow (many|much)\b|\bnumber of\b|\bwhat (percent|percentage|"
                          r"share|amount|proportion)\b|\bhead ?count\b|\btally\b|\btotal\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (date|year|day|month|time)\b|\bwhich (date|year|day|"
                        r"month)\b|\bin what year\b|\bsince when\b|\bby when\b", re.I)),
    ("person", re.compile(r"^\s*(so,? )?(who|whom|whose)\b|\bwho (was|is|were|did|wrote|"
                          r"signed|drafted|said|called|led|chairs?|heads?)\b|\bwhich "
                          r"(official|person|people|officials|judge|lawyer|secretary)\b|"
                          r"\bname of\b|\bnamed?\b.*\?$", re.I)),
    ("place", re.compile(r"\bwhere\b|\bwhich (state|states|city|country|countries|district|"
                         r"districts|facility|facilities|border|sector)\b", re.I)),
    ("reason", re.compile(r"\bwhy\b|\breason\b|\bfor what purpose\b|\bwhat (caused|led to|"
                          r"prompted|motivated)\b|\bpurpose\b|\brationale\b", re.I)),
)
OUTCOME = re.compile(r"\b(did|were|was|has been|have been|had been|got|actually|ended up|"
                     r"happened|result(ed|s)?|outcome|so far|by now|in the end|achieved|"
                     r"completed|eventually|afterward|later)\b", re.I)
MODAL = re.compile(r"\b(shall|should|must|will|may|is directed|are directed|directs?|"
                   r"is hereby|are hereby|to be|intends?|plans? to|proposes?|would)\b", re.I)
MONTHS = ("January February March April May June July August September October November "
          "December").split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_YEAR = r"(?:1[89]|20)\d\d"  # 1800-2099
DATE = re.compile(rf"\b{_YEAR}\b|\b({'|'.join(MONTHS)})\b|\b({'|'.join(WEEKDAYS)}|yesterday|"
                  r"today|last (week|month|year))\b")
# A year alone (a question's "2018" is a date, not a figure it relies on).
YEARLIKE = re.compile(rf"^{_YEAR}$")
# Years in running text, not parts of longer numbers such as 2,018 (the year filter).
YEAR = re.compile(rf"(?<![\d,.]){_YEAR}(?![\d,])")
# A figure as written: 42, 3,014, 2.5.
FIGURE = re.compile(r"\d[\d,.]*\d|\d")
NUMBER = re.compile(r"(?<![(\w])\d[\d,.]*(?![\w(])|\b(one|two|three|four|five|six|seven|"
                    r"eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|"
                    r"half|percent|once|twice)\b", re.I)
DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
                      r"several|few)[- ](hours?|days?|weeks?|months?|years?)\b|\bwithin\b|"
                      r"\b(daily|weekly|monthly|annually|quarterly)\b|\buntil\b", re.I)
# A place: a capitalized word after a preposition of place, or a common noun of place.
PLACE = re.compile(r"\b(in|at|from|near|along|across) (the )?[A-Z][a-z]+|"
                   r"\b(border|districts?|city|county|country|region|province)\b")
REASON = re.compile(r"\b(because|due to|in order to|so that|to ensure|to prevent|to deter|"
                    r"as a result|led to|reason|purpose|caused|since|given that|aims? to|"
                    r"intended to)\b", re.I)
ROLE = re.compile(r"\b(Secretary|Attorney General|Director|Commissioner|Chair|Vice Chair|"
                  r"President|counselor|Administrator|Chief|Deputy|official|Inspector "
                  r"General|Assistant)\b")
CAPITALIZED = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s*)?[A-Z][a-z]+)+")
# Capitalized words that are never a person's name in English: function words, months
# and days, and the generic words of institutions and offices. Which other capitalized
# words are not names is read from the documents (`common_words`), never listed here.
NOT_NAME = frozenset(
    "The A An In On At Of For And But By To From With This That These Those It Its He She They "
    "His Her Their I We You Section Sec Department Office Secretary Attorney General President "
    "State States Federal Executive Order Act Court District Congress House Task Force "
    "Inspector Chair Vice Administration Government Policy Director Commissioner Deputy "
    "Assistant Law National Coordinator Counsel Senior Officials Agency Agencies Service "
    "Report Fact Sheet".split() + MONTHS + WEEKDAYS)
NOT_NAME_LOWER = frozenset(w.lower() for w in NOT_NAME)
QUESTION_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-z]+\b")
_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-z][a-z’'-]*[a-z]")
_POSSESSIVE = re.compile(r"[’']s$")


def common_words(texts: Iterable[str]) -> frozenset[str]:
    """Words the documents write in lower case somewhere ("border", "patrol"): when
    they are capitalized ("Border Patrol") they name an office, not a person. What
    the documents themselves say is not a name, instead of a list written for them."""
    return frozenset(w for text in texts for w in _LOWER_WORD.findall(text))


def is_name_word(word: str, common: frozenset[str]) -> bool:
    """Could this capitalized word be part of a person's name?"""
    bare = _POSSESSIVE.sub("", word.strip("."))
    return bare not in NOT_NAME and bare.lower() not in common


@lru_cache(maxsize=4096)
def question_type(question: str) -> str:
    """The kind of fact a question asks for: duration, number, date, person, place,
    reason, or other (the first that matches, in that order)."""
    return next((name for name, rx in QUESTION_TYPES if rx.search(question)), "other")


# The kinds of fact a pattern can see (a person needs `is_name_word` too).
FACTS = {"date": DATE, "number": NUMBER, "duration": DURATION, "place": PLACE,
         "reason": REASON, "role": ROLE, "modal": MODAL}


@lru_cache(maxsize=100_000)
def facts_in(text: str, common: frozenset[str] = frozenset()) -> frozenset[str]:
    """The kinds of fact a text holds: date, number, duration, place, reason, person
    (a capitalized run with a word that may be a name), role, modal (cached: windows
    share sentences)."""
    found = {kind for kind, rx in FACTS.items() if rx.search(text)}
    if any(any(is_name_word(w, common) for w in m.split()) for m in CAPITALIZED.findall(text)):
        found.add("person")
    return frozenset(found)


# -- the generator's support check -------------------------------------------------

WORD = re.compile(r"[\w’'-]+")
NEGATION = re.compile(r"\b(not|no|never|none|neither|nor|without)\b|n[’']t\b", re.IGNORECASE)
