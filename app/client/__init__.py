"""A Python client for the Demarche API, sync (:class:`Client`) and async (:class:`AsyncClient`).

    with Client("http://127.0.0.1:8000", key="dmk_...") as demarche:
        for incident in demarche.iterate("incidents", kind="expulsion", **{"from": "2021-01-01"}):
            ...
        counts = demarche.import_records(records)  # batches, each with its own Idempotency-Key
        counts.replayed  # the batches answered by a replay of an earlier run (nothing written)

Errors are raised as the classes of :mod:`app.client.errors`, built from the server's
problem details. Answers 429 and 503 (and 409 for an ``Idempotency-Key`` still in flight)
are retried with exponential backoff, honouring ``Retry-After``; so are network failures of
requests that are safe to repeat (reads, and writes sent with an ``Idempotency-Key``, which
every ``create`` and ``import_records`` sends).
"""

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from app.client.errors import DemarcheError, error_for

__all__ = ["AsyncClient", "Client", "DemarcheError", "ImportCounts"]

RETRIED_STATUSES = {429, 503}
IN_FLIGHT = "/problems/idempotency-key-in-flight"
TOO_EXPENSIVE = "/problems/query-too-expensive"
NDJSON = "application/x-ndjson"
Progress = Callable[[int], None]
REPLAYED = "Idempotent-Replayed"


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


