"""The sources desk on the web: the page `/sources` and its JSON API under
`/api/sources/...` (login, listing, jobs, upload, URL, edit, replace, remove).

Every editing request needs an editor: a token (`Authorization: Bearer …` or
`X-Editor-Token`), or the session cookie set by the login form plus its CSRF token
in `X-CSRF-Token`. With no token configured, editing is off (403). Desk errors
become HTTP statuses in `ui.errors`, with every other domain error. The page renders every
document field with `textContent` (static/sources.js), never as HTML.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rag import Pipeline, RagError
from rag.desk.auth import Editors, Sessions
from rag.desk.errors import AccessError, UnknownDocument
from rag.desk.service import Desk, Meta
from rag.desk.uploads import Staged, check_name, receive, staged_path, too_large
from rag.ingest.manifest import KINDS

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
COOKIE = "rag_editor"
# The page: our own script and style only, never framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'")


class MetaIn(BaseModel):
    title: str | None = Field(None, max_length=300)
    publisher: str | None = Field(None, max_length=200)
    date: str | None = Field(None, max_length=40)
    kind: str | None = Field(None, max_length=40)

    def meta(self) -> Meta:
        return Meta(self.title, self.publisher, self.date, self.kind or None)


class UrlIn(MetaIn):
    url: str = Field(max_length=2000)


class LoginIn(BaseModel):
    token: str = Field(max_length=500)


class Access:
    """Who is asking: an editor (by token or session) or nobody."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.editors = Editors(pipeline.settings.serve.editor_tokens)
        self.sessions = Sessions(pipeline.settings.serve.desk.session_hours)

    def editor(self, request: Request, write: bool = True) -> str:
        """The editor's label; raises `AccessError` (403 editing off or bad CSRF, 401
        no or wrong credential)."""
        if not self.editors.enabled:
            raise AccessError("editing is off: no editor token is configured "
                              "(RAG_SERVE__EDITOR_TOKENS; see the README)", 403)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else \
            request.headers.get("x-editor-token")
        if token:
            label = self.editors.who(token)
            if label is None:
                raise AccessError("wrong editor token", 401)
            return label
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise AccessError("editors only: log in on /sources, or send the token as "
                              "`Authorization: Bearer TOKEN`", 401)
        if write:
            session.check_csrf(request.headers.get("x-csrf-token"))
        return session.editor


def mount_sources(app: FastAPI, pipeline: Pipeline) -> Desk:
    """Add the page and `/api/sources/...` to `app`; start the desk (finishing what a
    killed job left) on `pipeline`'s ingestor, so answers switch to what it commits.
    Returns the desk. The app maps the desk's errors (`ui.errors`)."""
    desk = Desk(pipeline.ingestor)
    try:
        for note in desk.recover():
            log.warning("sources desk: %s", note)
    except RagError as exc:  # e.g. an index built with other settings: asking reports it
        log.warning("sources desk: could not check for unfinished jobs (%s)", exc)
    access = Access(pipeline)
    app.include_router(_page_router())
    app.include_router(_api_router(desk, access))
    app.router.on_shutdown.append(desk.jobs.stop)
    return desk


def _page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for route, name, media in (("/sources", "sources.html", "text/html"),
                               ("/sources.js", "sources.js", "text/javascript"),
                               ("/sources.css", "sources.css", "text/css")):
        router.add_api_route(route, _static(name, media), methods=["GET"])
    return router


def _static(name: str, media: str) -> Any:
    def serve() -> FileResponse:
        return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "no-cache"})
    return serve


