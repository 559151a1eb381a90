"""Rendering for the web: escaping, deep links, the passage view (golden strings)."""

from __future__ import annotations

from rag.types import Answer, Citation, Document, SourceInfo
from ui.render import answer_markdown, context_html, deep_link, md_text

CITE = Citation(n=1, doc_id="d", title="A <b>title</b>", publisher="Pub", date="2021-01",
                url="https://example.org/doc.pdf#old", page=3, start=10, end=31,
                quote="Quote *with* <script>")


def test_markup_is_escaped_for_html_and_markdown() -> None:
    assert md_text("<img src=x onerror=alert(1)> *b* [l](u)") == (
        "&lt;img src=x onerror=alert\\(1\\)&gt; \\*b\\* \\[l\\]\\(u\\)")


def test_deep_links_point_at_the_page_or_the_text() -> None:
    assert deep_link(CITE) == "https://example.org/doc.pdf#page=3"
    web = Citation(1, "d", "t", "p", "2021", "https://example.org/a", None, 0, 5,
                   "The committee met on Tuesday to approve the harbor budget.")
    assert deep_link(web) == ("https://example.org/a#:~:text=The%20committee%20met%20on%20"
                              "Tuesday%20to,the%20harbor%20budget.")


def test_answer_markdown_golden() -> None:
    answer = Answer("q", "“Quote” [1]", False, (CITE,), {})
    assert answer_markdown(answer) == (
        "> “Quote \\*with\\* &lt;script&gt;” **\\[1\\]**\n\n**Sources**\n\n"
        "- **\\[1\\]** [A &lt;b&gt;title&lt;/b&gt;](https://example.org/doc.pdf#page=3) "
        "(Pub, 2021\\-01, p\\. 3)")
    refused = Answer("q", "Not covered: the documents do not answer this.", True, (), {},
                     status="not_covered", reason="the documents do not answer this.")
    assert answer_markdown(refused) == (
        "**Not covered by these documents.** The documents do not answer this\\.")


def test_passage_view_highlights_exactly_the_cited_offsets() -> None:
    text = "First para.\n\nBefore. Quote *with* <script> after.\n\nLast para."
    doc = Document(SourceInfo("d", "T"), text, "0" * 64)
    start = text.index("Quote")
    c = Citation(1, "d", "T", "", "", None, None, start, start + 21, text[start:start + 21])
    html = context_html(doc, c)
    assert ('<mark class="quote" data-start="21" data-end="42">Quote *with* '
            '&lt;script&gt;</mark>') in html
    assert "First para." in html and "Last para." in html and "<script>" not in html


def test_a_quote_across_a_paragraph_break_stays_in_its_block_quote() -> None:
    from rag.types import Answer, Citation
    from ui.render import answer_markdown

    c = Citation(n=1, doc_id="d", title="T", publisher="P", date="2021", url=None, page=None,
                 start=0, end=30, quote="He issued a statement.\n\n“It failed,” he said.")
    md = answer_markdown(Answer("q?", "“…” [1]", False, (c,), {}, status="uncertain"))
    quote_lines = md.split("**Sources**")[0].strip().split("\n")[2:]
    assert quote_lines and all(line.startswith(">") for line in quote_lines), quote_lines