class _Base:
    def __init__(self, retries: int, backoff: float, max_delay: float) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay

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
    """Blocking client; use it as a context manager, or call :meth:`close`."""

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
        self.http = httpx.Client(base_url=url, headers=_headers(key), timeout=timeout, transport=transport)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying what is safe to retry; raise the typed error of an error answer."""
        return self._send(method, path, stream=False, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=_params(params)).json()

    def iterate(self, collection: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record of a list, page after page (following ``next_cursor``)."""
        params = _params(filters)
        while True:
            page = self.request("GET", f"/v1/{collection}", params=params).json()
            yield from page["data"]
            if not page["next_cursor"]:
                return
            params = {**params, "cursor": page["next_cursor"]}

    def create(self, collection: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        key = idempotency_key or str(uuid.uuid4())
        return self.request("POST", f"/v1/{collection}", json=record, headers={"Idempotency-Key": key}).json()

    def update(self, collection: str, record_id: str, patch: dict[str, Any], *, if_match: str | None = None) -> Any:
        headers = {"Content-Type": "application/merge-patch+json", **({"If-Match": if_match} if if_match else {})}
        return self.request(
            "PATCH", f"/v1/{collection}/{record_id}", content=orjson.dumps(patch), headers=headers
        ).json()

    def delete(self, collection: str, record_id: str, *, if_match: str | None = None) -> None:
        self.request("DELETE", f"/v1/{collection}/{record_id}", headers={"If-Match": if_match} if if_match else {})

    def import_records(
        self,
        records: Iterable[dict[str, Any]],
        *,
        batch_size: int = 1000,
        dry_run: bool = False,
        job: str | None = None,
        progress: Progress | None = None,
        on_replay: Progress | None = None,
    ) -> ImportCounts:
        """Import in batches of ``batch_size`` records, each batch one request and one
        transaction. Each batch's ``Idempotency-Key`` is made from ``job`` (any string naming
        this import, such as a file's name and size) and the batch's place and content, so a
        rerun of the same job after a crash replays the batches already done and writes each
        record once; such replays are listed in the answer's ``replayed`` (a batch whose
        records were edited since still answers what it did then: give another ``job`` to
        compare the records with what is stored again). ``progress`` is called with the
        records of each finished batch, ``on_replay`` with the number (from 1) of each batch
        answered by a replay."""
        total = ImportCounts()
        for key, body, count in _batches(records, batch_size, _job(job, dry_run)):
            response = self.request("POST", "/v1/import", **_import_request(key, body, dry_run))
            _count(total, response, on_replay)
            if progress:
                progress(count)
        return total

    def export(self, collection: str, format: str = "ndjson", **filters: Any) -> Iterator[bytes]:
        """The whole list as a file (``csv``, ``ndjson`` or ``geojson``), streamed in chunks."""
        response = self._send("GET", f"/v1/{collection}", stream=True, params={**_params(filters), "format": format})
        try:
            yield from response.iter_bytes()
        finally:
            response.close()

    def _send(self, method: str, path: str, *, stream: bool, **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(method, path, **kwargs)
        for attempt in range(self.retries + 1):
            try:
                response = self.http.send(request, stream=stream)
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
    """The same as :class:`Client`, for ``asyncio``."""

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
        self.http = httpx.AsyncClient(base_url=url, headers=_headers(key), timeout=timeout, transport=transport)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._send(method, path, stream=False, **kwargs)

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.request("GET", path, params=_params(params))).json()

    async def iterate(self, collection: str, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        params = _params(filters)
        while True:
            page = (await self.request("GET", f"/v1/{collection}", params=params)).json()
            for record in page["data"]:
                yield record
            if not page["next_cursor"]:
                return
            params = {**params, "cursor": page["next_cursor"]}

    async def create(self, collection: str, record: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        key = idempotency_key or str(uuid.uuid4())
        response = await self.request("POST", f"/v1/{collection}", json=record, headers={"Idempotency-Key": key})
        return response.json()

    async def update(
        self, collection: str, record_id: str, patch: dict[str, Any], *, if_match: str | None = None
    ) -> Any:
        headers = {"Content-Type": "application/merge-patch+json", **({"If-Match": if_match} if if_match else {})}
        path = f"/v1/{collection}/{record_id}"
        return (await self.request("PATCH", path, content=orjson.dumps(patch), headers=headers)).json()

    async def delete(self, collection: str, record_id: str, *, if_match: str | None = None) -> None:
        headers = {"If-Match": if_match} if if_match else {}
        await self.request("DELETE", f"/v1/{collection}/{record_id}", headers=headers)

    async def import_records(
        self,
        records: Iterable[dict[str, Any]],
        *,
        batch_size: int = 1000,
        dry_run: bool = False,
        job: str | None = None,
        progress: Progress | None = None,
        on_replay: Progress | None = None,
    ) -> ImportCounts:
        total = ImportCounts()
        for key, body, count in _batches(records, batch_size, _job(job, dry_run)):
            response = await self.request("POST", "/v1/import", **_import_request(key, body, dry_run))
            _count(total, response, on_replay)
            if progress:
                progress(count)
        return total

    async def export(self, collection: str, format: str = "ndjson", **filters: Any) -> AsyncIterator[bytes]:
        params = {**_params(filters), "format": format}
        response = await self._send("GET", f"/v1/{collection}", stream=True, params=params)
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:
            await response.aclose()

    async def _send(self, method: str, path: str, *, stream: bool, **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(method, path, **kwargs)
        for attempt in range(self.retries + 1):
            try:
                response = await self.http.send(request, stream=stream)
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


def _headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _params(filters: dict[str, Any]) -> dict[str, Any]:
    """Query parameters: ``from_`` may stand for ``from``; None values are left out."""
    return {name.removesuffix("_") if name == "from_" else name: v for name, v in filters.items() if v is not None}


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRIED_STATUSES:
        # A query cancelled past its time budget would cost the same again.
        return _problem_type(response) != TOO_EXPENSIVE
    return response.status_code == 409 and _problem_type(response) == IN_FLIGHT


def _problem_type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    return response.json().get("type")


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


def _batches(records: Iterable[dict[str, Any]], size: int, job: str | None) -> Iterator[tuple[str, bytes, int]]:
    """``(Idempotency-Key, NDJSON body, record count)`` of each batch."""
    job_id = hashlib.sha256((job or uuid.uuid4().hex).encode()).hexdigest()[:16]
    lines: list[bytes] = []
    number = 0

    def batch() -> tuple[str, bytes, int]:
        body = b"".join(lines)
        return f"import-{job_id}-{number}-{hashlib.sha256(body).hexdigest()[:16]}", body, len(lines)

    for record in records:
        lines.append(orjson.dumps(record) + b"\n")
        if len(lines) == size:
            yield batch()
            lines.clear()
            number += 1
    if lines:
        yield batch()


def _import_request(key: str, body: bytes, dry_run: bool) -> dict[str, Any]:
    return {
        "content": body,
        "headers": {"Content-Type": NDJSON, "Idempotency-Key": key},
        "params": {"dry_run": "true"} if dry_run else {},
    }


def _job(job: str | None, dry_run: bool) -> str | None:
    """A dry run is a job of its own: its answers are not those of the import it checks
    (and the same key sent with another query would be refused)."""
    return f"{job}:dry-run" if job and dry_run else job


def _count(total: ImportCounts, response: httpx.Response, on_replay: Progress | None) -> None:
    replayed = response.headers.get(REPLAYED, "").lower() == "true"
    total.add(response.json(), replayed)
    if replayed and on_replay:
        on_replay(total.batches)
