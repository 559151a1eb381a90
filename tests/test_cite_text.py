"""Citations for a draft: grouped sources, publishable quote lines, the answer as
Markdown (golden strings)."""

from __future__ import annotations

from rag.types import Answer, Citation
from ui.cite_text import (
    answer_copy_markdown,
    draft_html,
    draft_payload,
    group_sources,
    grouped_source_lines,
    quote_line,
)

REPORT = dict(doc_id="oig", title="Review of Zero Tolerance", publisher="DOJ OIG",
              date="2021-01-14", url="https://oig.example/21-028.pdf")
NEWS = dict(doc_id="aba", title="Sessions' office was 'driving force'", publisher="ABA Journal",
            date="2021-01", url="https://www.abajournal.com/news/article/#frag")
C1 = Citation(n=1, page=12, start=0, end=10, quote="The policy was drafted in May.", **REPORT)
C2 = Citation(n=2, page=None, start=5, end=20, quote="Gene Hamilton drafted it.", **NEWS)
C3 = Citation(n=3, page=7, start=30, end=40, quote="Prosecutors were told <b>.", **REPORT)
ANSWER = Answer("Who drafted it?", "“…” [1] “…” [2] “…” [3]", False, (C1, C2, C3), {})


def test_citations_of_one_document_are_grouped() -> None:
    groups = group_sources([C1, C2, C3])
    assert [(g.first.doc_id, g.numbers, g.pages) for g in groups] == [
        ("oig", (1, 3), (7, 12)), ("aba", (2,), ())]
    assert groups[0].where() == "DOJ OIG, 2021-01-14, pp. 7, 12"
    assert groups[1].where() == "ABA Journal, 2021-01"


def test_quote_line_is_publishable() -> None:
    assert quote_line(C1) == ("“The policy was drafted in May.” — Review of Zero Tolerance, "
                              "DOJ OIG, 2021-01-14, p. 12, https://oig.example/21-028.pdf#page=12")
    assert quote_line(C2) == ("“Gene Hamilton drafted it.” — Sessions' office was 'driving "
                              "force', ABA Journal, 2021-01, https://www.abajournal.com/news/"
                              "article/")


def test_answer_copy_markdown_golden() -> None:
    assert answer_copy_markdown(ANSWER) == (
        "> “The policy was drafted in May.” [1]\n\n"
        "> “Gene Hamilton drafted it.” [2]\n\n"
        "> “Prosecutors were told <b>.” [3]\n\n"
        "Sources:\n\n"
        "- [1] [3] [Review of Zero Tolerance](https://oig.example/21-028.pdf#page=12), "
        "DOJ OIG, 2021-01-14, pp. 7, 12\n"
        "- [2] [Sessions' office was 'driving force'](https://www.abajournal.com/news/article/"
        "#:~:text=Gene%20Hamilton%20drafted%20it.), ABA Journal, 2021-01")
    refused = Answer("q", "Not covered: the documents do not answer this.", True, (), {},
                     status="not_covered", reason="the documents do not answer this.")
    assert answer_copy_markdown(refused) == (
        "**Not covered by these documents.** The documents do not answer this.")


def test_chat_sources_are_grouped_and_escaped() -> None:
    assert grouped_source_lines([C1, C2, C3]) == [
        "- **\\[1\\] \\[3\\]** [Review of Zero Tolerance](https://oig.example/21-028.pdf#page=12)"
        " (DOJ OIG, 2021\\-01\\-14, pp\\. 7, 12)",
        "- **\\[2\\]** [Sessions' office was 'driving force'](https://www.abajournal.com/news/"
        "article/#:~:text=Gene%20Hamilton%20drafted%20it.) (ABA Journal, 2021\\-01)"]


def test_payload_and_panel_carry_the_same_strings() -> None:
    payload = draft_payload(ANSWER)
    assert [q["copy"] for q in payload["quotes"]] == [quote_line(c) for c in (C1, C2, C3)]
    assert payload["sources"][0] == {"numbers": "[1] [3]", "title": "Review of Zero Tolerance",
                                     "href": "https://oig.example/21-028.pdf#page=12",
                                     "where": "DOJ OIG, 2021-01-14, pp. 7, 12"}
    panel = draft_html(payload)
    assert panel.count('class="copy-quote"') == 3 and 'id="copy-answer"' in panel
    assert "<b>" not in panel and "&lt;b&gt;" in panel
    assert draft_html({"quotes": [], "sources": [], "markdown": ""}) == ""
