"""The sources desk over HTTP: editing off by default, tokens, sessions and CSRF,
the endpoints as jobs, the page's headers, and what the widget's origins may do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Pipeline
from rag.desk.auth import token_entry

from .conftest import PROJECT_CORPUS
from .desk_support import HARBOR, desk_settings
from .fakes import FakeEmbedder

TOKEN, ENTRY = token_entry("alice")
WIDGET_ORIGIN = "https://news.example"


def _client(tmp: Path, tokens: list[str], **desk: object) -> TestClient:
    from ui.app import create_app

    settings = desk_settings(tmp, **desk).model_copy(deep=True)
    settings.serve.editor_tokens = tokens
    settings.serve.embed_origins = [WIDGET_ORIGIN]
    pipeline = Pipeline(settings, embedder=FakeEmbedder(name=settings.embedding.model))
    pipeline.ingest([PROJECT_CORPUS], progress=False)
    return TestClient(create_app(settings, pipeline))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _client(tmp_path_factory.mktemp("desk-api"), [ENTRY]) as c:
        yield c


EDITING = [("post", "/api/sources/files?name=a.txt"), ("post", "/api/sources/urls"),
           ("patch", "/api/sources/documents/x"), ("put", "/api/sources/documents/x/file?name=a.txt"),
           ("delete", "/api/sources/documents/x"), ("get", "/api/sources/jobs"),
           ("get", "/api/sources/jobs/abc")]


def _send(c: TestClient, method: str, url: str, **kw: object):  # type: ignore[no-untyped-def]
    body = {"url": "https://example.org/a"} if url.endswith("/urls") else \
        ({"title": "t"} if method == "patch" else None)
    if method in ("post", "put", "patch") and body is not None:
        return getattr(c, method)(url, json=body, **kw)
    if method in ("post", "put"):
        return getattr(c, method)(url, content=HARBOR.encode(), **kw)
    return getattr(c, method)(url, **kw)


def _wait(c: TestClient, job: dict, headers: dict) -> dict:  # type: ignore[type-arg]
    for _ in range(600):
        got = c.get(f"/api/sources/jobs/{job['id']}", headers=headers).json()
        if got["status"] in ("done", "failed"):
            return got  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_editing_is_off_without_a_token(tmp_path: Path) -> None:
    with _client(tmp_path, []) as c:
        assert c.get("/api/sources/session").json()["editing"] is False
        for method, url in EDITING:
            r = _send(c, method, url, headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 403, (method, url)
            assert "editing is off" in r.json()["error"]
        assert c.post("/api/sources/login", json={"token": TOKEN}).status_code == 403
        assert c.get("/api/sources/documents").status_code == 200  # listing stays public
        assert "sources-link" not in c.get("/").text


@pytest.mark.parametrize(("method", "url"), EDITING)
def test_every_editing_endpoint_needs_an_editor(client: TestClient, method: str, url: str) -> None:
    assert _send(client, method, url).status_code == 401
    r = _send(client, method, url, headers={"Authorization": "Bearer wrong-token"})
    assert r.status_code == 401 and r.json()["error"] == "wrong editor token"


def test_a_token_in_a_header_adds_and_removes(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/sources/files?name=Harbor%20Note.txt&publisher=Port", content=HARBOR,
                    headers=auth)
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    job = _wait(client, r.json(), auth)
    assert job["status"] == "done", job["error"]
    rows = {d["doc_id"]: d for d in client.get("/api/sources/documents").json()}
    assert rows["harbor-note"]["publisher"] == "Port"
    assert rows["harbor-note"]["provenance"].startswith("uploaded by alice")
    again = _wait(client, client.post("/api/sources/files?name=b.txt", content=HARBOR,
                                      headers=auth).json(), auth)
    assert again["status"] == "failed" and "not indexed twice" in again["error"]
    gone = _wait(client, client.delete("/api/sources/documents/harbor-note",
                                       headers=auth).json(), auth)
    assert gone["status"] == "done"
    assert "harbor-note" not in [d["doc_id"] for d in client.get("/api/sources/documents").json()]


def test_login_sets_a_strict_cookie_and_writes_need_its_csrf_token(tmp_path: Path) -> None:
    with _client(tmp_path, [ENTRY]) as c:
        assert c.post("/api/sources/login", json={"token": "nope"}).status_code == 401
        r = c.post("/api/sources/login", json={"token": TOKEN})
        assert r.status_code == 200 and r.json()["editor"] == "alice"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        csrf = r.json()["csrf"]
        assert c.get("/api/sources/session").json()["editor"] == "alice"
        assert c.get("/api/sources/jobs").status_code == 200  # reading needs no CSRF token
        r = c.patch("/api/sources/documents/x", json={"title": "t"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"]
        r = c.patch("/api/sources/documents/x", json={"title": "t"},
                    headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403
        r = c.patch("/api/sources/documents/x", json={"title": "t"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 202
        assert c.post("/api/sources/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert c.get("/api/sources/jobs").status_code == 401
        # A login form posted from another site's page is refused.
        r = c.post("/api/sources/login", json={"token": TOKEN},
                   headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        outcomes = [(e["action"], e["outcome"]) for e in
                    __import__("json").loads("[" + ",".join(
                        (tmp_path / "data" / "desk" / "audit.jsonl").read_text().splitlines())
                        + "]")]
        assert ("login", "refused") in outcomes and ("login", "ok") in outcomes


def test_the_listing_can_be_editors_only(tmp_path: Path) -> None:
    with _client(tmp_path, [ENTRY], public_listing=False) as c:
        assert c.get("/api/sources/documents").status_code == 401
        r = c.get("/api/sources/documents", headers={"X-Editor-Token": TOKEN})
        assert r.status_code == 200 and len(r.json()) == 1


def test_oversized_and_mislabelled_uploads_are_refused_at_once(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/sources/files?name=big.pdf", content=b"%PDF-1.4 tiny",
                    headers={**auth, "Content-Length": str(101 * 2**20)})
    assert r.status_code == 413 and "over the 100 MB upload limit" in r.json()["error"]
    r = client.post("/api/sources/files?name=photo.pdf", content=b"\x89PNG\r\n\x1a\n" + b"0" * 99,
                    headers=auth)
    assert r.status_code == 415
    assert r.json()["error"] == ("'photo.pdf': the content is a PNG image, not a .pdf file; "
                                 "upload it under its real type (PDF, HTML, Markdown or text)")
    r = client.post("/api/sources/files?name=tool.exe", content=b"MZ", headers=auth)
    assert r.status_code == 400 and "unsupported file type '.exe'" in r.json()["error"]


def test_the_page_is_locked_down_and_the_widget_gets_no_editing(client: TestClient) -> None:
    r = client.get("/sources")
    assert r.status_code == 200 and "sources.js" in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "sources-link" in client.get("/").text  # editing is on: the chat links the desk
    widget = client.get("/embed").text + client.get("/embed-app.js").text
    assert "/api/sources/" not in widget and "token" not in widget.lower()
    # The widget's origin may ask questions but its scripts cannot edit: the preflight
    # for an editing request is refused (no DELETE, no Authorization header).
    pre = client.options("/api/sources/documents/x", headers={
        "Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 400
    r = client.post("/api/sources/files?name=a.txt", content=HARBOR,
                    headers={"Origin": WIDGET_ORIGIN})
    assert r.status_code == 401
    assert r.headers.get("access-control-allow-credentials") is None
