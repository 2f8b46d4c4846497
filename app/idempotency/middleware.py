"""``Idempotency-Key`` on POST: a retry gets the first answer again instead of a second write.

The first request with a key claims it (a row of its own, committed at once). The request
then runs inside a transaction that this middleware opens: the handler's session joins it
(app/db.py), and the answer (status, the headers that matter, body) is written into the
key's row in that same transaction before it commits and before the client sees the answer.
So the writes and the stored answer are committed together or not at all. For a key:

- stored answer, same request (method, path, query, body): the answer again, with
  ``Idempotent-Replayed: true``; another request: 422;
- claimed and not finished: 409 with ``Retry-After``. A claim is held by a lease that the
  serving process renews while it works; a process that dies leaves it to lapse, and a
  retry after that runs the request anew (nothing of the dead one was committed).

The transaction begins once the whole body has arrived (kept in memory, then in a temporary
file past ``SPOOL_BYTES``): on SQLite a writer's transaction holds the database's one write
lock, which a slow upload must not hold for the time it takes to send.

Answers kept: every status below 500 except 401, 403, 408, 409 and 429, which a retry may
see differently (those give the key up again, and roll the request back). Keys are kept for
``idempotency_ttl_hours`` (24 by default), per API key (a key is private to the credential
that sent it). Paths whose answers carry a secret (a new API key's) are left out: their
answers are never stored.
"""

import asyncio
import hashlib
import re
from collections.abc import Set
from dataclasses import dataclass
from datetime import timedelta
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import orjson
from sqlalchemy import Connection, Engine, delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import IDEMPOTENCY_CONNECTION, WRITES, writing
from app.idempotency.models import IdempotencyKey
from app.kit.problems import BadRequest, Conflict, ValidationFailed, refuse, schema_missing, unmigrated
from app.kit.records import utcnow

HEADER = "idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = {b"content-type", b"location", b"etag", b"link", b"demarche-sequence"}
NOT_KEPT = {401, 403, 408, 409, 429}
SPOOL_BYTES = 8 * 1024 * 1024
"""A body kept in memory up to this size while it arrives, in a temporary file past it."""
CHUNK_BYTES = 64 * 1024


class KeyInFlight(Conflict):
    slug, title = "idempotency-key-in-flight", "Idempotency key in use"


class KeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "Idempotency key reused"


@dataclass(frozen=True)
class Store:
    """The table of keys, reached through its own short transactions."""

    engine: Engine
    lease: timedelta
    ttl: timedelta

    def claim(self, principal: str, key: str) -> IdempotencyKey | None:
        """Take the key (answering None), or answer the row of whoever has it."""
        now = utcnow()
        with writing(Session(self.engine)) as session:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - self.ttl))
            session.add(IdempotencyKey(principal=principal, key=key, locked_until=now + self.lease))
            try:
                session.commit()
                return None
            except IntegrityError:
                session.rollback()
            taken = session.execute(
                update(IdempotencyKey)
                .where(*self._pk(principal, key), IdempotencyKey.status.is_(None))
                .where(IdempotencyKey.locked_until < now)
                .values(locked_until=now + self.lease)
            )
            session.commit()
            if taken.rowcount == 1:  # the lease of a process that died had lapsed
                return None
            return session.get_one(IdempotencyKey, (principal, key))

    def renew(self, principal: str, key: str) -> None:
        with writing(Session(self.engine)) as session:
            session.execute(
                update(IdempotencyKey).where(*self._pk(principal, key)).values(locked_until=utcnow() + self.lease)
            )
            session.commit()

    def begin(self) -> Connection:
        """The transaction the request will run in (see :func:`app.db.get_session`)."""
        connection = self.engine.connect().execution_options(**{WRITES: True})
        connection.begin()
        return connection

    def finish(self, connection: Connection, principal: str, key: str, answer: "Answer | None") -> None:
        """Commit the request with its answer; or, with no answer worth keeping, roll it back
        and give the key up."""
        try:
            if answer is None:
                connection.rollback()
                self.release(principal, key)
                return
            connection.execute(
                update(IdempotencyKey)
                .where(*self._pk(principal, key))
                .values(fingerprint=answer.fingerprint, status=answer.status, headers=answer.headers, body=answer.body)
            )
            connection.commit()
        finally:
            connection.close()

    def release(self, principal: str, key: str) -> None:
        """Give the key up: a retry runs the request anew."""
        with writing(Session(self.engine)) as session:
            session.execute(delete(IdempotencyKey).where(*self._pk(principal, key)))
            session.commit()

    @staticmethod
    def _pk(principal: str, key: str) -> tuple[Any, Any]:
        return IdempotencyKey.principal == principal, IdempotencyKey.key == key


@dataclass
class Answer:
    fingerprint: str
    status: int
    headers: list[list[str]]
    body: bytes


