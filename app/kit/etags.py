"""Conditional requests: entity tags from record versions, ``If-None-Match`` and ``If-Match``.

A record's tag is its version, quoted: ``"3"``. A channel's answer also depends on the day
its status is computed for, so its tag carries that status too: ``"3.suspended"`` (``none``
before the channel exists). An answer of some fields only (``fields=``) carries a digest of
them last: ``"3.f1a2b3c4d5"``, ``"3.suspended.f1a2b3c4d5"``. ``If-Match`` compares the version alone: a write is refused
only when the stored record changed since it was read.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.responses import Response

from app.kit.fields import Selection
from app.kit.problems import PreconditionFailed
from app.kit.responses import dumps

SAFE_METHODS = frozenset({"GET", "HEAD"})
NOT_MODIFIED = {304: {"description": "Not modified: the `If-None-Match` tag is the record's current one."}}


def entity_tag(version: int, variant: str | None = None) -> str:
    return f'"{version}.{variant}"' if variant is not None else f'"{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _version(tag: str) -> str | None:
    """The version a strong tag names, or ``None`` for a weak or malformed one."""
    if not (len(tag) >= 2 and tag[0] == tag[-1] == '"'):
        return None
    return tag[1:-1].split(".", 1)[0]


class Precondition:
    """The ``If-Match`` of a write: the versions the client last read."""

    def __init__(self, header: str) -> None:
        self.tags = _tags(header)

    def check(self, version: int) -> None:
        """412 unless the stored ``version`` is one the client named (or it sent ``*``)."""
        if "*" in self.tags or str(version) in {_version(tag) for tag in self.tags}:
            return
        raise PreconditionFailed(
            f"The record is at version {version}, not the one in If-Match; read it again and retry.",
            headers={"ETag": entity_tag(version)},
        )


async def read_if_match(
    if_match: Annotated[
        str | None,
        Header(
            description="Write only if the record is still at this version: an `ETag` from an earlier read "
            "(or `*`). A stale tag is 412 and nothing is written; without the header the write is unconditional."
        ),
    ] = None,
) -> Precondition | None:
    return Precondition(if_match) if if_match is not None else None


IfMatch = Annotated[Precondition | None, Depends(read_if_match)]


def check(precondition: Precondition | None, version: int) -> None:
    if precondition is not None:
        precondition.check(version)


def answer(
    request: Request,
    record: Mapping[str, Any],
    *,
    variant: str | None = None,
    status_code: int = 200,
    location: str | None = None,
    selection: Selection | None = None,
) -> Response:
    """``record`` as JSON with its ``ETag`` (and a new record's ``Location``); for a read
    whose ``If-None-Match`` names the tag, 304 with no body. With a ``selection``, only the
    fields it names (and a tag of their own)."""
    version = record["version"]
    if selection is not None:
        record = selection.pick(record)
        variant = _selected(variant, selection)
    return answer_text(request, dumps(record), version, variant=variant, status_code=status_code, location=location)


def answer_text(
    request: Request,
    text: bytes,
    version: int,
    *,
    variant: str | None = None,
    status_code: int = 200,
    location: str | None = None,
    selection: Selection | None = None,
) -> Response:
    """:func:`answer` for a record already written as JSON ``text``, at ``version``; the
    text is sent as it is, unless a ``selection`` asks for some of its fields."""
    if selection is not None:
        variant = _selected(variant, selection)
    tag = entity_tag(version, variant)
    if request.method in SAFE_METHODS and _matches_none(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    if selection is not None:
        text = selection.pick_text(text)
    return tagged(text, tag, status_code, location)


def tagged(text: bytes, tag: str, status_code: int = 200, location: str | None = None) -> Response:
    """A record's JSON ``text`` answered with its entity ``tag`` (and a new record's ``Location``)."""
    headers = {"ETag": tag} | ({"Location": location} if location else {})
    return Response(text, status_code=status_code, headers=headers, media_type="application/json")


def _selected(variant: str | None, selection: Selection) -> str:
    """The tag's variant for an answer of some fields: the record's, then the selection's."""
    return selection.tag if variant is None else f"{variant}.{selection.tag}"


def _matches_none(header: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` names ``tag`` (compared weakly, as RFC 9110 asks)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or tag in {t.removeprefix("W/") for t in tags}
