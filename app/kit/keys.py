"""Records named in paths by a natural key instead of their id.

A path segment that names a record takes its id, or one of its natural keys in a prefixed
form that no id (a UUID) and no slug can take, since neither holds a colon:

- ``ref:{external_ref}``: any record type (``/v1/incidents/ref:acled:RUS1234``);
- ``url:{url}``: a source (``/v1/sources/url:https%3A%2F%2Fexample.org%2Fnews%2F1``);
- ``slug:{slug}``: an actor (a bare slug is taken too, as it always was);
- ``{scheme}:{code}``: a record by one of its codes, for the prefixes a domain registers
  (:func:`coded`): actors' ``iso3:RUS``, ``cameo:RUSGOV``, ``wikidata:Q159``
  (:mod:`app.actors.codes`).

The key after the prefix is percent-decoded once, so that a client can always send it
encoded as one path segment (``quote(key, safe="")`` in Python, ``encodeURIComponent`` in
JavaScript); keys without ``/``, ``?``, ``#`` or ``%`` may also be sent as they are. Servers
decode a path before it is routed, and an encoded ``/`` would then split the segment:
:class:`KeySegments` routes a natural-key segment with its ``/`` still encoded instead.
"""

from collections.abc import Callable, Iterable
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIXES = {"ref": "external_ref", "url": "url", "slug": "slug"}
"""Each prefix of a natural key in a path, and the column it names (with the codes'
prefixes, once registered: :func:`coded`)."""
Read = Callable[[str], tuple[tuple[str, ...], str]]
"""How a code's key is read: the columns it is matched against, and the value."""
CODED: dict[str, Read] = {}
"""The prefixes that name a record by a code, and how each reads its key."""


def coded(prefix: str, column: str, read: Read) -> None:
    """Let ``prefix:key`` name a record of any table with ``column`` (a path segment, or a
    reference in a filter or a body), its key read by ``read``. The module that declares the
    codes registers them as it is imported, as the tables that hold them import it."""
    PREFIXES[prefix] = column
    CODED[prefix] = read


def path_key(ref: str, columns: Iterable[str], bare: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
    """The columns that ``ref`` (a path segment naming a record) is matched against, and
    the value: ``("external_ref",), key`` for ``ref:key`` where the table has that column,
    else the id and the ``bare`` keys (an actor's slug) with ``ref`` as it is. A prefix the
    table lacks is matched as an id, so it names no record (404). An actor's code
    (``iso3:RUS``) is matched as its prefix's registration reads it (:func:`coded`)."""
    prefix, colon, key = ref.partition(":")
    if colon and PREFIXES.get(prefix) in set(columns):
        if prefix in CODED:
            return CODED[prefix](unquote(key))
        return (PREFIXES[prefix],), unquote(key)
    return ("id", *bare), ref


def _segment(raw: bytes) -> str:
    """A raw path segment as routing sees it: decoded, except that a natural key's ``%`` and
    ``/`` stay encoded (:func:`path_key` decodes the key itself)."""
    decoded = unquote(raw.decode("latin-1"))
    prefix, colon, _key = decoded.partition(":")
    if colon and prefix in PREFIXES:
        return decoded.replace("%", "%25").replace("/", "%2F")
    return decoded


class KeySegments:
    """Routes a path whose natural-key segments hold encoded characters as those segments
    were sent (see the module's description); every other request passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%" in raw:  # raw_path, like path, begins with any root path
            scope = dict(scope, path="/".join(_segment(part) for part in raw.split(b"/")))
        await self.app(scope, receive, send)
