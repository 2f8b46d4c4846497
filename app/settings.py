"""Settings, read from the environment with the prefix ``DEMARCHE_``."""

import os
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

DEVELOPMENT_CURSOR_SECRET = "demarche-development-cursor-secret"
"""Public, being in the source: whoever knows it signs cursors the server takes for its own."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMARCHE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/demarche.db"
    """SQLAlchemy URL: a SQLite file, or ``postgresql+psycopg://user@host/db``."""
    database_pool_size: int = 20
    """PostgreSQL connections one server process keeps open and uses at the most (and as many
    again to the read replica, when one is set)."""
    read_replica_url: str | None = None
    """SQLAlchemy URL of a PostgreSQL streaming replica of ``database_url``: reads (lists,
    records, views, the feed, exports, pages) go to it when it is up and has replayed the
    caller's last write (``Demarche-Min-Sequence``), else to the primary. PostgreSQL only."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body accepted on ordinary writes; larger ones answer 413."""
    import_max_body_bytes: int = 100 * 1024 * 1024
    """Largest body accepted by ``POST /v1/import``."""
    idempotency_ttl_hours: float = 24
    """How long the answer to a POST with an ``Idempotency-Key`` is kept for retries."""
    idempotency_lease_seconds: float = 10
    """How long a claimed ``Idempotency-Key`` outlives a process that died working on it."""
    statement_timeout_ms: int = Field(default=5000, ge=0)
    """Longest a database statement of a request may run; past it the statement is cancelled
    and the request answers 503 ``query-too-expensive``. 0 turns the bound off."""
    request_timeout_seconds: float = Field(default=15, ge=0)
    """Longest a request's reads may take together, however many statements they run; a
    statement that would end past it is cancelled and the request answers 503
    ``query-too-expensive``, like one past ``statement_timeout_ms``. 0 turns the bound off."""
    header_timeout_seconds: float = Field(default=10, gt=0)
    """Longest a request's head may take to arrive (from the connection, or from the
    request's first byte on a kept-alive one); past it the answer is 408 and the connection
    is closed (``app/serving.py``)."""
    body_idle_seconds: float = Field(default=30, gt=0)
    """Longest a request's body may pause between two chunks before the connection is closed."""
    connections_per_address: int = Field(default=64, ge=0)
    """Connections one client address may hold open at once (more are answered 429); 0: no
    cap. Behind a proxy, every connection has the proxy's address."""
    waiting_connections: int = Field(default=128, ge=1)
    """Connections that may wait for a request to arrive whole (idle keep-alive ones
    included); a new one past that closes the one that has waited the longest."""
    log_level: str = "INFO"
    cursor_secret: str = DEVELOPMENT_CURSOR_SECRET
    """Key that signs pagination cursors; set a private value in production (the server
    refuses to start with the development one when anonymous reads are off)."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = Field(default=None, ge=1)
    """Worker processes ``demarche serve`` runs; unset, one per core in production (anonymous
    reads off) and one in development (:meth:`worker_processes`)."""
    public_read: bool = True
    """Serve published records to requests without a key; turn off in production."""
    lean_reads: bool = True
    """Answer the commonest reads (a first page of incidents, an incident or an actor by id)
    right after the edge, past the framework (:mod:`app.kit.lean`): the same answers, sooner.
    Off, every request goes through its route; on with a read replica set, the same."""
    kept_answers_mb: float = 64
    """Memory for the answers of views and searches kept while no write commits (:mod:`app.kit.kept`),
    per process; served past the framework, so only with ``lean_reads``. 0 keeps none."""
    key_cache_seconds: float = 5
    """How long a process serves a verified API key from memory; a key revoked by another
    process is refused by this one at the latest this long after. 0 looks up every request."""
    rate_limit: str = "600/minute"
    """Requests allowed per key (per client address without one), in the ``limits`` notation."""
    rate_limit_storage: str = "memory://"
    """Where rate-limit counts live: ``memory://`` (one process) or ``redis://host:port/db`` (shared)."""
    rate_limit_prefix: str = "demarche"
    """Prefix of the rate-limit keys in shared storage."""
    trusted_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1", "::1", "testserver"]
    """Host names the server answers to, comma-separated; ``*.example.org`` for subdomains, ``*`` for any."""
    cors_origins: Annotated[list[str], NoDecode] = []
    """Origins whose browser pages may call the API, comma-separated; none by default."""

    def check_secrets(self) -> None:
        """Refuse to serve a private deployment (no anonymous reads) whose cursors anyone can sign."""
        if not self.public_read and self.cursor_secret == DEVELOPMENT_CURSOR_SECRET:
            raise ValueError(
                "DEMARCHE_CURSOR_SECRET is the development default, which anyone can read in the source, "
                "and DEMARCHE_PUBLIC_READ is false (a private deployment): set DEMARCHE_CURSOR_SECRET "
                "to a private value."
            )

    def check_replica(self) -> None:
        """Refuse a read replica that is not PostgreSQL's, or beside a SQLite database."""
        if not self.read_replica_url:
            return
        engines = {make_url(url).get_backend_name() for url in (self.database_url, self.read_replica_url)}
        if engines != {"postgresql"}:
            raise ValueError(
                "DEMARCHE_READ_REPLICA_URL names a read replica, which needs PostgreSQL for both it and "
                "DEMARCHE_DATABASE_URL (a streaming replica of that database); unset it with SQLite."
            )

    def worker_processes(self) -> int:
        """The worker processes to serve with: ``workers``, or else one per core this process
        may run on when anonymous reads are off, and one when they are on. A container held
        to fewer cores by a CPU quota than it sees should set ``workers``."""
        if self.workers is not None:
            return self.workers
        if self.public_read:
            return 1
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    @field_validator("trusted_hosts", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
