"""The per-client limit in a real browser: a clear message in the widget and the chat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.web import serving
from rag import Pipeline

from .browser import ask_in_chat, browser, page  # noqa: F401 (fixtures)
from .conftest import PROJECT_CORPUS, make_settings, serve_groups

pytestmark = [pytest.mark.browser, pytest.mark.real_model]


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:
    """An app whose readers may ask one question (and one more every ten minutes)."""
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("strict")
    settings = make_settings(tmp, serve=serve_groups(rate_burst=1, rate_per_minute=0.1))
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.ingest([PROJECT_CORPUS], progress=False)
    with serving(create_app(settings, pipeline)) as url:
        yield url


def test_rate_limit_is_a_clear_message_in_widget_and_chat(page, strict_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(strict_site + "/embed")
    for _ in range(2):
        page.locator("#q").fill("How long did prosecutions take?")
        page.locator("button[type=submit]").click()
        page.locator(".a:not(.pending)").last.wait_for(timeout=60_000)
    limited = page.locator(".a.limited")
    limited.wait_for(timeout=20_000)
    assert limited.inner_text().startswith("Too many questions from your address: please wait")
    assert page.locator("blockquote").count() >= 1  # the first question was answered
    page.goto(strict_site + "/")
    ask_in_chat(page, "Who drafted the policy directive?")
    page.get_by_text("Too many questions from your address").first.wait_for(timeout=30_000)
    assert page.locator("#chat .message").count() == 0
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in
               text_string_to_metric_families(httpx.get(strict_site + "/metrics").text)
               for s in f.samples}
    assert samples[("rag_rate_limited_total", (("route", "/api/ask"),))] == 1
    assert samples[("rag_rate_limited_total", (("route", "chat"),))] == 1