class Idempotency:
    """ASGI middleware applying ``Idempotency-Key`` to every POST."""

    def __init__(self, app: ASGIApp, lease_seconds: float, ttl_hours: float, secret_paths: Set[str]) -> None:
        self.app = app
        self.lease = timedelta(seconds=lease_seconds)
        self.ttl = timedelta(hours=ttl_hours)
        self.secret_paths = secret_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keyed = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] not in self.secret_paths
        key = _header(scope, HEADER.encode()) if keyed else None
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.fullmatch(key):
            await refuse(scope, send, BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters."))
            return
        principal = hashlib.sha256((_header(scope, b"authorization") or "").encode()).hexdigest()
        store = Store(scope["app"].state.engine, self.lease, self.ttl)
        try:
            held = await run_in_threadpool(store.claim, principal, key)
        except DBAPIError as exc:
            if not schema_missing(exc):
                raise
            await refuse(scope, send, unmigrated())
            return
        fingerprint = _Fingerprint(scope, receive)
        if held is not None:
            await self._answer_held(scope, send, held, fingerprint)
            return
        renewing = asyncio.create_task(self._renew(store, principal, key))
        with SpooledTemporaryFile(SPOOL_BYTES) as body:
            try:
                await fingerprint.drain(body)
            except BaseException:
                renewing.cancel()
                await run_in_threadpool(store.release, principal, key)
                raise
            if not fingerprint.complete:  # the client went away before its body was whole
                renewing.cancel()
                await run_in_threadpool(store.release, principal, key)
                return
            connection = await run_in_threadpool(store.begin)
            scope.setdefault("state", {})[IDEMPOTENCY_CONNECTION] = connection
            answer = _Recorder()
            try:
                await self.app(scope, _replaying(body, receive), answer.send)
            finally:
                renewing.cancel()
                await run_in_threadpool(store.finish, connection, principal, key, answer.kept(fingerprint.hexdigest()))
        await answer.replay(send)

    async def _renew(self, store: Store, principal: str, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            await run_in_threadpool(store.renew, principal, key)

    @staticmethod
    async def _answer_held(scope: Scope, send: Send, held: IdempotencyKey, fingerprint: "_Fingerprint") -> None:
        if held.status is None:
            detail = "A request with this Idempotency-Key is still in progress; retry shortly."
            await refuse(scope, send, KeyInFlight(detail, headers={"Retry-After": "1"}))
            return
        await fingerprint.drain()
        if fingerprint.hexdigest() != held.fingerprint:
            await refuse(scope, send, KeyReused("This Idempotency-Key was used with another request; use a new key."))
            return
        headers = [(k.encode(), v.encode()) for k, v in held.headers or []]
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": held.status, "headers": headers})
        await send({"type": "http.response.body", "body": held.body or b""})


class _Fingerprint:
    """SHA-256 of the method, path, query and body, taken as the body streams past."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._receive = receive
        self._hash = hashlib.sha256(orjson.dumps([scope["method"], scope["path"], scope["query_string"].decode()]))
        self.complete = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._hash.update(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        return message

    async def drain(self, into: IO[bytes] | None = None) -> None:
        """Read the rest of the body (into ``into``, if given), so that the fingerprint covers
        all of it; it stays incomplete if the client goes away first."""
        while not self.complete:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                return
            if into is not None:
                into.write(message.get("body", b""))

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _replaying(body: IO[bytes], receive: Receive) -> Receive:
    """A ``receive`` that gives the app ``body`` (read whole already) in chunks, then what
    the client sends next (a disconnect)."""
    size = body.seek(0, 2)
    body.seek(0)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        chunk = body.read(CHUNK_BYTES)
        sent = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not sent}

    return replay


class _Recorder:
    """Holds the answer back until it is committed with the request."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 500
        self.headers: list[list[str]] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [[k.decode(), v.decode()] for k, v in message["headers"] if k.lower() in KEPT_HEADERS]
        self.messages.append(message)

    def kept(self, fingerprint: str) -> "Answer | None":
        if self.status >= 500 or self.status in NOT_KEPT:
            return None
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")
        return Answer(fingerprint, self.status, self.headers, body)

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: a retry with the same key and body gets the first answer again "
    "(`Idempotent-Replayed: true`) and writes nothing; the same key with another request is 422, "
    "and one whose first request is still running is 409. Keys are kept 24 hours, per API key.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def document(app: Any, secret_paths: Set[str]) -> None:
    """Put the ``Idempotency-Key`` header among the parameters of every POST operation but
    those of ``secret_paths``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for path, item in schema["paths"].items():
            operation = item.get("post") if path not in secret_paths else None
            if operation and PARAMETER not in operation.setdefault("parameters", []):
                operation["parameters"].append(PARAMETER)
        return schema

    app.openapi = openapi


def _header(scope: Scope, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == name), None)
