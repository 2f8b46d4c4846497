"""The clients, sync (:class:`Client`) and async (:class:`AsyncClient`), with the same methods.

Records are named the same way in every method: by their collection (``"actors"``,
``"sources"``, ``"incidents"``, ``"exercises"``, ``"channels"``) and, for one record, its id
or natural key (``"ref:{external_ref}"``, ``"url:{url}"``, an actor's slug), given as it is:
the client encodes it into the path.
"""

import asyncio
import hashlib
import keyword
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar, overload
from urllib.parse import quote

import httpx

from demarche_client import models
from demarche_client._version import __version__
from demarche_client.errors import QUERY_TOO_EXPENSIVE, error_for
from demarche_client.records import Record, decode, dumps

__all__ = ["AsyncClient", "Client", "ImportCounts"]

RETRIED_STATUSES = {429, 503}
IN_FLIGHT = "/problems/idempotency-key-in-flight"
NDJSON = "application/x-ndjson"
MERGE_PATCH = "application/merge-patch+json"
REPLAYED = "Idempotent-Replayed"
SEQUENCE = "Demarche-Sequence"
MIN_SEQUENCE = "Demarche-Min-Sequence"
READS = {"GET", "HEAD"}
COMMA_SEPARATED = {"fields", "group_by"}
Progress = Callable[[int], None]
T = TypeVar("T")

Collection = Literal["actors", "sources", "incidents", "exercises", "channels"]
Actors = Literal["actors"]
Sources = Literal["sources"]
Incidents = Literal["incidents"]
Exercises = Literal["exercises"]
Channels = Literal["channels"]
Record_ = Record | Mapping[str, Any]
"""What a write takes: a model, or a dict of the same fields."""
IfMatch = str | Record | None
"""An ``ETag``, or a record read earlier (its tag, or one made from its ``version``)."""
Key = str | None
"""An ``Idempotency-Key``; a new one when ``None``."""


@dataclass(frozen=True)
class _Models:
    record: type[Record]
    some_fields: type[Record]
    page: type[Record]


COLLECTIONS: dict[str, _Models] = {
    "actors": _Models(models.ActorPublic, models.ActorPublicFields, models.PageActorPublic),
    "sources": _Models(models.SourcePublic, models.SourcePublicFields, models.PageSourcePublic),
    "incidents": _Models(models.IncidentPublic, models.IncidentPublicFields, models.PageIncidentPublic),
    "exercises": _Models(models.ExercisePublic, models.ExercisePublicFields, models.PageExercisePublic),
    "channels": _Models(models.ChannelPublic, models.ChannelPublicFields, models.PageChannelPublic),
}
"""Each collection's models: a record, some of its fields (``fields=``), a page of a list."""


class ImportCounts(dict[str, dict[str, int]]):
    """What an import's batches answered: ``{"created" | "updated" | "unchanged" | ...:
    {type: n}}`` (every outcome the server counts), summed over every batch, replayed ones
    included (a replayed batch answers what it did when it first ran). Beside the counts:

    - ``batches``: the requests sent;
    - ``replayed``: the numbers (from 1) of the batches whose answer carried
      ``Idempotent-Replayed: true``: an earlier request with the same ``Idempotency-Key`` had
      done them, and this run wrote nothing for them;
    - ``replayed_counts``: the part of the counts those replays account for;
    - ``written``: the counts of the batches this run actually sent to be written.
    """

    def __init__(self) -> None:
        super().__init__(created={}, updated={}, unchanged={})
        self.batches = 0
        self.replayed: list[int] = []
        self.replayed_counts: dict[str, dict[str, int]] = {outcome: {} for outcome in self}

    @property
    def written(self) -> dict[str, dict[str, int]]:
        return {
            outcome: {t: n - self.replayed_counts.get(outcome, {}).get(t, 0) for t, n in by_type.items()}
            for outcome, by_type in self.items()
        }

    def add(self, answer: dict[str, Any], replayed: bool) -> None:
        """Count one batch's answer."""
        self.batches += 1
        if replayed:
            self.replayed.append(self.batches)
        for outcome, by_type in answer.items():
            if not isinstance(by_type, dict):
                continue  # dry_run
            for type_, count in by_type.items():
                total = self.setdefault(outcome, {})
                total[type_] = total.get(type_, 0) + count
                if replayed:
                    kept = self.replayed_counts.setdefault(outcome, {})
                    kept[type_] = kept.get(type_, 0) + count


