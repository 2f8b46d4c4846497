"""API keys: issue, list, revoke, and recognise a secret.

A secret reads ``dmk_<id>_<random>``: ``dmk_`` lets secret scanners spot a leaked key, the
16 hex digits of ``<id>`` are the key's public id (so a request costs one primary-key
lookup), and ``<random>`` carries 256 bits from the operating system's CSPRNG. Only the
SHA-256 of the whole secret is stored: with that much entropy a slow password hash adds
nothing but latency. Secrets are compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session

from app.access.keycache import KeyCache
from app.access.models import ApiKey, ApiKeyCreate, Caller, KeyScope
from app.kit.problems import NotFound
from app.kit.records import utcnow

PREFIX = "dmk_"
_SECRET = re.compile(r"dmk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key, never once per request."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def public(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "scope": key.scope,
        "prefix": f"{PREFIX}{key.id}",
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
    }


def create(session: Session, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A new key and its secret, which is not kept anywhere."""
    key_id = secrets.token_hex(8)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=key_id, name=data.name, scope=data.scope, secret_hash=digest(secret))
    session.add(key)
    session.flush()
    return key, secret


def live(session: Session) -> list[ApiKey]:
    """Keys not revoked, oldest first."""
    return list(
        session.execute(select(ApiKey).where(ApiKey.revoked_at.is_(None)).order_by(ApiKey.created_at, ApiKey.id))
        .scalars()
        .all()
    )


def revoke(session: Session, key_id: str) -> None:
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        raise NotFound(f"No api key {key_id!r}.")
    key.revoked_at = utcnow()
    session.flush()


def key_id_of(secret: str) -> str | None:
    """The public id inside a well-formed secret, or ``None``."""
    match = _SECRET.fullmatch(secret)
    return match.group(1) if match else None


def verify(engine: Engine, key_id: str, secret_digest: str) -> tuple[Caller, bool] | None:
    """The caller whose live key ``key_id`` has the secret of ``secret_digest``, and whether
    its ``last_used_at`` is over a minute old; ``None`` for an unknown or revoked key. One
    primary-key lookup."""
    with engine.connect() as connection:
        row = connection.execute(
            select(ApiKey.scope, ApiKey.secret_hash, ApiKey.last_used_at).where(
                ApiKey.id == key_id, ApiKey.revoked_at.is_(None)
            )
        ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, secret_digest):
        return None
    stale = row.last_used_at is None or row.last_used_at < utcnow() - LAST_USED_RESOLUTION
    return Caller(key_id, KeyScope(row.scope)), stale


async def recognise(engine: Engine, keys: KeyCache, secret: str) -> tuple[Caller | None, bool]:
    """The caller ``secret`` belongs to, or ``None``, and whether its use should be recorded
    (``last_used_at`` is stale): from ``keys``, the process's cache of verified keys, else
    looked up off the event loop and remembered."""
    key_id = key_id_of(secret)
    if key_id is None:
        return None, False
    secret_digest = digest(secret)
    cached = keys.get(key_id, secret_digest)
    if cached is not None:
        return cached or None, False
    return await keys.look_up(
        key_id, secret_digest, lambda: anyio.to_thread.run_sync(verify, engine, key_id, secret_digest)
    )


def touch(engine: Engine, key_id: str) -> None:
    """Record a use of ``key_id``, in a transaction of its own. Of concurrent calls only the
    first finds the stamp stale; the others change nothing."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
            )
            .values(last_used_at=now)
        )
