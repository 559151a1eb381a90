from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from rag import Pipeline, QuestionError
from rag.answer.cite import Quotable, cite
from rag.answer.wording import NOT_COVERED

from .conftest import ANSWER_KEYS


@pytest.fixture
def indexed(fake_pipeline: Pipeline, small_corpus: Path) -> Pipeline:
    fake_pipeline.ingest([small_corpus], progress=False)
    return fake_pipeline


def test_answer_is_made_of_verbatim_cited_sentences(indexed: Pipeline) -> None:
    answer = indexed.ask("How many mooring permits did the commission approve?")
    assert not answer.refused
    first = answer.citations[0]
    assert "42 new mooring permits" in first.quote
    doc = indexed.document(first.doc_id)
    assert doc is not None and doc.text[first.start:first.end] == first.quote
    assert f"[{first.n}]" in answer.answer and first.quote in answer.answer
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_off_topic_question_is_refused_without_quotes(indexed: Pipeline) -> None:
    answer = indexed.ask("What is the boiling point of mercury?")
    assert answer.refused and answer.citations == () and answer.answer == NOT_COVERED


def test_a_quote_that_does_not_match_the_source_is_dropped(
        indexed: Pipeline, caplog: pytest.LogCaptureFixture) -> None:
    answer = indexed.ask("How many mooring permits did the commission approve?")
    first = answer.citations[0]
    assert "42" in first.quote
    docs = indexed.stored_documents()
    doc = docs["harbor"]
    # Stored text drifting from the quoted offsets (e.g. a torn write): the quote goes.
    drifted = {**docs, "harbor": dataclasses.replace(doc, text=doc.text.replace("42", "24"))}
    quote = Quotable(first.doc_id, first.start, first.end, first.quote)
    with caplog.at_level(logging.ERROR, logger="rag.answer.cite"):
        assert cite([quote], drifted) == []
    assert "not verbatim" in caplog.text
    assert [c.quote for c in cite([quote], docs)] == [first.quote]


@pytest.mark.parametrize("question,match", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 1001, "limit is 1000"),
    ("\x00\x01\x02\x03\x04\x05", "control characters"),
])
def test_unusable_questions_get_clear_errors(indexed: Pipeline, question: str, match: str) -> None:
    with pytest.raises(QuestionError, match=match):
        indexed.ask(question)


def test_json_shape_is_the_documented_one(indexed: Pipeline) -> None:
    data = indexed.ask("When will dredging of the channel begin?").to_dict()
    assert set(data) == ANSWER_KEYS
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert set(data["citations"][0]) == {"n", "doc_id", "title", "publisher", "date", "url",
                                         "page", "start", "end", "quote", "lead",
                                         "lead_start", "lead_end"}
    assert "March 2027" in data["citations"][0]["quote"]


def test_a_year_no_document_mentions_is_not_answered_from_other_years(indexed: Pipeline) -> None:
    # The harbor document is the only match for these words, and it never says 2019.
    answer = indexed.ask("How many mooring permits did the commission approve in 2019?")
    assert answer.refused and answer.citations == ()
    assert answer.answer.startswith(NOT_COVERED) and "2019" in answer.answer


def test_a_year_the_document_mentions_is_answered(indexed: Pipeline) -> None:
    answer = indexed.ask("When in 2027 will dredging of the channel begin?")
    assert not answer.refused
    assert any("March 2027" in c.quote for c in answer.citations)


def test_the_year_rule_can_be_switched_off(indexed: Pipeline) -> None:
    s = indexed.settings.model_copy(deep=True)
    s.answer.match_years = False
    answer = indexed.with_settings(s).ask(
        "How many mooring permits did the commission approve in 2019?")
    assert not answer.refused


@pytest.mark.parametrize("text,years", [
    ("in 2014 and 1999", {"2014", "1999"}), ("83 FR 29435", set()),
    ("2,018 children", set()), ("8 U.S.C. 1325(a)", set()), ("June 20, 2018.", {"2018"}),
    ("room 1750", set()), ("2017-01-25", {"2017"}),
])
def test_years_are_four_digit_years_only(text: str, years: set[str]) -> None:
    from rag.answer.years import years_in

    assert years_in(text) == years