@dataclass
class _Call(Generic[T]):
    """One request of a method, and how its answer becomes the method's result."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Base:
    """What both clients share: settings, the retry policy, and the requests of each method
    (``_*`` functions below build them; the clients send them, blocking or not)."""

    def __init__(self, retries: int, backoff: float, max_delay: float) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.sequence: int | None = None
        """The last change-feed ``seq`` a write through this client committed (its answer's
        ``Demarche-Sequence``), sent back with every read as ``Demarche-Min-Sequence``: a
        server that reads from a replica then answers from one that has this client's writes
        (read-your-writes). Copy it to another client to carry the guarantee over."""

    def _headers(self, call: "_Call[Any]") -> dict[str, str]:
        """The call's headers, with the client's sequence on a read."""
        if self.sequence is None or call.method not in READS:
            return call.headers
        return {**call.headers, MIN_SEQUENCE: str(self.sequence)}

    def _note(self, response: httpx.Response) -> None:
        """Keep the sequence a write answered (the highest seen: answers may arrive out of order)."""
        given = response.headers.get(SEQUENCE)
        if given is not None and given.isascii() and given.isdigit():
            self.sequence = max(self.sequence or 0, int(given))

    def _delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None when not to retry."""
        if attempt >= self.retries:
            return None
        if response is not None and not _retryable(response):
            return None
        wait = self.backoff * 2**attempt
        if response is not None:
            wait = max(wait, _retry_after(response))
        return min(wait, self.max_delay)


