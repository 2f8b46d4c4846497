"""``/docs`` (Swagger UI) and ``/redoc`` served with their assets from the app itself, so
that they work with no network. The assets come from the fastapi-offline package, which
ships the Swagger UI and ReDoc bundles.

Both pages carry a Content-Security-Policy that lets them load nothing from elsewhere: the
ReDoc bundle, for one, links a logo on its vendor's CDN, which the browser then never asks
for."""

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.access.deps import Public

ASSETS = "/docs-assets"
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


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    app.include_router(router)
