"""``/docs`` (Swagger UI) and ``/redoc`` served with their assets from the app itself, so
that they work with no network. The assets come from the fastapi-offline package, which
ships the Swagger UI and ReDoc bundles.

Both pages carry a Content-Security-Policy that lets them load nothing from elsewhere: the
ReDoc bundle, for one, links a logo on its vendor's CDN, which the browser then never asks
for.

``/guide`` is the guide for callers (``docs/guide.md``), which the OpenAPI description links
to, drawn as one of the pages for people (their template, stylesheet and policy)."""

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.access.deps import Public
from app.db import ROOT
from app.kit.problems import NotFound
from app.pages.routes import page

ASSETS = "/docs-assets"
GUIDE = ROOT / "docs" / "guide.md"
"""The guide in the source checkout, or in the image's working directory (the Dockerfile
copies ``docs/`` there)."""
router = APIRouter(include_in_schema=False, tags=["docs"])
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _self_contained(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a policy that allows its own origin, its own inline scripts (by hash)
    and the inline styles and web workers that the bundles create."""
    html = page.body.decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


SWAGGER_UI = _self_contained(
    get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Demarche API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )
)
REDOC = _self_contained(
    get_redoc_html(
        openapi_url="/openapi.json",
        title="Demarche API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )
)


@router.get("/docs")
def swagger_ui(caller: Public) -> HTMLResponse:
    return SWAGGER_UI


@router.get("/redoc")
def redoc(caller: Public) -> HTMLResponse:
    return REDOC


@router.get("/guide")
def guide(caller: Public, request: Request) -> HTMLResponse:
    if request.app.state.guide is None:
        raise NotFound(f"The guide is not installed beside this server (it reads {GUIDE}).")
    return page(request, "guide.html", guide=request.app.state.guide, caller=caller)


def render_guide(text: str) -> Markup:
    """The guide's Markdown as HTML: CommonMark and its tables, raw HTML left as text, and
    each heading given the id GitHub gives it, so that the guide's links to its sections
    work in both places."""
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = markdown.parse(text)
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type == "heading_open":
            opening.attrSet("id", heading_id(inline.content))
    return Markup(markdown.renderer.render(tokens, markdown.options, {}))


def heading_id(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def install(app: FastAPI) -> None:
    app.state.guide = render_guide(GUIDE.read_text(encoding="utf-8")) if GUIDE.exists() else None
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    app.include_router(router)
