"""Real-browser tests: Debian's headless Chromium driven by Playwright, the app
served on loopback with the real model.

Screenshots go to test-artifacts/screenshots/ on failure, and for every test when
RAG_SCREENSHOTS=1 (or to the folder RAG_SCREENSHOTS names).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from rag import Pipeline

from devtools.web import free_port, serving

from .browser import ask_in_chat, browser, page  # noqa: F401 (fixtures)
from .conftest import PROJECT_CORPUS, make_settings, serve_groups

pytestmark = [pytest.mark.browser, pytest.mark.real_model]

XSS_DOC = (
    "Harbor bulletin.\n\n"
    "The harbor council met on Monday <script>window.__xss = 1</script> to approve the "
    "dredging budget for the marina. The dredging notice was posted "
    "<img src=x onerror=\"window.__xss = 2\"> at the harbor office.\n")
XSS_QUESTION = "What did the harbor council approve <img src=x onerror=\"window.__xss = 3\">?"


def _host_page(chat_url: str) -> FastAPI:
    """A newsroom article page that embeds the widget with the documented snippet."""
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def article() -> str:
        return (f"<!doctype html><html><head><title>Article</title></head><body>"
                f"<h1>Our story on the zero-tolerance report</h1><p>Article text.</p>"
                f'<script src="{chat_url}/embed.js" data-height="600"></script>'
                f"<p id='after'>More article text.</p></body></html>")

    @app.get("/harbor-only", response_class=HTMLResponse)
    def harbor_only() -> str:  # the widget restricted to one kind of source
        return (f'<!doctype html><html><head><title>Harbor</title></head><body>'
                f'<script src="{chat_url}/embed.js" data-kinds="other"></script></body></html>')

    @app.get("/probe", response_class=HTMLResponse)
    def probe() -> str:
        return "<!doctype html><title>probe</title>"
    return app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[dict[str, str]]:
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("web")
    (tmp / "docs").mkdir()
    (tmp / "docs" / "harbor-bulletin.txt").write_text(XSS_DOC, encoding="utf-8")
    chat_port, host_port, other_port = free_port(), free_port(), free_port()
    host_url = f"http://127.0.0.1:{host_port}"
    # Limits a whole test module never meets: they are tested with `strict_site`.
    settings = make_settings(tmp, serve=serve_groups(embed_origins=[host_url],
                                                        rate_burst=1000))
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([PROJECT_CORPUS, tmp / "docs"], progress=False)
    chat_url = f"http://127.0.0.1:{chat_port}"
    with serving(create_app(settings, pipeline), chat_port), \
            serving(_host_page(chat_url), host_port), \
            serving(_host_page(chat_url), other_port) as other_url:
        yield {"chat": chat_url, "host": host_url, "other": other_url}


def test_chat_answers_with_quotes_and_shows_the_passage(page, site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site["chat"] + "/")
    ask_in_chat(page, "Who drafted the policy directive?")
    answer = page.locator("#chat .message").filter(has_text="Sources").last
    answer.wait_for(timeout=60_000)
    assert "Gene Hamilton, counselor to the attorney general" in answer.inner_text()
    assert "[1]" in answer.inner_text()
    page.locator("#citations label").first.click()
    mark = page.locator("#context mark.quote")
    mark.wait_for(timeout=20_000)
    assert mark.inner_text().startswith("Gene Hamilton, counselor to the attorney general")
    assert "Hamilton told the inspector general" in page.locator("#context").inner_text()


def test_chat_fetches_nothing_from_outside(page, site) -> None:  # type: ignore[no-untyped-def]
    """Offline by default: no analytics, fonts or scripts from other hosts."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(site["chat"] + "/")
    ask_in_chat(page, "Who drafted the policy directive?")
    page.locator("#chat .message").filter(has_text="Sources").last.wait_for(timeout=60_000)
    outside = [u for u in requested
               if not u.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))]
    assert not outside, outside


def test_refusal_is_a_distinct_not_covered_state(page, site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site["chat"] + "/")
    ask_in_chat(page, "What is the capital of France?")
    page.get_by_text("Not covered by these documents.").wait_for(timeout=60_000)
    assert page.locator("#chat blockquote").count() == 0


