from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rag.ingest.chunk import chunk_document, sentence_spans
from rag.config import ChunkSettings
from rag.ingest.load import load_document
from rag.ingest.manifest import Manifest
from rag.ingest.normalize import markdown_to_text, normalize_text, split_front_matter
from rag.types import Document, SourceInfo


def _doc(text: str, pages: tuple[int, ...] = ()) -> Document:
    return Document(SourceInfo("d", "D"), text, "0" * 64, pages)


def test_soft_wrapped_lines_are_joined_and_paragraphs_kept() -> None:
    raw = "First line\nwraps here.\n\n\n\nSecond   para\r\n(a) item one\n(b) item two\n"
    assert normalize_text(raw) == "First line wraps here.\n\nSecond para\n(a) item one\n(b) item two"


def test_markdown_markup_is_stripped_but_words_kept() -> None:
    body, front = split_front_matter("---\ntitle: T\n---\n# Head\n**Sec. 1.** See [the order](http://x).")
    assert front == "title: T"
    text = normalize_text(markdown_to_text(body))
    assert text == "Head\n\nSec. 1. See the order."


def test_sentences_respect_abbreviations() -> None:
    text = "The U.S. Attorney General spoke. Dr. Smith agreed with Sec. 3 of it. J. Doe left."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s.start:s.end] for s in spans] == [
        "The U.S. Attorney General spoke.", "Dr. Smith agreed with Sec. 3 of it.", "J. Doe left."]


def test_chunks_pack_paragraphs_and_never_exceed_limit(shared_corpus: Path) -> None:
    cfg = ChunkSettings(max_chars=300, overlap_sentences=1)
    for path in sorted(shared_corpus.glob("*.md")):
        doc = load_document(path, Manifest.empty())
        chunks = chunk_document(doc, cfg)
        assert chunks, path
        for c in chunks:
            assert doc.text[c.start:c.end] == c.text
            assert len(c.text) <= 300
            assert all(c.start <= s.start < s.end <= c.end for s in c.sentences)


def test_chunks_stay_on_their_page() -> None:
    text = "Page one says hello. It ends here.\n\nPage two begins. It ends too."
    doc = _doc(text, (0, text.index("Page two")))
    chunks = chunk_document(doc, ChunkSettings(max_chars=500))
    assert [(c.page, c.text) for c in chunks] == [
        (1, "Page one says hello. It ends here."), (2, "Page two begins. It ends too.")]


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("ab .!?\n\t“”US(i)1,") + ["\n\n", "Mr. ", "A", "word "]),
                max_size=400).map("".join),
       st.integers(min_value=100, max_value=400), st.integers(min_value=0, max_value=3))
def test_offset_invariant_for_arbitrary_text(raw: str, limit: int, overlap: int) -> None:
    text = normalize_text(raw)
    doc = _doc(text)
    for c in chunk_document(doc, ChunkSettings(max_chars=limit, overlap_sentences=overlap)):
        assert doc.text[c.start:c.end] == c.text
        assert c.text.strip() == c.text and c.text
        for s in c.sentences:
            assert c.start <= s.start < s.end <= c.end
            assert doc.text[s.start:s.end].strip() == doc.text[s.start:s.end]


@pytest.mark.parametrize("limit", [100, 700])
def test_every_sentence_of_a_document_is_in_some_chunk(shared_corpus: Path, limit: int) -> None:
    doc = load_document(shared_corpus / "news-aba-journal-oig-zero-tolerance-2021-01.txt",
                        Manifest.empty())
    covered = {(s.start, s.end) for c in chunk_document(doc, ChunkSettings(max_chars=limit))
               for s in c.sentences}
    assert any("3,000" in doc.text[a:b] for a, b in covered)
    assert sum(b - a for a, b in covered) >= 0.9 * len(doc.text.replace("\n", ""))