class Client(_Base):
    """Blocking client; use it as a context manager, or call :meth:`close`.

    ``url`` is the server's root (``http://127.0.0.1:8000``), ``key`` an API key (anonymous
    without). Answers 429 and 503 (and 409 for an ``Idempotency-Key`` still in flight) are
    retried up to ``retries`` times with exponential backoff from ``backoff`` seconds, never
    sooner than ``Retry-After`` says nor longer than ``max_delay``; so are network failures of
    requests that are safe to repeat (reads, and writes sent with an ``Idempotency-Key``).
    ``transport`` replaces httpx's (tests, or an app served in-process).
    """

    def __init__(
        self,
        url: str,
        key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(retries, backoff, max_delay)
        # follow_redirects: an incident merged into another answers 308 to the survivor
        self.http = httpx.Client(
            base_url=url, headers=_headers(key), timeout=timeout, transport=transport, follow_redirects=True
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # Records

    @overload
    def get(self, collection: Actors, id: str, **params: Any) -> models.ActorPublic: ...
    @overload
    def get(self, collection: Sources, id: str, **params: Any) -> models.SourcePublic: ...
    @overload
    def get(self, collection: Incidents, id: str, **params: Any) -> models.IncidentPublic: ...
    @overload
    def get(self, collection: Exercises, id: str, **params: Any) -> models.ExercisePublic: ...
    @overload
    def get(self, collection: Channels, id: str, **params: Any) -> models.ChannelPublic: ...
    def get(self, collection: Collection, id: str, **params: Any) -> Any:
        """One record by id or natural key. ``fields="id,title"`` answers the model of some
        fields (``IncidentPublicFields``, ...); a channel takes ``as_of``."""
        return self._call(_get(collection, id, params))

    @overload
    def page(self, collection: Actors, **filters: Any) -> models.PageActorPublic: ...
    @overload
    def page(self, collection: Sources, **filters: Any) -> models.PageSourcePublic: ...
    @overload
    def page(self, collection: Incidents, **filters: Any) -> models.PageIncidentPublic: ...
    @overload
    def page(self, collection: Exercises, **filters: Any) -> models.PageExercisePublic: ...
    @overload
    def page(self, collection: Channels, **filters: Any) -> models.PageChannelPublic: ...
    def page(self, collection: Collection, **filters: Any) -> Any:
        """One page of a list: ``data``, ``next_cursor`` (pass it back as ``cursor=`` with
        the same filters), and ``total`` with ``count=True``."""
        return self._call(_page(collection, filters))

    @overload
    def iterate(self, collection: Actors, **filters: Any) -> Iterator[models.ActorPublic]: ...
    @overload
    def iterate(self, collection: Sources, **filters: Any) -> Iterator[models.SourcePublic]: ...
    @overload
    def iterate(self, collection: Incidents, **filters: Any) -> Iterator[models.IncidentPublic]: ...
    @overload
    def iterate(self, collection: Exercises, **filters: Any) -> Iterator[models.ExercisePublic]: ...
    @overload
    def iterate(self, collection: Channels, **filters: Any) -> Iterator[models.ChannelPublic]: ...
    def iterate(self, collection: Collection, **filters: Any) -> Iterator[Any]:
        """Every record of a list that matches ``filters``, page after page (following
        ``next_cursor``); ``limit`` sets the size of a page."""
        filters = dict(filters)
        while True:
            page = self._call(_page(collection, filters))
            yield from page.data
            if not page.next_cursor:
                return
            filters["cursor"] = page.next_cursor

    @overload
    def create(self, collection: Actors, record: Record_, *, idempotency_key: Key = None) -> models.ActorPublic: ...
    @overload
    def create(self, collection: Sources, record: Record_, *, idempotency_key: Key = None) -> models.SourcePublic: ...
    @overload
    def create(
        self, collection: Incidents, record: Record_, *, idempotency_key: Key = None
    ) -> models.IncidentPublic: ...
    @overload
    def create(
        self, collection: Exercises, record: Record_, *, idempotency_key: Key = None
    ) -> models.ExercisePublic: ...
    @overload
    def create(self, collection: Channels, record: Record_, *, idempotency_key: Key = None) -> models.ChannelPublic: ...
    def create(self, collection: Collection, record: Record_, *, idempotency_key: Key = None) -> Any:
        """Create a record (a model such as ``IncidentCreate``, or a dict), sent with an
        ``Idempotency-Key`` (a new one unless given): a retry of the same key writes nothing
        again and answers the first answer, with ``replayed`` true."""
        return self._call(_create(collection, record, idempotency_key))

    @overload
    def update(
        self, collection: Actors, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ActorPublic: ...
    @overload
    def update(
        self, collection: Sources, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.SourcePublic: ...
    @overload
    def update(
        self, collection: Incidents, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.IncidentPublic: ...
    @overload
    def update(
        self, collection: Exercises, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ExercisePublic: ...
    @overload
    def update(
        self, collection: Channels, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ChannelPublic: ...
    def update(self, collection: Collection, id: str, patch: Record_, *, if_match: IfMatch = None) -> Any:
        """Change some fields (a JSON merge patch: a dict, where ``None`` clears a field, or
        an update model, whose fields left at ``None`` are not sent). With ``if_match``, only
        if the record is still at that version (else :class:`PreconditionFailed`)."""
        return self._call(_update(collection, id, patch, if_match))

    def delete(self, collection: Collection, id: str, *, if_match: IfMatch = None) -> None:
        """Retract a record (it answers 404 afterwards; :meth:`restore` undoes it)."""
        self._call(_delete(collection, id, if_match))

    @overload
    def restore(
        self, collection: Actors, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ActorPublic: ...
    @overload
    def restore(
        self, collection: Sources, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.SourcePublic: ...
    @overload
    def restore(
        self, collection: Incidents, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.IncidentPublic: ...
    @overload
    def restore(
        self, collection: Exercises, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ExercisePublic: ...
    @overload
    def restore(
        self, collection: Channels, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ChannelPublic: ...
    def restore(self, collection: Collection, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None) -> Any:
        """Publish a retracted record again (write keys)."""
        return self._call(_restore(collection, id, if_match, idempotency_key))

    def history(self, collection: Collection, id: str) -> models.History:
        """Every committed version of a record, oldest first."""
        return self._call(_history(collection, id))

    def record_status_change(
        self, channel: str, change: Record_, *, idempotency_key: Key = None
    ) -> models.StatusChangePublic:
        """Record a channel's change of status (a ``StatusChangeCreate`` or a dict:
        ``status``, ``effective_on``, ``note``, ``caused_by``)."""
        return self._call(_status_change(channel, change, idempotency_key))

    def merge(
        self, incident: str, merged: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.IncidentPublic:
        """Merge the incident ``merged`` (id or external_ref) into ``incident``, which
        survives; ``merged`` then redirects to it (write keys)."""
        return self._call(_merge(incident, merged, if_match, idempotency_key))

    # Views

    def chain(self, incident: str) -> models.ChainPage:
        """The incident's retaliation chain, with depths."""
        return self._call(_view(f"/v1/incidents/{_segment(incident)}/chain", {}, models.ChainPage))

    def dyad(self, a: str, b: str, **params: Any) -> models.Dyad:
        """Two actors on a day (``as_of``, ``window_days``): channels, counts, incidents, exercises."""
        return self._call(_view(f"/v1/dyads/{_segment(a)}/{_segment(b)}", params, models.Dyad))

    def timeline(self, **filters: Any) -> models.Timeline:
        """One page of the timeline (``actor``, ``type``, ``from_``, ``to``, ``cursor``)."""
        return self._call(_view("/v1/timeline", filters, models.Timeline))

    def stats(self, **params: Any) -> models.Stats:
        """Incident counts by ``group_by`` (``"kind,month"``), with the list's filters."""
        return self._call(_view("/v1/stats/incidents", params, models.Stats))

    def changes(self, **params: Any) -> models.ChangePage:
        """One page of the change feed: ``after`` a sequence number, ``limit``."""
        return self._call(_view("/v1/changes", params, models.ChangePage))

    def vocabularies(self) -> dict[str, Any]:
        """Every controlled value (incident kinds with their CAMEO and PLOVER codes, ...)."""
        return self._call(_Call("GET", "/v1/vocabularies", _json))

    # Files

    def import_records(
        self,
        records: Iterable[Record_],
        *,
        batch_size: int = 1000,
        dry_run: bool = False,
        job: str | None = None,
        progress: Progress | None = None,
        on_replay: Progress | None = None,
    ) -> ImportCounts:
        """Import records (import lines, each with its ``type``: dicts, or models such as
        ``IncidentLine``) in batches of ``batch_size``, each batch one request and one
        transaction. Each batch's ``Idempotency-Key`` is made from ``job`` (any string naming
        this import, such as a file's name and digest) and the batch's place and content, so a
        rerun of the same job after a crash replays the batches already done and writes each
        record once; such replays are listed in the answer's ``replayed`` (a batch whose
        records were edited since still answers what it did then: give another ``job`` to
        compare the records with what is stored again). ``progress`` is called with the
        records of each finished batch, ``on_replay`` with the number (from 1) of each batch
        answered by a replay. A bad line raises :class:`ValidationError` listing the bad lines
        of its batch (``line`` counted from 1 within the batch); earlier batches stay written."""
        total = ImportCounts()
        for call, count in _imports(records, batch_size, dry_run, job):
            replayed, answer = self._call(call)
            total.add(answer, replayed)
            if replayed and on_replay:
                on_replay(total.batches)
            if progress:
                progress(count)
        return total

    def export(self, collection: Collection, format: str = "ndjson", **filters: Any) -> Iterator[bytes]:
        """The whole list as a file (``csv``, ``ndjson`` or ``geojson``), streamed in chunks."""
        response = self._send(_export(collection, format, filters), stream=True)
        try:
            yield from response.iter_bytes()
        finally:
            response.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Any request (``params`` as the methods take filters, ``kwargs`` as httpx takes
        them, such as ``json=``), retried as the others are; an error answer raises its typed
        error."""
        return self._send(_request(method, path, params, content, headers), stream=False, **kwargs)

    def _call(self, call: "_Call[T]") -> T:
        return call.parse(self._send(call, stream=False))

    def _send(self, call: "_Call[Any]", *, stream: bool, **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(
            call.method, call.path, params=call.params, content=call.content, headers=self._headers(call), **kwargs
        )
        for attempt in range(self.retries + 1):
            try:
                response = self.http.send(request, stream=stream)
                self._note(response)
            except httpx.TransportError:
                delay = self._delay(attempt, None) if _repeatable(request) else None
                if delay is None:
                    raise
                time.sleep(delay)
                continue
            if response.is_success:
                return response
            response.read()
            delay = self._delay(attempt, response)
            if delay is None:
                raise error_for(response)
            response.close()
            time.sleep(delay)
        raise AssertionError("unreachable")  # the last attempt returns or raises


class AsyncClient(_Base):
    """The same as :class:`Client`, for ``asyncio``: every method is a coroutine, except
    :meth:`iterate` and :meth:`export`, which are async iterators."""

    def __init__(
        self,
        url: str,
        key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(retries, backoff, max_delay)
        self.http = httpx.AsyncClient(
            base_url=url, headers=_headers(key), timeout=timeout, transport=transport, follow_redirects=True
        )

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    @overload
    async def get(self, collection: Actors, id: str, **params: Any) -> models.ActorPublic: ...
    @overload
    async def get(self, collection: Sources, id: str, **params: Any) -> models.SourcePublic: ...
    @overload
    async def get(self, collection: Incidents, id: str, **params: Any) -> models.IncidentPublic: ...
    @overload
    async def get(self, collection: Exercises, id: str, **params: Any) -> models.ExercisePublic: ...
    @overload
    async def get(self, collection: Channels, id: str, **params: Any) -> models.ChannelPublic: ...
    async def get(self, collection: Collection, id: str, **params: Any) -> Any:
        return await self._call(_get(collection, id, params))

    @overload
    async def page(self, collection: Actors, **filters: Any) -> models.PageActorPublic: ...
    @overload
    async def page(self, collection: Sources, **filters: Any) -> models.PageSourcePublic: ...
    @overload
    async def page(self, collection: Incidents, **filters: Any) -> models.PageIncidentPublic: ...
    @overload
    async def page(self, collection: Exercises, **filters: Any) -> models.PageExercisePublic: ...
    @overload
    async def page(self, collection: Channels, **filters: Any) -> models.PageChannelPublic: ...
    async def page(self, collection: Collection, **filters: Any) -> Any:
        return await self._call(_page(collection, filters))

    @overload
    def iterate(self, collection: Actors, **filters: Any) -> AsyncIterator[models.ActorPublic]: ...
    @overload
    def iterate(self, collection: Sources, **filters: Any) -> AsyncIterator[models.SourcePublic]: ...
    @overload
    def iterate(self, collection: Incidents, **filters: Any) -> AsyncIterator[models.IncidentPublic]: ...
    @overload
    def iterate(self, collection: Exercises, **filters: Any) -> AsyncIterator[models.ExercisePublic]: ...
    @overload
    def iterate(self, collection: Channels, **filters: Any) -> AsyncIterator[models.ChannelPublic]: ...
    async def iterate(self, collection: Collection, **filters: Any) -> AsyncIterator[Any]:
        filters = dict(filters)
        while True:
            page = await self._call(_page(collection, filters))
            for record in page.data:
                yield record
            if not page.next_cursor:
                return
            filters["cursor"] = page.next_cursor

    @overload
    async def create(
        self, collection: Actors, record: Record_, *, idempotency_key: Key = None
    ) -> models.ActorPublic: ...
    @overload
    async def create(
        self, collection: Sources, record: Record_, *, idempotency_key: Key = None
    ) -> models.SourcePublic: ...
    @overload
    async def create(
        self, collection: Incidents, record: Record_, *, idempotency_key: Key = None
    ) -> models.IncidentPublic: ...
    @overload
    async def create(
        self, collection: Exercises, record: Record_, *, idempotency_key: Key = None
    ) -> models.ExercisePublic: ...
    @overload
    async def create(
        self, collection: Channels, record: Record_, *, idempotency_key: Key = None
    ) -> models.ChannelPublic: ...
    async def create(self, collection: Collection, record: Record_, *, idempotency_key: Key = None) -> Any:
        return await self._call(_create(collection, record, idempotency_key))

    @overload
    async def update(
        self, collection: Actors, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ActorPublic: ...
    @overload
    async def update(
        self, collection: Sources, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.SourcePublic: ...
    @overload
    async def update(
        self, collection: Incidents, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.IncidentPublic: ...
    @overload
    async def update(
        self, collection: Exercises, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ExercisePublic: ...
    @overload
    async def update(
        self, collection: Channels, id: str, patch: Record_, *, if_match: IfMatch = None
    ) -> models.ChannelPublic: ...
    async def update(self, collection: Collection, id: str, patch: Record_, *, if_match: IfMatch = None) -> Any:
        return await self._call(_update(collection, id, patch, if_match))

    async def delete(self, collection: Collection, id: str, *, if_match: IfMatch = None) -> None:
        await self._call(_delete(collection, id, if_match))

    @overload
    async def restore(
        self, collection: Actors, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ActorPublic: ...
    @overload
    async def restore(
        self, collection: Sources, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.SourcePublic: ...
    @overload
    async def restore(
        self, collection: Incidents, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.IncidentPublic: ...
    @overload
    async def restore(
        self, collection: Exercises, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ExercisePublic: ...
    @overload
    async def restore(
        self, collection: Channels, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.ChannelPublic: ...
    async def restore(
        self, collection: Collection, id: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> Any:
        return await self._call(_restore(collection, id, if_match, idempotency_key))

    async def history(self, collection: Collection, id: str) -> models.History:
        return await self._call(_history(collection, id))

    async def record_status_change(
        self, channel: str, change: Record_, *, idempotency_key: Key = None
    ) -> models.StatusChangePublic:
        return await self._call(_status_change(channel, change, idempotency_key))

    async def merge(
        self, incident: str, merged: str, *, if_match: IfMatch = None, idempotency_key: Key = None
    ) -> models.IncidentPublic:
        return await self._call(_merge(incident, merged, if_match, idempotency_key))

    async def chain(self, incident: str) -> models.ChainPage:
        return await self._call(_view(f"/v1/incidents/{_segment(incident)}/chain", {}, models.ChainPage))

    async def dyad(self, a: str, b: str, **params: Any) -> models.Dyad:
        return await self._call(_view(f"/v1/dyads/{_segment(a)}/{_segment(b)}", params, models.Dyad))

    async def timeline(self, **filters: Any) -> models.Timeline:
        return await self._call(_view("/v1/timeline", filters, models.Timeline))

    async def stats(self, **params: Any) -> models.Stats:
        return await self._call(_view("/v1/stats/incidents", params, models.Stats))

    async def changes(self, **params: Any) -> models.ChangePage:
        return await self._call(_view("/v1/changes", params, models.ChangePage))

    async def vocabularies(self) -> dict[str, Any]:
        return await self._call(_Call("GET", "/v1/vocabularies", _json))

    async def import_records(
        self,
        records: Iterable[Record_],
        *,
        batch_size: int = 1000,
        dry_run: bool = False,
        job: str | None = None,
        progress: Progress | None = None,
        on_replay: Progress | None = None,
    ) -> ImportCounts:
        total = ImportCounts()
        for call, count in _imports(records, batch_size, dry_run, job):
            replayed, answer = await self._call(call)
            total.add(answer, replayed)
            if replayed and on_replay:
                on_replay(total.batches)
            if progress:
                progress(count)
        return total

    async def export(self, collection: Collection, format: str = "ndjson", **filters: Any) -> AsyncIterator[bytes]:
        response = await self._send(_export(collection, format, filters), stream=True)
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:
            await response.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return await self._send(_request(method, path, params, content, headers), stream=False, **kwargs)

    async def _call(self, call: "_Call[T]") -> T:
        return call.parse(await self._send(call, stream=False))

    async def _send(self, call: "_Call[Any]", *, stream: bool, **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(
            call.method, call.path, params=call.params, content=call.content, headers=self._headers(call), **kwargs
        )
        for attempt in range(self.retries + 1):
            try:
                response = await self.http.send(request, stream=stream)
                self._note(response)
            except httpx.TransportError:
                delay = self._delay(attempt, None) if _repeatable(request) else None
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                continue
            if response.is_success:
                return response
            await response.aread()
            delay = self._delay(attempt, response)
            if delay is None:
                raise error_for(response)
            await response.aclose()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


# The requests of each method.


def _get(collection: str, id: str, params: dict[str, Any]) -> _Call[Any]:
    kinds = _models(collection)
    model = kinds.some_fields if params.get("fields") is not None else kinds.record
    return _Call("GET", _path(collection, id), _record(model), _params(params))


def _page(collection: str, filters: dict[str, Any]) -> _Call[Any]:
    return _Call("GET", f"/v1/{collection}", _record(_models(collection).page), _params(filters))


def _create(collection: str, record: Record_, key: str | None) -> _Call[Any]:
    return _Call(
        "POST",
        f"/v1/{collection}",
        _record(_models(collection).record),
        content=dumps(record),
        headers={"Content-Type": "application/json", "Idempotency-Key": key or str(uuid.uuid4())},
    )


def _update(collection: str, id: str, patch: Record_, if_match: IfMatch) -> _Call[Any]:
    return _Call(
        "PATCH",
        _path(collection, id),
        _record(_models(collection).record),
        content=dumps(patch),
        headers={"Content-Type": MERGE_PATCH, **_if_match(if_match)},
    )


def _delete(collection: str, id: str, if_match: IfMatch) -> _Call[None]:
    _models(collection)
    return _Call("DELETE", _path(collection, id), _nothing, headers=_if_match(if_match))


def _restore(collection: str, id: str, if_match: IfMatch, key: str | None) -> _Call[Any]:
    headers = {"Idempotency-Key": key or str(uuid.uuid4()), **_if_match(if_match)}
    return _Call("POST", f"{_path(collection, id)}/restore", _record(_models(collection).record), headers=headers)


def _history(collection: str, id: str) -> _Call[models.History]:
    _models(collection)
    return _Call("GET", f"{_path(collection, id)}/history", _record(models.History))


def _status_change(channel: str, change: Record_, key: str | None) -> _Call[models.StatusChangePublic]:
    return _Call(
        "POST",
        f"{_path('channels', channel)}/status-changes",
        _record(models.StatusChangePublic),
        content=dumps(change),
        headers={"Content-Type": "application/json", "Idempotency-Key": key or str(uuid.uuid4())},
    )


def _merge(incident: str, merged: str, if_match: IfMatch, key: str | None) -> _Call[models.IncidentPublic]:
    return _Call(
        "POST",
        f"{_path('incidents', incident)}/merge",
        _record(models.IncidentPublic),
        content=dumps({"merged": merged}),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key or str(uuid.uuid4()),
            **_if_match(if_match),
        },
    )


def _request(
    method: str,
    path: str,
    params: Mapping[str, Any] | None,
    content: bytes | None,
    headers: Mapping[str, str] | None,
) -> _Call[httpx.Response]:
    return _Call(method, path, _same, _params(params or {}), content, dict(headers or {}))


def _view(path: str, params: dict[str, Any], model: type[T]) -> _Call[T]:
    return _Call("GET", path, _record(model), _params(params))


def _export(collection: str, format: str, filters: dict[str, Any]) -> _Call[None]:
    _models(collection)
    return _Call("GET", f"/v1/{collection}", _nothing, {**_params(filters), "format": format})


def _imports(
    records: Iterable[Record_], size: int, dry_run: bool, job: str | None
) -> Iterator[tuple[_Call[tuple[bool, dict[str, Any]]], int]]:
    """The request of each batch, and its number of records. A dry run is a job of its own:
    its answers are not those of the import it checks (and the same key sent with another
    query would be refused)."""
    job = f"{job}:dry-run" if job and dry_run else job
    job_id = hashlib.sha256((job or uuid.uuid4().hex).encode()).hexdigest()[:16]
    lines: list[bytes] = []
    number = 0

    def batch() -> tuple[_Call[tuple[bool, dict[str, Any]]], int]:
        body = b"".join(lines)
        key = f"import-{job_id}-{number}-{hashlib.sha256(body).hexdigest()[:16]}"
        params = {"dry_run": "true"} if dry_run else {}
        headers = {"Content-Type": NDJSON, "Idempotency-Key": key}
        return _Call("POST", "/v1/import", _import_answer, params, body, headers), len(lines)

    for record in records:
        lines.append(dumps(record) + b"\n")
        if len(lines) == size:
            yield batch()
            lines.clear()
            number += 1
    if lines:
        yield batch()


# Answers


def _record(model: type[T]) -> Callable[[httpx.Response], T]:
    """Reads an answer as ``model`` (or the union of models a read answers), noting its
    ``ETag`` and whether it was replayed."""

    def parse(response: httpx.Response) -> T:
        record = decode(model, response.json())
        if isinstance(record, Record):
            record.__dict__["_etag"] = response.headers.get("etag")
            record.__dict__["_replayed"] = _replayed(response)
        return record

    return parse


def _import_answer(response: httpx.Response) -> tuple[bool, dict[str, Any]]:
    return _replayed(response), response.json()


def _json(response: httpx.Response) -> Any:
    return response.json()


def _nothing(response: httpx.Response) -> None:
    return None


def _same(response: httpx.Response) -> httpx.Response:
    return response


def _replayed(response: httpx.Response) -> bool:
    return response.headers.get(REPLAYED, "").lower() == "true"


# Requests


def _models(collection: str) -> _Models:
    try:
        return COLLECTIONS[collection]
    except KeyError:
        raise ValueError(f"no collection {collection!r}: the collections are {', '.join(COLLECTIONS)}") from None


def _segment(id: str) -> str:
    """A record's id or natural key as one path segment: a key such as ``url:https://…``
    is sent percent-encoded (the server decodes it once)."""
    return quote(str(id), safe=":@")


def _path(collection: str, id: str) -> str:
    return f"/v1/{collection}/{_segment(id)}"


def _if_match(value: IfMatch) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Record):
        version = getattr(value, "version", None)
        tag = value.etag or (f'"{version}"' if version is not None else None)
        if tag is None:
            raise ValueError("if_match: this record has neither an ETag nor a version")
        return {"If-Match": tag}
    return {"If-Match": value}


def _headers(key: str | None) -> dict[str, str]:
    return {"User-Agent": f"demarche-client/{__version__}", **({"Authorization": f"Bearer {key}"} if key else {})}


def _params(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters: ``from_`` stands for ``from`` (any keyword with ``_``); None values
    are left out; dates are ISO 8601, booleans ``true`` and ``false``; a list repeats its name,
    except for ``fields`` and ``group_by``, which are joined with commas."""
    return {_name(name): _value(name, value) for name, value in filters.items() if value is not None}


def _name(name: str) -> str:
    return name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name


def _value(name: str, value: Any) -> Any:
    if name in COMMA_SEPARATED and isinstance(value, list | tuple):
        return ",".join(value)
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRIED_STATUSES:
        # A query cancelled past its time budget would cost the same again.
        return _problem_type(response) != QUERY_TOO_EXPENSIVE
    return response.status_code == 409 and _problem_type(response) == IN_FLIGHT


def _problem_type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        problem = response.json()
    except ValueError:
        return None
    return problem.get("type") if isinstance(problem, dict) else None


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


def _repeatable(request: httpx.Request) -> bool:
    return request.method in {"GET", "HEAD", "OPTIONS"} or "idempotency-key" in request.headers
