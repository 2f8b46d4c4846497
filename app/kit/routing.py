"""Route-level helpers shared by the collections."""

from typing import Annotated

from fastapi import Body, Path

from app.kit import problems

KEY_FORMS = (
    "`ref:{external_ref}` names the record by its `external_ref`; the key after the prefix is "
    "percent-decoded once, so send it percent-encoded as one path segment when it holds `/`, `?`, `#` "
    "or `%` (`encodeURIComponent`, or `quote(key, safe='')` in Python). An unknown key is 404."
)
IdPath = Annotated[str, Path(description="The record's id, or its natural key: " + KEY_FORMS)]
ActorPath = Annotated[
    str,
    Path(
        description="The actor's id or slug (also as `slug:{slug}`), one of its codes written `scheme:value` "
        "(`iso3:RUS`, `iso2:RU`, `fips:RS`, `cameo:RUSGOV`, `cow:365`, `gw:365`, `wikidata:Q159`; a CAMEO country "
        "code names the state with that ISO alpha-3 code too), or its natural key: " + KEY_FORMS
    ),
]
SourcePath = Annotated[
    str,
    Path(
        description="The source's id, or `url:{url}` (its URL, percent-encoded as one path segment: "
        "`/v1/sources/url:https%3A%2F%2Fexample.org%2Fnews%2F1`), or its natural key: " + KEY_FORMS
    ),
]

READ_ERRORS = problems.responses(401, 404, 422, 429, 503)
LIST_ERRORS = problems.responses(400, 401, 422, 429, 503)
WRITE_ERRORS = problems.responses(400, 401, 403, 409, 413, 415, 422, 429)
UPDATE_ERRORS = problems.responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 429)
DELETE_ERRORS = problems.responses(401, 403, 404, 412, 422, 429)
MOVED = problems.responses(308)
"""A read of an incident merged into another: a redirect to the survivor."""
RESTORE_ERRORS = problems.responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 429) | {
    409: problems.responses(409)[409]
    | {
        "description": "The record is not retracted (`/problems/not-retracted`): there is nothing to restore, "
        "and nothing was written. Or the first request with this `Idempotency-Key` is still running."
    }
}
RESTORE_DOC = """Restore a retracted {noun}: it is live again{published} from a new version on (`version`
grows by one; the change feed and the history record the version with op `restore`), and
answers 200 with the record and its `ETag`. Restoring one that is not retracted is 409
(`/problems/not-retracted`) and writes nothing: a retry of a restore that succeeded is told so
rather than answered as if it had written again (send an `Idempotency-Key` to have the first
answer replayed instead). With `If-Match`, only if the {noun} is still at that version (else
412). An unknown {noun} is 404."""


def merge_patch_body(model: type) -> object:
    """A body documented as a JSON merge patch (RFC 7396) of ``model``."""
    return Annotated[model, Body(media_type="application/merge-patch+json")]
