"""A report-grade PDF (devtools/report) read the way a person reads it.

The fixture is generated once per session; `Layout` says where the generator put
each hyphenated word, footnote and page-crossing sentence, and the assertions
check the stored text (what is chunked and quoted) against it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from evals.questions import load_questions
from rag.ingest.chunk import chunk_document
from rag.config import ChunkSettings
from rag.ingest.load import load_document
from rag.ingest.manifest import load_manifest
from rag.ingest.pdf import join_lines
from rag.types import Document
from devtools.report import content as C
from devtools.report.make_report import Layout, build

from .conftest import PROJECT_CORPUS, ROOT, make_settings

QUESTIONS = ROOT / "evals" / "report.jsonl"


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Layout]:
    path = tmp_path_factory.mktemp("report") / "oig-fixture-report.pdf"
    return path, build(path)


@pytest.fixture(scope="session")
def doc(report: tuple[Path, Layout]) -> Document:
    return load_document(report[0], load_manifest(PROJECT_CORPUS / "sources.toml"))


def _page(doc: Document, n: int) -> str:
    end = doc.page_starts[n] if n < len(doc.page_starts) else len(doc.text)
    return doc.text[doc.page_starts[n - 1]:end]


def _on_page(doc: Document, text: str, page: int) -> bool:
    return any(doc.page_at(m.start()) == page for m in re.finditer(re.escape(text), doc.text))


def test_the_fixture_has_what_a_long_report_has(report: tuple[Path, Layout]) -> None:
    path, layout = report
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages]
    assert len(pages) == layout.pages >= 60
    assert all(C.HEADER[1] in text and "Page " in text for text in pages)
    assert "Page iii" in pages[2] and "Page 1" in pages[3]  # roman, then arabic
    assert "Table of Contents" in pages[1] and "IV. Findings on Planning" in pages[1]
    assert len(layout.notes) >= 20 and len(layout.hyphenated) >= 20
    assert {w for w, _ in layout.compounds_broken} >= {"family-unit", "full-time"}
    assert layout.page_crossings and layout.column_crossings


def test_running_headers_footers_and_page_numbers_are_removed(doc: Document) -> None:
    assert C.HEADER[0] not in doc.text and C.HEADER[1] not in doc.text
    assert not re.search(r"\bPage [0-9ivx]+\b", doc.text)
    assert not re.search(r"(?m)^(?:\d+|[ivx]+)$", doc.text)  # no bare page number
    # The report number printed on the title page is content, and stays.
    assert _page(doc, 1).count(C.REPORT_NO) == 1


def test_line_end_hyphens_are_joined_and_real_hyphens_kept(report: tuple[Path, Layout],
                                                           doc: Document) -> None:
    _, layout = report
    for word, page in layout.hyphenated:
        assert word in _page(doc, page), word
    assert not re.search(r"[a-z]- [a-z]", doc.text)
    for word, page in layout.compounds_broken:
        assert word in _page(doc, page), word
        assert word.replace("-", "") not in doc.text


@pytest.mark.parametrize(("head", "tail", "joined"), [
    ("the pro-", "secution", "the prosecution"),        # no word "pro" + "secution"
    ("a family-", "unit case", "a family-unit case"),   # the hyphenated form is used elsewhere
    ("a case-", "management", "a case-management"),     # both halves are words
    ("non-", "Federal", "non-Federal"),                 # a capital after the hyphen
    ("Depart-", "ment", "Department"),                  # the joined word is used elsewhere
])
def test_hyphen_rule(head: str, tail: str, joined: str) -> None:
    vocab = {"family-unit", "case", "management", "department", "the", "a"}
    assert join_lines(head, tail, vocab) == joined


def test_footnotes_are_own_paragraphs_on_their_page(report: tuple[Path, Layout],
                                                     doc: Document) -> None:
    _, layout = report
    paragraphs = set(doc.text.split("\n\n"))
    for number, text, page in layout.notes:
        assert f"{number} {text}" in paragraphs, number
        assert _on_page(doc, f"{number} {text}", page)
    # The marker after "partner agencies." is gone, not glued to a word or a number.
    assert "the partner agencies. We reviewed more than 212,000" in doc.text
    assert not re.search(r"[a-z][.,;)]?\d{1,3}\b", doc.text)
    chunks = chunk_document(doc, ChunkSettings())
    note = C.NOTES["note_interview"]
    assert [c.page for c in chunks if note in c.text] == [layout.notes[0][2]]


def test_two_column_summary_reads_in_column_order(report: tuple[Path, Layout],
                                                  doc: Document) -> None:
    _, layout = report
    summary = _page(doc, 3)
    at = [summary.find(p) for p in C.EXECUTIVE_SUMMARY]
    assert -1 not in at and at == sorted(at)
    for sentence in layout.column_crossings:
        assert sentence in summary


def test_sentence_across_a_page_break_is_whole_and_cited_where_it_starts(
        report: tuple[Path, Layout], doc: Document) -> None:
    _, layout = report
    chunks = chunk_document(doc, ChunkSettings())
    for sentence, page in layout.page_crossings:
        assert _on_page(doc, sentence, page), sentence
    estimate = C.FACTS["estimate"].replace("{break} ", "")
    start = doc.text.index(estimate)
    assert [c.page for c in chunks if estimate in c.text] == [doc.page_at(start)]
    assert (estimate, doc.page_at(start)) in layout.page_crossings


def test_table_rows_and_bullets_stay_lines(doc: Document) -> None:
    # Each table row on its own line, its cells read with their column headings.
    head = C.TABLE_HEADER
    for row in C.TABLE_ROWS:
        line = f"{row[0]}: " + "; ".join(f"{h} {c}" for h, c in zip(head[1:], row[1:]))
        assert f"\n{line}\n" in doc.text + "\n", line
    assert "\n\n• site visits to the Cedar Basin and Las Palmas courthouses.\n\n" in doc.text
    assert "\nI. Introduction 1\n" in _page(doc, 2)  # contents: dot leaders dropped


def test_question_file_pages_match_the_fixture(doc: Document) -> None:
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 30
    for q in questions:
        if q.answerable:
            assert q.page is not None and _on_page(doc, q.evidence, q.page), q.id


@pytest.mark.real_model
def test_eval_on_the_fixture_finds_every_answer_on_its_page(
        report: tuple[Path, Layout], tmp_path: Path, embedder: object) -> None:
    from evals.metrics import answer_on_page, citation_relevant, evidence_rank, recall_at_k
    from evals.runner import run_samples
    from rag import Pipeline

    pipeline = Pipeline(make_settings(tmp_path), embedder=embedder)  # type: ignore[arg-type]
    added = pipeline.ingest([report[0]], progress=False)
    assert added.added == ["oig-fixture-report"], added.failed
    samples = run_samples(pipeline, load_questions(QUESTIONS), progress=False)
    text = pipeline.stored_documents()["oig-fixture-report"].text
    answerable = [s for s in samples if s.question.answerable]
    assert recall_at_k(samples, 5) >= 0.95, [s.question.id for s in answerable
                                             if (evidence_rank(s) or 99) > 5]
    # Whether a quote answers is the scorer's business (most do); where one does,
    # it must be cited with the page it is on, which is this reader's business.
    shown = [s for s in answerable
             if any(citation_relevant(s, c, text) for c in s.response["citations"])]
    assert len(shown) >= 0.85 * len(answerable), [s.question.id for s in answerable
                                                  if s not in shown]
    assert all(answer_on_page(s, text) for s in shown), [
        s.question.id for s in shown if not answer_on_page(s, text)]


def test_soft_hyphen_always_joins() -> None:
    assert join_lines("the pro\u00ad", "secution", set()) == "the prosecution"


def test_a_plainer_pdf_loses_only_its_running_heads(tmp_path: Path) -> None:
    """fpdf2's own header()/footer() hooks and multi_cell text: another producer's shape."""
    from fpdf import FPDF

    class Memo(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", size=8)
            self.cell(0, 10, "Harbor Commission - internal memo", align="C")
            self.ln(14)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()}/{{nb}}", align="C")

    pdf = Memo()
    pdf.set_font("helvetica", size=11)
    paragraphs = [f"Item {n}: the commission approved {n * 7} new mooring permits for basin "
                  f"{n} after a long debate about dredging and fees." for n in range(1, 5)]
    for text in paragraphs:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(tmp_path / "memo.pdf"))
    doc = load_document(tmp_path / "memo.pdf", load_manifest(PROJECT_CORPUS / "sources.toml"))
    assert doc.text.split("\n\n") == paragraphs
    assert [doc.page_at(doc.text.index(p)) for p in paragraphs] == [1, 2, 3, 4]


def test_page_accuracy_counts_a_relevant_quote_on_the_given_page() -> None:
    from evals.metrics import Sample, page_accuracy, summarize
    from evals.questions import EvalQuestion

    def sample(page: int | None, cited: int) -> Sample:
        q = EvalQuestion("q", "When?", True, ("May 2",), "dated May 2", "d", page=page)
        quote = {"doc_id": "d", "page": cited, "start": 0, "end": 11, "quote": "dated May 2"}
        return Sample(q, {"refused": False, "answer": "", "citations": [quote]}, (), 1.0, 1.0)

    texts = {"d": "dated May 2"}
    assert page_accuracy([sample(3, 3), sample(3, 4), sample(None, 1)], texts) == 0.5
    assert "answer_page_accuracy" not in summarize([sample(None, 1)], texts)
    with pytest.raises(ValueError, match="no answerable question gives a page"):
        page_accuracy([sample(None, 1)], texts)
