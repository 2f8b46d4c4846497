"""The edge: one ASGI pass in front of every route.

For each HTTP request, in order: a request id (the client's ``X-Request-ID`` when it is a
short printable token, else a new one); the ``Host`` header must name a trusted host (400); no
API key may travel in the query string (400); a bearer key is recognised (from the
process's cache of verified keys, else by one primary-key read off the event loop) and an
unknown or revoked one is refused (401), as is a request with two ``Authorization`` headers
(400); the request is counted against its caller's rate limit (429 past it), and a refused key
also against its key id's count of failures, whatever the address. ``HEAD`` is served as
``GET`` without the body. The request's reads get a :class:`app.db.Deadline`
(``DEMARCHE_REQUEST_TIMEOUT_SECONDS``) until its answer begins. A database that cannot be
reached for a lookup makes the answer 503 with ``Retry-After``. The caller is left on
``request.state.caller`` for the scope dependencies, its key id on ``request.state.key_id``.

Every answer gets ``X-Request-ID``, the security headers, the ``RateLimit-*`` headers, and
``Cache-Control: no-store`` when a key was sent (each unless the route set its own). When the
answer is done, one JSON access line is logged (request id, method, route template, key id,
status, duration: never the raw path, whose ids would explode the log's cardinality, nor the
query string) and the request is counted in the Prometheus metrics.
"""

import asyncio
import logging
import re
import time
import uuid
from urllib.parse import parse_qsl

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access import service
from app.access.keycache import KeyCache
from app.access.models import ANONYMOUS, Caller
from app.access.ratelimit import Quota, RateLimiter
from app.db import REQUEST_DEADLINE, Deadline
from app.kit.observe import access_log, observe
from app.kit.problems import (
    BadRequest,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    render,
    schema_missing,
    unmigrated,
)

log = logging.getLogger("demarche")

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes are never refused for their rate."""
KEY_PARAMETERS = frozenset({"access_token", "api_key", "apikey"})
_KEY_HINT = re.compile(b"|".join(re.escape(w.encode()) for w in ("%", *KEY_PARAMETERS, service.PREFIX)), re.IGNORECASE)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
NO_STORE = (b"cache-control", b"no-store")
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer realm="demarche", error="invalid_token"'}
_CLIENT_ID = re.compile(r"[\w.:@/+=-]{1,128}")


def host_allowed(host: str, trusted: list[str]) -> bool:
    """Whether ``host`` (a ``Host`` header, port included) matches a trusted name: exact,
    ``*.example.org`` for subdomains, or ``*`` for any."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    return any(
        pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]))
        for pattern in trusted
    )