def test_widget_embedded_in_an_article_page_answers(page, site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site["host"] + "/")
    frame_el = page.locator("iframe")
    frame_el.wait_for(timeout=20_000)
    assert frame_el.evaluate("f => f.getBoundingClientRect().height") == 600
    frame = page.frame_locator("iframe")
    frame.locator("#q").fill("How long did prosecutions take?")
    frame.locator("button[type=submit]").click()
    quote = frame.locator("blockquote").first
    quote.wait_for(timeout=60_000)
    assert "three to seven days" in frame.locator("#log").inner_text()
    assert frame.locator(".sources a").first.get_attribute("href").startswith("https://")


def test_widget_and_api_refuse_other_origins(page, site) -> None:  # type: ignore[no-untyped-def]
    # Framing from an origin that is not allowed: the browser blocks the iframe's content.
    page.goto(site["other"] + "/")
    page.locator("iframe").wait_for(timeout=20_000)
    page.wait_for_timeout(1500)
    frame = page.frames[-1]
    assert frame.url == "about:blank" or "#q" not in frame.content()
    assert not page.frame_locator("iframe").locator("#q").count()
    # Calling the API from that origin's scripts: refused by CORS.
    page.goto(site["other"] + "/probe")
    outcome = page.evaluate("""url => fetch(url + '/api/ask', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({question: 'How long did prosecutions take?'})})
        .then(() => 'allowed', () => 'refused')""", site["chat"])
    assert outcome == "refused"
    page.goto(site["host"] + "/")
    allowed = page.evaluate("""url => fetch(url + '/api/ask', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({question: 'How long did prosecutions take?'})})
        .then(r => r.json()).then(d => d.citations.length, () => -1)""", site["chat"])
    assert allowed >= 1


def test_markup_in_documents_and_questions_stays_inert(page, site) -> None:  # type: ignore[no-untyped-def]
    page.goto(site["chat"] + "/")
    ask_in_chat(page, XSS_QUESTION)
    answer = page.locator("#chat .message").filter(has_text="Sources").last
    answer.wait_for(timeout=60_000)
    text = page.locator("#chat").inner_text()
    assert "<script>window.__xss = 1</script>" in text or '<img src=x onerror=' in text
    page.locator("#citations label").first.click()
    page.locator("#context mark.quote").wait_for(timeout=20_000)
    assert "<" in page.locator("#context").inner_text()
    # The same through the widget.
    page.goto(site["host"] + "/")
    frame = page.frame_locator("iframe")
    frame.locator("#q").fill(XSS_QUESTION)
    frame.locator("button[type=submit]").click()
    frame.locator("blockquote").first.wait_for(timeout=60_000)
    assert "<" in frame.locator("#log").inner_text()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    for f in page.frames:
        assert f.evaluate("() => window.__xss") is None
    assert page.locator("#chat img, #context img").count() == 0


def test_kind_selector_and_data_kinds_restrict_the_search(page, site) -> None:  # type: ignore[no-untyped-def]
    """The news article answers this; with only "other" (the harbor bulletin) ticked
    in the chat, or set by data-kinds on the widget, it must not be quoted."""
    page.goto(site["chat"] + "/")
    selector = page.locator("#kinds")
    selector.wait_for(timeout=20_000)
    assert {"news", "other"} <= set(selector.locator("label").all_inner_texts())
    selector.get_by_label("other").check()
    ask_in_chat(page, "Who drafted the policy directive?")
    reply = page.locator("#chat .message").filter(
        has_text=re.compile("Sources|Not covered")).last
    reply.wait_for(timeout=60_000)
    assert "Gene Hamilton" not in page.locator("#chat").inner_text()
    page.goto(site["host"] + "/harbor-only")
    assert "kinds=other" in page.locator("iframe").get_attribute("src")
    frame = page.frame_locator("iframe")
    frame.locator("#q").fill("Who drafted the policy directive?")
    frame.locator("button[type=submit]").click()
    frame.locator(".a:not(.pending)").wait_for(timeout=60_000)
    assert "Gene Hamilton" not in frame.locator("#log").inner_text()
    frame.locator("#q").fill("What did the harbor council approve?")
    frame.locator("button[type=submit]").click()
    frame.locator("blockquote").first.wait_for(timeout=60_000)
    assert "dredging budget" in frame.locator("#log").inner_text()


