"""The table of ``Idempotency-Key`` claims and the answers kept for them."""

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from app.kit.records import JSONType, utcnow


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True, max_length=64, description="SHA-256 of the credential sent.")
    key: str = Field(primary_key=True, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    locked_until: datetime
    fingerprint: str | None = Field(default=None, max_length=64)
    status: int | None = None
    headers: list[list[str]] | None = Field(default=None, sa_type=JSONType)
    body: bytes | None = Field(default=None, sa_type=LargeBinary)