def carries_key(query_string: bytes) -> bool:
    """Whether the query string holds something that looks like an API key."""
    if _KEY_HINT.search(query_string) is None:
        return False  # nothing percent-encoded, and none of the words: no key, found without parsing
    return any(
        name.lower() in KEY_PARAMETERS or service.PREFIX in value
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    )


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        keys: KeyCache,
        limiter: RateLimiter,
        trusted_hosts: list[str],
        request_timeout_seconds: float = 0,
    ) -> None:
        self.app = app
        self.engine = engine
        self.keys = keys
        self.limiter = limiter
        self.trusted_hosts = [h.lower() for h in trusted_hosts]
        self.request_timeout_seconds = request_timeout_seconds
        self._touching: set[asyncio.Future] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        if method == "HEAD":
            # Every route that answers GET answers HEAD: the GET's status and headers
            # (its Content-Length too), without the body. The routes declare GET alone.
            scope = {**scope, "method": "GET"}
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"], state["caller"], state["key_id"] = request_id, ANONYMOUS, None
        extra = [*SECURITY_HEADERS, (b"x-request-id", request_id.encode())]
        status = 500
        deadline = Deadline(self.request_timeout_seconds)
        REQUEST_DEADLINE.set(deadline)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                deadline.at = None  # the answer has begun: a stream's rows are not timed
                status = message["status"]
                given = message.get("headers", [])
                present = {name.lower() for name, _ in given}
                message["headers"] = [*given, *(header for header in extra if header[0] not in present)]
            elif method == "HEAD":
                message = {**message, "body": b""}
            await send(message)

        try:
            problem = await self._admit(scope, headers, state, extra)
            if problem is not None:
                await render(Request(scope), problem)(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
            observe(method, route, status, elapsed)
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "key_id": state.get("key_id"),
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    }
                },
            )

    async def _admit(
        self, scope: Scope, headers: dict[bytes, bytes], state: dict, extra: list[tuple[bytes, bytes]]
    ) -> Problem | None:
        """Check one request; the problem that refuses it, or ``None`` to serve it."""
        if not host_allowed(headers.get(b"host", b"").decode("latin-1"), self.trusted_hosts):
            return BadRequest(
                "The Host header names a host this server does not serve: the names it serves are set "
                "with DEMARCHE_TRUSTED_HOSTS."
            )
        if carries_key(scope["query_string"]):
            return BadRequest("API keys are accepted only in the Authorization header, never in the URL.")
        authorization = headers.get(b"authorization")
        caller: Caller | None = ANONYMOUS
        key_id = None
        if authorization is not None:
            extra.append(NO_STORE)
            if sum(name == b"authorization" for name, _ in scope["headers"]) > 1:
                # Which one counts would depend on the server or proxy: none does.
                return BadRequest("The request carries more than one Authorization header.")
            try:
                caller, key_id = await self._authenticate(authorization.decode("latin-1"))
            except SQLAlchemyError as exc:
                if schema_missing(exc):
                    log.warning("database schema missing or behind: run `demarche migrate`")
                    return unmigrated()
                log.warning("database unavailable: %s", type(exc).__name__)
                return ServiceUnavailable("The database is unavailable; retry shortly.", headers={"Retry-After": "5"})
        if caller is not None:
            state["caller"], state["key_id"] = caller, caller.key_id
        if scope["path"] not in UNLIMITED_PATHS:
            quota = await self._count(scope, caller, key_id)
            if quota is not None:
                extra.extend(quota.headers())
                if quota.exceeded:
                    return TooManyRequests(
                        f"At most {quota.limit} requests per window; retry in {quota.reset} s.",
                        headers={"Retry-After": str(quota.reset)},
                    )
        if caller is None:
            return Unauthorized("The API key is malformed, unknown or revoked.", headers=INVALID_TOKEN)
        return None

    async def _authenticate(self, authorization: str) -> tuple[Caller | None, str | None]:
        """The caller a bearer secret belongs to, or ``None``, and the key id the secret names
        (if any). A use is recorded (``last_used_at``) off the request's path."""
        kind, _, secret = authorization.partition(" ")
        if kind.lower() != "bearer":
            return None, None
        caller, stale = await service.recognise(self.engine, self.keys, secret.strip())
        if stale:
            touching = asyncio.get_running_loop().run_in_executor(None, self._touch, caller.key_id)
            self._touching.add(touching)
            touching.add_done_callback(self._touching.discard)
        return caller, service.key_id_of(secret.strip())

    def _touch(self, key_id: str) -> None:
        try:
            service.touch(self.engine, key_id)
        except SQLAlchemyError as exc:
            log.warning("could not record the use of key %s: %s", key_id, type(exc).__name__)

    async def _count(self, scope: Scope, caller: Caller | None, key_id: str | None) -> Quota | None:
        if caller is not None and caller.key_id is not None:
            return await self.limiter.hit(f"key:{caller.key_id}")
        client = scope.get("client")
        quota = await self.limiter.hit(f"addr:{client[0] if client else 'unknown'}")
        if caller is None and key_id is not None:
            # Secrets tried for one key id are counted whatever address sends them, so that
            # guesses spread over many addresses are limited too. (Never the key's own
            # count: guesses must not use up its owner's requests.)
            tried = await self.limiter.hit(f"failed:{key_id}")
            if tried is not None and (quota is None or tried.exceeded):
                quota = tried
        return quota