def _api_answer(chat_url: str, question: str) -> dict:  # type: ignore[type-arg]
    import httpx

    r = httpx.post(f"{chat_url}/api/ask", json={"question": question, "draft": True}, timeout=60)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _publishable(c: dict) -> str:  # type: ignore[type-arg]
    """The documented copy format, written out independently of ui/cite_text.py."""
    url = c["url"].split("#")[0] + (f"#page={c['page']}" if c["page"] else "")
    page = f"p. {c['page']}" if c["page"] else ""
    parts = [c["title"], c["publisher"], c["date"], page, url]
    quote = f"{c['lead']} … {c['quote']}" if c.get("lead") else c["quote"]
    return f"“{quote}” — " + ", ".join(p for p in parts if p)


def _clipboard(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("() => navigator.clipboard.readText()")  # type: ignore[no-any-return]


def test_chat_copies_a_quote_and_the_answer(page, site) -> None:  # type: ignore[no-untyped-def]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    question = "Who drafted the policy directive?"
    page.goto(site["chat"] + "/")
    ask_in_chat(page, question)
    page.locator("#chat .message").filter(has_text="Sources").last.wait_for(timeout=60_000)
    expected = _api_answer(site["chat"], question)
    buttons = page.locator("#draft button.copy-quote")
    buttons.first.wait_for(timeout=20_000)
    assert buttons.count() == len(expected["citations"])
    for i, c in enumerate(expected["citations"]):
        buttons.nth(i).click()
        page.wait_for_timeout(200)
        assert _clipboard(page) == _publishable(c)
    page.locator("#draft #copy-answer").click()
    page.wait_for_timeout(200)
    copied = _clipboard(page)
    assert copied == expected["draft"]["markdown"]
    # The quotes first, after the uncertain heading when the answer is uncertain.
    head = ("**The documents may not answer this directly.** These are the closest passages; "
            "read them before relying on them.\n\n" if expected["status"] == "uncertain" else "")
    assert copied.startswith(f"{head}> “{expected['citations'][0]['quote']}” [1]")
    # The sources list has one entry per document, listing its quote numbers.
    shown = page.locator("#chat .message").filter(has_text="Sources").last.inner_text()
    for s in expected["draft"]["sources"]:
        assert shown.count(s["title"]) == 1 and s["numbers"] in shown


def test_widget_copies_a_quote_and_the_answer(page, site) -> None:  # type: ignore[no-untyped-def]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    question = "How long did prosecutions take?"
    page.goto(site["host"] + "/")
    frame = page.frame_locator("iframe")
    frame.locator("#q").fill(question)
    frame.locator("button[type=submit]").click()
    frame.locator("blockquote").first.wait_for(timeout=60_000)
    expected = _api_answer(site["chat"], question)
    buttons = frame.locator("button.copy-quote")
    assert buttons.count() == len(expected["citations"])
    for i, c in enumerate(expected["citations"]):
        buttons.nth(i).click()
        page.wait_for_timeout(200)
        assert _clipboard(page) == _publishable(c)
    frame.locator("button.copy-answer").click()
    page.wait_for_timeout(200)
    assert _clipboard(page) == expected["draft"]["markdown"]
    items = frame.locator(".sources li")
    assert items.count() == len(expected["draft"]["sources"])
    assert items.first.inner_text().startswith(expected["draft"]["sources"][0]["numbers"])


@pytest.fixture(scope="module")
def uncertain_site(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:
    """An app whose answered bar no answer reaches: every quoted answer is uncertain
    (the state itself, not the scorer, is what these tests look at)."""
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("uncertain")
    (tmp / "docs").mkdir()
    (tmp / "docs" / "harbor-bulletin.txt").write_text(XSS_DOC, encoding="utf-8")
    port = free_port()
    settings = make_settings(tmp, answer={"answered_bar": 1.0},
                             serve={"limits": {"rate_burst": 1000}})
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([PROJECT_CORPUS, tmp / "docs"], progress=False)
    with serving(create_app(settings, pipeline), port) as url:
        yield url


def test_uncertain_answers_are_marked_apart_in_chat_and_widget(page, uncertain_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(uncertain_site + "/")
    ask_in_chat(page, "Who drafted the policy directive?")
    reply = page.locator("#chat .message").filter(has_text="Sources").last
    reply.wait_for(timeout=60_000)
    text = reply.inner_text()
    assert text.index("The documents may not answer this directly.") < text.index("Gene Hamilton")
    assert "closest passage:" in text and page.locator("#chat blockquote").count() >= 1
    # Markup in the question and the quotes stays text in this state too.
    ask_in_chat(page, XSS_QUESTION)
    page.locator("#chat .message").filter(has_text="<img src=x").last.wait_for(timeout=60_000)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#chat img").count() == 0
    # The widget, served by the same app.
    page.goto(uncertain_site + "/embed")
    page.locator("#q").fill("Who drafted the policy directive?")
    page.locator("button[type=submit]").click()
    box = page.locator(".a.uncertain")
    box.wait_for(timeout=60_000)
    head = box.locator(".uncertain-head")
    assert head.inner_text().startswith("The documents may not answer this directly.")
    assert box.locator("blockquote").count() >= 1
    assert "Gene Hamilton" in box.inner_text()
    # Styled apart from an answer: a dashed frame and grey quote bars.
    assert "dashed" in box.evaluate("e => getComputedStyle(e).borderStyle")
    page.locator("#q").fill(XSS_QUESTION)
    page.locator("button[type=submit]").click()
    page.locator(".a.uncertain").nth(1).wait_for(timeout=60_000)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#log img").count() == 0


def test_the_chat_shows_the_start_of_each_new_answer(page, uncertain_site) -> None:  # type: ignore[no-untyped-def]
    """After several answers the newest one's first line, its state heading, is in
    view (the chat scrolls to an answer's start, not its end). A narrow window makes
    an answer taller than the chat's box, so scrolling to its end would hide it."""
    page.set_viewport_size({"width": 360, "height": 900})
    page.goto(uncertain_site + "/")
    for n in range(1, 4):
        ask_in_chat(page, ["Who drafted the policy directive?",
                           "How long did prosecutions take?"][n % 2])
        page.locator("#chat .message").filter(has_text="Sources").nth(n - 1).wait_for(
            timeout=60_000)
    page.wait_for_function("""() => {
        const m = [...document.querySelectorAll('#chat .message')].pop();
        let box = m.parentElement;
        while (box && !(/(auto|scroll)/.test(getComputedStyle(box).overflowY)
                        && box.scrollHeight > box.clientHeight)) box = box.parentElement;
        if (!box) return false;
        const top = m.getBoundingClientRect().top, b = box.getBoundingClientRect();
        return top >= b.top - 1 && top < b.bottom - 40;
    }""", timeout=20_000)
    heading = page.locator("#chat .message").filter(has_text="Sources").last.get_by_text(
        "The documents may not answer this directly.")
    box = heading.first.bounding_box()
    chat = page.locator("#chat").bounding_box()
    assert box is not None and chat is not None
    assert chat["y"] <= box["y"] <= chat["y"] + chat["height"], "the heading is out of view"


def test_a_confident_answer_is_not_marked_uncertain(page, site) -> None:  # type: ignore[no-untyped-def]
    """The default bars: whatever the state, the widget's box class says it, and an
    answered box carries no uncertain heading."""
    import httpx

    question = "How long did prosecutions take?"
    status = httpx.post(f"{site['chat']}/api/ask", json={"question": question},
                        timeout=60).json()["status"]
    page.goto(site["chat"] + "/embed")
    page.locator("#q").fill(question)
    page.locator("button[type=submit]").click()
    page.locator(".a:not(.pending)").first.wait_for(timeout=60_000)
    box = page.locator(".a:not(.pending)").first
    assert ("uncertain" in (box.get_attribute("class") or "")) == (status == "uncertain")
    assert (box.locator(".uncertain-head").count() == 1) == (status == "uncertain")
