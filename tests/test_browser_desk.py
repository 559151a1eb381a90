"""The sources desk in real Chromium with the real model: an editor logs in, uploads
a PDF, watches its job finish, sees it cited with its page in the chat, removes it
and the chat stops citing it; a visitor gets no editing control and a 401 from every
editing endpoint. With RAG_SCREENSHOTS set, the page is photographed on the way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.web import serving
from rag import Pipeline
from rag.desk.auth import token_entry

from .browser import _shot_dir, ask_in_chat, browser, page  # noqa: F401 (fixtures)
from .conftest import PROJECT_CORPUS, make_settings, serve_groups
from .desk_support import pdf

pytestmark = [pytest.mark.browser, pytest.mark.real_model]

TOKEN, ENTRY = token_entry("alice")
QUESTION = "Which company won the contract to dredge the north channel of the marina?"
PAGES = ["Marina works report. Prepared for the harbor council of Port Alder.",
         "The contract to dredge the north channel of the marina was won by Bayline Marine "
         "Services, which bid 3.4 million dollars. Work starts in March.",
         "Annex: the list of moorings affected by the works."]


@pytest.fixture(scope="module")
def desk_site(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("desk-web")
    settings = make_settings(tmp, serve=serve_groups(rate_burst=1000, editor_tokens=[ENTRY]))
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([PROJECT_CORPUS], progress=False)
    with serving(create_app(settings, pipeline)) as url:
        yield url


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = _shot_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _answer(pg, question: str) -> str:  # type: ignore[no-untyped-def]
    pg.goto(pg.url.split("/sources")[0] + "/")
    ask_in_chat(pg, question)
    reply = pg.locator("#chat .message").filter(has_text="Sources").last
    reply.wait_for(timeout=120_000)
    return reply.inner_text()  # type: ignore[no-any-return]


def test_an_editor_adds_a_pdf_sees_it_cited_and_removes_it(page, desk_site: str,  # noqa: F811
                                                          tmp_path: Path) -> None:
    upload = pdf(tmp_path / "Marina Works 2026.pdf", PAGES)
    page.goto(desk_site + "/sources")
    page.locator("#token").fill(TOKEN)
    page.locator("#login-form button").click()
    page.locator("#editor").wait_for(state="visible", timeout=20_000)
    assert page.locator("#who").inner_text() == "Editor: alice"
    page.locator("#files").set_input_files(str(upload))
    page.locator("#upload").click()
    job = page.locator("#jobs li").first
    job.locator("progress").wait_for(timeout=20_000)
    _shot(page, "sources-desk-job-running")
    page.locator("#jobs li.done").first.wait_for(timeout=300_000)
    assert job.locator("progress").evaluate("p => p.value") == 1
    assert "Marina Works 2026.pdf: added as 'marina-works-2026' (3 pages" in job.inner_text()
    row = page.locator("#docs tr[data-doc-id='marina-works-2026']")
    row.wait_for(timeout=20_000)
    assert "uploaded by alice" in row.inner_text()
    assert row.locator("strong").inner_text() == "Marina Works 2026"
    assert row.locator("td").nth(4).inner_text() == "3"
    _shot(page, "sources-desk-editor")
    text = _answer(page, QUESTION)
    assert "Bayline Marine Services" in text and "p. 2" in text
    page.locator("#citations label").filter(has_text="p. 2").first.click()
    card = page.locator("#context")
    card.locator("mark.quote").wait_for(timeout=20_000)
    assert "uploaded by alice on" in card.locator(".provenance").inner_text()
    _shot(page, "sources-desk-cited-upload")
    page.goto(desk_site + "/sources")
    page.on("dialog", lambda d: d.accept())
    page.locator("#docs tr[data-doc-id='marina-works-2026'] button.remove").click()
    page.locator("#jobs li.done").filter(has_text="removed").wait_for(timeout=120_000)
    assert page.locator("#docs tr[data-doc-id='marina-works-2026']").count() == 0
    page.goto(desk_site + "/")
    ask_in_chat(page, QUESTION)
    reply = page.locator("#chat .message").filter(has_text=re.compile("Sources|Not covered"))
    reply.last.wait_for(timeout=120_000)
    assert "Bayline" not in page.locator("#chat").inner_text()
    assert "Marina Works" not in page.locator("#chat").inner_text()


def test_a_visitor_gets_no_editing_control_and_no_editing_rights(page, desk_site: str  # noqa: F811
                                                                 ) -> None:
    page.goto(desk_site + "/sources")
    page.locator("#docs tbody tr").first.wait_for(timeout=20_000)
    assert page.locator("#login").is_visible()
    assert not page.locator("#editor").is_visible()
    assert page.locator("#docs button").count() == 0
    assert not page.locator("th.edit-col").is_visible()
    _shot(page, "sources-desk-visitor")
    statuses = page.evaluate("""async () => {
        const calls = [["POST", "/api/sources/files?name=a.txt", "hello"],
                       ["POST", "/api/sources/urls", JSON.stringify({url: "https://example.org/"})],
                       ["PATCH", "/api/sources/documents/x", JSON.stringify({title: "t"})],
                       ["PUT", "/api/sources/documents/x/file?name=a.txt", "hello"],
                       ["DELETE", "/api/sources/documents/x", null],
                       ["GET", "/api/sources/jobs", null]];
        const out = [];
        for (const [method, url, body] of calls) {
            const r = await fetch(url, {method, body, headers: {"Content-Type": "application/json"}});
            out.push(r.status);
        }
        return out;
    }""")
    assert statuses == [401] * 6


def test_markup_in_an_uploaded_page_and_its_name_stays_inert(page, desk_site: str  # noqa: F811
                                                            ) -> None:
    import httpx

    html = ('<html><head><title>Pier <img src=x onerror="window.__xss=1"> notice</title>'
            '<script>window.__xss = 2</script></head><body><article><p>The pier will close '
            'for repairs on Friday, the harbor master announced after the storm.</p>'
            '<p onmouseover="window.__xss=3">Boats must moor at the east dock until the '
            'repairs end.</p></article></body></html>')
    auth = {"Authorization": f"Bearer {TOKEN}"}
    name = '<img src=x onerror="window.__xss=4">.html'
    job = httpx.post(f"{desk_site}/api/sources/files", params={"name": name},
                     content=html.encode(), headers=auth, timeout=60).json()
    for _ in range(600):
        job = httpx.get(f"{desk_site}/api/sources/jobs/{job['id']}", headers=auth).json()
        if job["status"] in ("done", "failed"):
            break
        page.wait_for_timeout(200)
    assert job["status"] == "done", job["error"]
    page.goto(desk_site + "/sources")
    row = page.locator(f"#docs tr[data-doc-id='{job['doc_id']}']")
    row.wait_for(timeout=20_000)
    assert "<img" in row.locator("strong").inner_text()  # shown as text
    text = _answer(page, "When will the pier close for repairs?")
    assert "The pier will close for repairs on Friday" in text
    page.locator("#citations label").first.click()
    page.locator("#context mark.quote").wait_for(timeout=20_000)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#docs img, #chat img, #context img").count() == 0
