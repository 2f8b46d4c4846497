"""API keys: the table, the shapes served by ``/v1/keys``, and the caller of a request."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import ConfigDict
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.access.scopes import KeyScope
from app.kit.records import utcnow
from app.kit.schemas import NON_BLANK, WriteModel


class ApiKeyBase(SQLModel):
    name: str = Field(
        min_length=1,
        max_length=200,
        schema_extra={"pattern": NON_BLANK},
        description="What the key is for, e.g. the partner's name.",
    )
    scope: KeyScope = Field(
        sa_type=String(10), description="`read`, `write` (implies read) or `admin` (implies write)."
    )


class ApiKey(ApiKeyBase, table=True):
    """A key's public part and the SHA-256 of its secret; never the secret itself."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=16)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreate(ApiKeyBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "acled-sync", "scope": "write"}]})


class ApiKeyPublic(ApiKeyBase):
    id: str = Field(description="The key's public id; it appears in the secret, in logs and in `/v1/keys/{id}`.")
    prefix: str = Field(description="The start of the secret (`dmk_` and the id), to recognise a key by.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Within a minute of the key's latest use; null if never used.")


class ApiKeyCreated(ApiKeyPublic):
    secret: str = Field(description="The whole key, shown only in this answer: send it as `Authorization: Bearer`.")


class ApiKeyPage(SQLModel):
    data: list[ApiKeyPublic]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: a key's id and scope, or nobody (both ``None``)."""

    key_id: str | None = None
    scope: KeyScope | None = None

    @property
    def sees_unpublished(self) -> bool:
        """Drafts and retracted records are for keys that may write."""
        return self.scope is not None and self.scope.allows(KeyScope.write)


ANONYMOUS = Caller()
