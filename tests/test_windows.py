"""Quote windows: adjacent sentences of one paragraph, list items with their lead."""

from __future__ import annotations

from rag.ingest.chunk import chunk_document
from rag.config import ChunkSettings
from rag.ingest.normalize import normalize_text
from rag.types import Document, Hit, SourceInfo
from rag.answer.windows import MAX_SENTENCES, DocSentences, windows_around

TEXT = normalize_text(
    "The council met on Monday. Mayor Ruiz opened the session.\n\n"
    "The council shall include the following members:\n"
    "(i) the Director of Parks, who shall serve as Chair;\n"
    "(ii) the City Engineer;\n"
    "(iii) two residents chosen by lot.\n\n"
    "Former treasurer Ana Lopez issued a statement after the vote.\n\n"
    "“It was a failed plan that never should have been approved,” she said. "
    "“We all should have done better.”\n\n"
    "A separate paragraph about the budget follows here. It has two sentences.\n")


def _sentences() -> tuple[DocSentences, Hit]:
    doc = Document(SourceInfo("council", "Council"), TEXT, "h" * 64)
    chunks = chunk_document(doc, ChunkSettings(max_chars=200, overlap_sentences=1))
    return DocSentences(doc, chunks), Hit(chunks[0], 1.0, 1)


def _find(sents: DocSentences, start: str) -> int:
    return next(i for i in range(len(sents.sentences)) if sents.text(i).startswith(start))


def test_windows_are_exact_contiguous_spans_of_one_paragraph() -> None:
    sents, hit = _sentences()
    core = _find(sents, "Mayor Ruiz")
    windows = windows_around(sents, core, hit, max_chars=600)
    assert windows and all(w.first <= core <= w.last for w in windows)
    for w in windows:
        assert 1 <= w.last - w.first + 1 <= MAX_SENTENCES
        assert TEXT[w.start:w.end].startswith(sents.text(w.first))
        assert "\n\n" not in TEXT[w.start:w.end]  # never into the list paragraph


def test_a_list_item_comes_with_the_line_that_introduces_it() -> None:
    sents, hit = _sentences()
    item = _find(sents, "(i) the Director of Parks")
    lead = sents.lead_of(item)
    assert lead is not None and sents.text(lead) == "The council shall include the following members:"
    assert sents.lead_of(_find(sents, "(iii) two residents")) == lead
    assert sents.lead_of(_find(sents, "Mayor Ruiz")) is None
    single = [w for w in windows_around(sents, item, hit, 600) if w.first == w.last == item]
    assert single and single[0].lead == lead


def test_a_bare_quote_paragraph_joins_the_sentence_that_names_its_speaker() -> None:
    sents, hit = _sentences()
    quote = _find(sents, "“It was a failed plan")
    speaker = _find(sents, "Former treasurer Ana Lopez")
    assert sents.joins(quote)  # the quote paragraph continues the one before
    spans = {(w.first, w.last) for w in windows_around(sents, quote, hit, 600)}
    assert (speaker, quote) in spans
    # ...but an ordinary new paragraph does not reach back.
    assert not sents.joins(_find(sents, "A separate paragraph"))


def test_long_windows_are_left_out() -> None:
    sents, hit = _sentences()
    core = _find(sents, "“It was a failed plan")
    assert all(w.first == w.last for w in windows_around(sents, core, hit, max_chars=60))


def test_a_sibling_item_does_not_take_the_lead_of_the_one_before() -> None:
    text = normalize_text(
        "Sec. 3. Membership.\n\n"
        "(a) The Board shall include the following members:\n"
        "(i) the Director, who shall serve as Chair;\n"
        "(ii) the Treasurer.\n\n"
        "(b) The Chair shall convene the meetings of the Board.\n")
    doc = Document(SourceInfo("b", "Board"), text, "h" * 64)
    sents = DocSentences(doc, chunk_document(doc, ChunkSettings()))
    chair = _find(sents, "(i) the Director")
    assert sents.text(sents.lead_of(chair) or 0).startswith("(a) The Board shall include")
    assert sents.lead_of(_find(sents, "(b) The Chair")) is None
