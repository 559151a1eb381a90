"""The embeddable widget: `/embed` (a compact chat page for an iframe), its script,
and `/embed.js` (what a newsroom pastes into an article page)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).with_name("static")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ask the zero-tolerance report</title>
<style>
 body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
        display: flex; flex-direction: column; height: 100vh; color: #1d2330; }}
 header {{ padding: 8px 12px; border-bottom: 1px solid #e3e6ea; font-weight: 600; }}
 #log {{ flex: 1; overflow-y: auto; padding: 8px 12px; }}
 .q {{ margin: 10px 0 4px; font-weight: 600; white-space: pre-wrap; }}
 .a blockquote {{ margin: 6px 0; padding: 4px 10px; border-left: 3px solid #f0b400;
                  background: #fffbea; white-space: pre-wrap; }}
 .a.refused {{ color: #6b3d00; background: #fff4e5; padding: 6px 10px; }}
 .a.uncertain {{ border: 1px dashed #8a94a3; padding: 6px 10px; }}
 .a.uncertain blockquote {{ border-left-color: #8a94a3; background: #f4f5f7; }}
 .uncertain-head {{ margin: 0 0 6px; color: #3d4554; }}
 .a.error {{ color: #8a1c1c; }}
 .sources {{ font-size: 13px; padding-left: 20px; }}
 .where {{ color: #5b6472; }}
 .copy {{ font-size: 12px; padding: 1px 8px; margin-left: 6px; }}
 .a.limited {{ color: #6b3d00; background: #fff4e5; padding: 6px 10px; }}
 form {{ display: flex; gap: 6px; padding: 8px 12px; border-top: 1px solid #e3e6ea; }}
 input {{ flex: 1; padding: 6px 8px; font: inherit; }}
 button {{ padding: 6px 14px; font: inherit; }}
</style></head>
<body>
<header>Ask the zero-tolerance report <small>· answers are verbatim, cited quotes</small></header>
<div id="log" aria-live="polite"></div>
<form id="ask-form"><input id="q" name="q" maxlength="{max_chars}" autocomplete="off"
 placeholder="Ask about the report and its coverage…" aria-label="Question">
<button type="submit">Ask</button></form>
<script src="copy.js"></script>
<script src="embed-app.js"></script>
</body></html>
"""


def make_embed_router(max_chars: int) -> APIRouter:
    router = APIRouter()
    page = PAGE.format(max_chars=html.escape(str(max_chars)))

    @router.get("/embed", response_class=HTMLResponse)
    def embed_page() -> str:
        return page

    @router.get("/embed-app.js")
    def embed_app() -> FileResponse:
        return FileResponse(STATIC / "embed-app.js", media_type="text/javascript")

    @router.get("/copy.js")
    def copy_script() -> FileResponse:
        return FileResponse(STATIC / "copy.js", media_type="text/javascript")

    @router.get("/embed.js")
    def embed_script() -> FileResponse:
        return FileResponse(STATIC / "embed.js", media_type="text/javascript")

    return router
