"""Checks made before any handler reads a request: the body's media type (415) and size
(413, by ``Content-Length`` and while streaming), and NUL characters, which no text field
holds and PostgreSQL cannot store (422)."""

import re
from email.message import Message
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as ASGIMessage

from app.kit.problems import PayloadTooLarge, UnsupportedMediaType, invalid, refuse

# ``\u0000`` in JSON text, unless its backslash is itself escaped
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")

BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON_TYPES = ("application/json",)
NDJSON_TYPE = "application/x-ndjson"
FORM_TYPE = "application/x-www-form-urlencoded"
IMPORT_PATH = "/v1/import"
CONVERTED_TYPES = frozenset(
    {
        "application/json",
        NDJSON_TYPE,
        "text/tab-separated-values",
        "text/csv",
        "text/plain",
        "application/zip",
        "application/x-zip-compressed",
        "application/octet-stream",
    }
)
"""The media types of an import's body with ``from`` (a data set's own file)."""


def has_escaped_nul(text: bytes) -> bool:
    return b"\\u0000" in text and _ESCAPED_NUL.search(text) is not None


def _media_type(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type
    return message.get_content_type()


def _is_json(content_type: str, allow_ndjson: bool) -> bool:
    kind = _media_type(content_type)
    return kind == "application/json" or kind.endswith("+json") or (allow_ndjson and kind == NDJSON_TYPE)


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        import_max_body_bytes: int,
        import_path: str,
        form_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.form_paths = form_paths
        """Paths that take an HTML form's body (``application/x-www-form-urlencoded``)."""
        self.max_body_bytes = max_body_bytes
        self.import_max_body_bytes = import_max_body_bytes
        self.import_path = import_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        is_import = scope["path"] == self.import_path
        limit = self.import_max_body_bytes if is_import else self.max_body_bytes
        length = headers.get("content-length")
        has_body = headers.get("transfer-encoding") == "chunked" or (length not in (None, "0"))
        if length is not None and length.isdigit() and int(length) > limit:
            await refuse(scope, send, PayloadTooLarge(f"The request body is larger than {limit} bytes."))
            return
        content_type = headers.get("content-type", "")
        is_form = scope["path"] in self.form_paths and content_type.startswith(FORM_TYPE)
        converted = is_import and "from" in parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if converted and has_body and _media_type(content_type) not in CONVERTED_TYPES:
            accepted = ", ".join(sorted(CONVERTED_TYPES))
            await refuse(scope, send, UnsupportedMediaType(f"With `from`, send the file as one of {accepted}."))
            return
        if has_body and not converted and not is_form and not _is_json(content_type, is_import):
            accepted = "application/json" + (" or application/x-ndjson" if is_import else "")
            await refuse(scope, send, UnsupportedMediaType(f"Send the body as {accepted}."))
            return

        received = 0

        async def limited_receive() -> ASGIMessage:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"The request body is larger than {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)


async def reject_nul(request: Request) -> None:
    """A dependency of every route: 422 for a NUL character in the path, the query or a
    JSON body (the body is read once; FastAPI reuses it). An import's body is streamed, and
    checked line by line instead."""
    if "\x00" in request.scope["path"]:
        raise invalid(["path"], "The path contains a NUL character.")
    # a NUL reaches the query only percent-encoded (the request line cannot carry one)
    if b"%00" in request.scope["query_string"]:
        raise invalid(["query"], "The query contains a NUL character.")
    if request.method in BODY_METHODS and request.url.path != IMPORT_PATH and has_escaped_nul(await request.body()):
        raise invalid(["body"], "The body contains a NUL character.")