def _api_router(desk: Desk, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/sources", tags=["sources desk"])
    cfg = desk.cfg
    _session_routes(router, desk, access)

    @router.get("/documents")
    def documents(request: Request) -> list[dict[str, Any]]:
        """Every indexed document: metadata, pages, passages, hash, provenance."""
        if not cfg.public_listing:
            access.editor(request, write=False)
        return desk.documents()

    @router.get("/jobs")
    def jobs(request: Request) -> list[dict[str, Any]]:
        access.editor(request, write=False)
        return desk.jobs.snapshot()

    @router.get("/jobs/{job_id}")
    def job(job_id: str, request: Request) -> dict[str, Any]:
        access.editor(request, write=False)
        found = desk.jobs.get(job_id)
        if found is None:
            raise UnknownDocument(f"no job {job_id!r} (finished jobs are forgotten after "
                                  f"{cfg.jobs_kept})")
        return found.to_json()

    @router.post("/files", status_code=202)
    async def upload(request: Request, name: str = Query(max_length=300),
                     title: str | None = None, publisher: str | None = None,
                     date: str | None = None, kind: str | None = None) -> dict[str, Any]:
        """Add one file: the raw bytes as the body, its name in `name`."""
        editor = access.editor(request)
        meta = MetaIn(title=title, publisher=publisher, date=date, kind=kind).meta()
        staged = await _receive(request, desk, name)
        with _unstaged_on_refusal(staged):
            return desk.add_file(staged, editor, meta).to_json()

    @router.put("/documents/{doc_id}/file", status_code=202)
    async def replace_file(doc_id: str, request: Request,
                           name: str = Query(max_length=300)) -> dict[str, Any]:
        """Replace a desk document with a new version (raw bytes as the body)."""
        editor = access.editor(request)
        staged = await _receive(request, desk, name)
        with _unstaged_on_refusal(staged):
            return desk.replace(doc_id, staged, editor).to_json()

    @router.post("/urls", status_code=202)
    def add_url(body: UrlIn, request: Request) -> dict[str, Any]:
        return desk.add_url(body.url.strip(), access.editor(request), body.meta()).to_json()

    @router.patch("/documents/{doc_id}", status_code=202)
    def edit(doc_id: str, body: MetaIn, request: Request) -> dict[str, Any]:
        return desk.edit(doc_id, body.meta(), access.editor(request)).to_json()

    @router.delete("/documents/{doc_id}", status_code=202)
    def remove(doc_id: str, request: Request) -> dict[str, Any]:
        return desk.remove(doc_id, access.editor(request)).to_json()

    return router


def _session_routes(router: APIRouter, desk: Desk, access: Access) -> None:
    @router.get("/session")
    def session(request: Request) -> dict[str, Any]:
        """Whether editing is on, and who is logged in (with the CSRF token to echo)."""
        found = access.sessions.get(request.cookies.get(COOKIE))
        return {"editing": access.editors.enabled, "editor": found and found.editor,
                "csrf": found and found.csrf, "public_listing": desk.cfg.public_listing,
                "max_upload_mb": desk.cfg.max_upload_mb, "kinds": list(KINDS)}

    @router.post("/login")
    def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
        _same_origin(request)
        if not access.editors.enabled:
            raise AccessError("editing is off: no editor token is configured "
                              "(RAG_SERVE__EDITOR_TOKENS; see the README)", 403)
        label = access.editors.who(body.token)
        peer = request.client.host if request.client else None
        desk.audit.record(label or "?", "login", "ok" if label else "refused", peer=peer)
        if label is None:
            raise AccessError("wrong editor token", 401)
        made = access.sessions.create(label)
        response.set_cookie(COOKIE, made.id, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https",
                            max_age=int(desk.cfg.session_hours * 3600))
        return {"editing": True, "editor": label, "csrf": made.csrf}

    @router.post("/logout")
    def logout(request: Request, response: Response) -> dict[str, str]:
        session = access.sessions.get(request.cookies.get(COOKIE))
        if session is not None:
            session.check_csrf(request.headers.get("x-csrf-token"))
            access.sessions.drop(session.id)
        response.delete_cookie(COOKIE, path="/")
        return {"status": "logged out"}


def _same_origin(request: Request) -> None:
    """Refuse a login posted from another site's page (login CSRF)."""
    origin = request.headers.get("origin")
    if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        raise AccessError("login from another site refused", 403)


@contextmanager
def _unstaged_on_refusal(staged: Staged) -> Iterator[None]:
    """Delete a staged upload when its job is refused (a full queue)."""
    try:
        yield
    except RagError:
        shutil.rmtree(staged.path.parent, ignore_errors=True)
        raise


async def _receive(request: Request, desk: Desk, name: str) -> Staged:
    """Stream the body to the staging folder; an oversized one is refused by its
    Content-Length before a byte is read, or as soon as it passes the limit."""
    suffix = check_name(name)
    limit = desk.cfg.max_upload_mb * 2**20
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large(name, limit)
    path = staged_path(desk.staging, secrets.token_hex(8), name, suffix)
    return await receive(request.stream(), path, name, suffix, limit)
