from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from rag.errors import LoadError
from rag.ingest.load import load_document
from rag.ingest.manifest import Manifest, load_manifest

from .conftest import PROJECT_CORPUS

PAGES = [
    "The committee opened its inquiry into harbor dredging costs.",
    "Contractors billed 1,250,000 dollars for the northern channel work.",
    "The auditor recommended a second bid for the southern channel.",
]


def make_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


def test_pdf_pages_keep_their_numbers(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "report.pdf", PAGES), Manifest.empty())
    assert len(doc.page_starts) == 3
    for number, text in enumerate(PAGES, start=1):
        offset = doc.text.index(text)
        assert doc.page_at(offset) == number
    assert doc.info.doc_id == "report"


def test_broken_pdf_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf at all")
    with pytest.raises(LoadError) as err:
        load_document(bad, Manifest.empty())
    assert "broken.pdf" in str(err.value)


def test_pdf_without_text_layer_says_so(tmp_path: Path) -> None:
    doc = make_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(LoadError, match="no text layer"):
        load_document(doc, Manifest.empty())


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n  ", "empty file"),
    ("notes.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
    ("binary.txt", b"\x00\x01\x02abc", "binary data"),
    ("latin1.txt", "café".encode("latin-1"), "not UTF-8"),
])
def test_bad_files_get_one_line_errors(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError) as err:
        load_document(path, Manifest.empty())
    assert reason in str(err.value) and name in str(err.value)
    assert "\n" not in str(err.value)


def test_html_boilerplate_is_dropped(tmp_path: Path) -> None:
    nav = "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(40))
    html = f"""<html><head><title>Council votes on budget</title></head><body>
    <header><nav><ul>{nav}</ul></nav><div class='cookie'>We use cookies. Accept all cookies</div></header>
    <main><article><h1>Council votes on budget</h1>
    <p>The city council voted 7 to 2 on Monday to approve a budget of 14 million dollars
    for road repairs, after a debate that lasted more than four hours.</p>
    <p>Council member Ruiz said the repairs on Elm Street would begin in the spring and
    should be finished before the school year starts in September.</p>
    <p>Opponents argued that the money should have gone to the public transit system,
    which has seen ridership rise by a third since last year.</p></article></main>
    <footer>Copyright 2026 Example News. Subscribe to our newsletter. Privacy policy.</footer>
    </body></html>"""
    path = tmp_path / "council.html"
    path.write_text(html, encoding="utf-8")
    doc = load_document(path, Manifest.empty())
    assert "voted 7 to 2 on Monday" in doc.text
    assert "Section 17" not in doc.text
    assert "cookies" not in doc.text and "newsletter" not in doc.text
    assert doc.info.title == "Council votes on budget"


def test_markdown_front_matter_becomes_metadata(small_corpus: Path) -> None:
    doc = load_document(small_corpus / "library.md", Manifest.empty())
    assert (doc.info.title, doc.info.date, doc.info.url) == (
        "Library budget", "2026-05-01", "https://example.org/lib")
    assert doc.text.startswith("Library budget\n\nThe city library")
    assert "**" not in doc.text


def test_manifest_gives_ids_and_metadata_to_shared_files(shared_corpus: Path) -> None:
    manifest = load_manifest(PROJECT_CORPUS / "sources.toml")
    doc = load_document(shared_corpus / "eo-13841-2018-06-20.md", manifest)
    assert doc.info.doc_id == "eo-13841-2018-06-20"
    assert doc.info.kind == "executive-order" and doc.info.date == "2018-06-20"
    assert doc.info.url and doc.info.url.startswith("https://www.federalregister.gov/")
    report = [e.info for e in manifest.entries if e.info.kind == "report"]
    assert report and report[0].url and report[0].url.endswith(".pdf")
    shipped = [e.info for e in manifest.entries if e.info.path]
    assert [i.path for i in shipped] == ["news-aba-journal-oig-zero-tolerance-2021-01.txt"]
    assert all((PROJECT_CORPUS / str(i.path)).is_file() for i in shipped)
