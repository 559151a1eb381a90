"""The scorer's features: the kind of fact asked for and found, instructions vs outcomes,
names the document lacks."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.features import NAMES, WindowText, analyse, features
from rag.vocabulary import common_words, facts_in


def _idf(term: str) -> float:
    return 1.0


@pytest.mark.parametrize("question,kind", [
    ("Who chairs the task force?", "person"),
    ("So who actually came up with this?", "person"),
    ("When did Sessions announce the policy?", "date"),
    ("How many children were separated?", "number"),
    ("How long did prosecutions take?", "duration"),
    ("Where were the families held?", "place"),
    ("Why were children separated?", "reason"),
    ("What did the order require?", "other"),
])
def test_the_kind_of_fact_a_question_asks_for(question: str, kind: str) -> None:
    assert analyse(question, _idf, 5.0, 0.5).qtype == kind


def test_a_role_is_not_a_name() -> None:
    # Which capitalized words are not names is read from the documents: these write
    # "homeland" and "security" in lower case somewhere, never "Gene" or "Hamilton".
    common = common_words(["the security of the homeland"])
    role = facts_in("(i) the Secretary of Homeland Security, who shall serve as Chair;", common)
    assert "role" in role and "person" not in role
    assert "person" in facts_in("(i) the Secretary of Homeland Security", frozenset())
    named = facts_in("Gene Hamilton, counselor to the attorney general, drafted it.", common)
    assert "person" in named


def test_instructions_and_outcome_questions() -> None:
    assert "modal" in facts_in("The Secretary shall hire 5,000 additional agents.")
    assert "modal" not in facts_in("The agency hired 212 agents in 2018.")
    assert analyse("How many agents were actually hired?", _idf, 5.0, 0.5).outcome
    assert not analyse("Who chairs the task force?", _idf, 5.0, 0.5).outcome


def _window(text: str, doc: str) -> WindowText:
    from rag.vocabulary import terms_of

    return WindowText(text=text, core=text, member_sims=(0.6,), core_sim=0.6, context="",
                      doc_terms=terms_of(doc), title_terms=frozenset(), sentences=1,
                      has_lead=False, chars=len(text))


def test_feature_vector_flags_a_name_the_document_never_mentions() -> None:
    doc = "Attorney General Jeff Sessions announced the policy in April 2018."
    q_right = analyse("Did Jeff Sessions announce the policy?", _idf, 5.0, 0.6)
    q_wrong = analyse("Did Kirstjen Nielsen announce the policy?", _idf, 5.0, 0.6)
    w = _window(doc, doc)
    right = dict(zip(NAMES, features(q_right, w, 1.0)))
    wrong = dict(zip(NAMES, features(q_wrong, w, 1.0)))
    assert right["names_missing_doc"] == 0.0 and wrong["names_missing_doc"] == 1.0
    assert len(features(q_right, w, 1.0)) == len(NAMES)
    assert np.isfinite(features(q_right, w, 1.0)).all()
