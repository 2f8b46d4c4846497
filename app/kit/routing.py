"""Route-level helpers shared by the collections."""

from typing import Annotated

from fastapi import Body, Path

from app.kit import problems

IdPath = Annotated[str, Path(description="The record's id.")]
ActorPath = Annotated[str, Path(description="The actor's id or slug.")]

READ_ERRORS = problems.responses(401, 404, 422, 429, 503)
LIST_ERRORS = problems.responses(400, 401, 422, 429, 503)
WRITE_ERRORS = problems.responses(400, 401, 403, 409, 413, 415, 422, 429)
UPDATE_ERRORS = problems.responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 429)
DELETE_ERRORS = problems.responses(401, 403, 404, 412, 422, 429)


def merge_patch_body(model: type) -> object:
    """A body documented as a JSON merge patch (RFC 7396) of ``model``."""
    return Annotated[model, Body(media_type="application/merge-patch+json")]
