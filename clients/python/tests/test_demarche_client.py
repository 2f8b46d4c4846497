"""The client: typed records, typed errors, every page, retries, idempotent writes and imports.

The tests with a transport of their own need no server; the others speak to the one
``DEMARCHE_URL`` names (see conftest.py)."""

import asyncio
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import demarche_client
from demarche_client import (
    AsyncClient,
    Client,
    Conflict,
    DemarcheError,
    NotFound,
    PreconditionFailed,
    QueryTooExpensive,
    RateLimited,
    Unavailable,
    ValidationError,
)
from demarche_client.models import (
    ActorPublic,
    ChainPage,
    IncidentCreate,
    IncidentLine,
    IncidentPublic,
    IncidentPublicFields,
    PageIncidentPublic,
    SourcePublic,
)

# Without a server


def _flaky(answers):
    """A transport answering from ``answers`` (status, headers, problem type) in turn, then an
    empty page."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(answers):
            status, headers, kind = answers[len(seen) - 1]
            problem = {"type": kind, "title": "busy", "status": status, "detail": "retry", "instance": "/"}
            headers = {"Content-Type": "application/problem+json", **headers}
            return httpx.Response(status, headers=headers, content=json.dumps(problem).encode())
        return httpx.Response(200, json={"data": [], "next_cursor": None})

    return seen, handle


def test_429_and_503_are_retried_honouring_retry_after(monkeypatch):
    slept = []
    monkeypatch.setattr("demarche_client.client.time.sleep", slept.append)
    seen, handle = _flaky([(503, {"Retry-After": "3"}, "about:blank"), (429, {"Retry-After": "7"}, "about:blank")])
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), backoff=0.1) as api:
        page = api.page("incidents")
    assert isinstance(page, PageIncidentPublic) and page.data == [] and page.next_cursor is None
    assert len(seen) == 3
    assert slept == [3.0, 7.0]


def test_retries_end_with_the_typed_error(monkeypatch):
    monkeypatch.setattr("demarche_client.client.time.sleep", lambda _: None)
    seen, handle = _flaky([(503, {}, "about:blank")] * 10)
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), retries=2) as api:
        with pytest.raises(Unavailable) as unavailable:
            api.page("incidents")
    assert len(seen) == 3
    assert isinstance(unavailable.value, DemarcheError) and unavailable.value.status == 503
    seen, handle = _flaky([(429, {"Retry-After": "1"}, "about:blank")] * 10)
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), retries=0) as api:
        with pytest.raises(RateLimited):
            api.page("incidents")


def test_a_query_too_expensive_and_a_conflict_are_not_retried():
    seen, handle = _flaky([(503, {}, "/problems/query-too-expensive")])
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), backoff=0) as api:
        with pytest.raises(QueryTooExpensive):
            api.page("incidents")
    assert len(seen) == 1

    seen, handle = _flaky([(409, {}, "/problems/conflict")])
    with Client("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
        with pytest.raises(Conflict):
            api.create("actors", {"slug": "nato"})
    assert len(seen) == 1
    assert seen[0].headers["idempotency-key"]


def test_queries_paths_and_bodies_are_written_as_the_api_reads_them():
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "next_cursor": None})

    with Client("http://demarche.test", "dmk_secret", transport=httpx.MockTransport(handle)) as api:
        api.page(
            "incidents",
            from_=datetime.date(2021, 10, 1),
            to="2021-10-31",
            actor=["nato", "russia"],
            count=True,
            fields=["id", "title"],
            q=None,
        )
        api.request("GET", "/v1/actors", params={"q": "nato"})
    query = parse_qs(urlsplit(str(seen[0].url)).query)
    assert query == {
        "from": ["2021-10-01"],
        "to": ["2021-10-31"],
        "actor": ["nato", "russia"],
        "count": ["true"],
        "fields": ["id,title"],
    }
    assert seen[0].headers["authorization"] == "Bearer dmk_secret"
    assert seen[0].headers["user-agent"] == f"demarche-client/{demarche_client.__version__}"
    assert seen[1].url.path == "/v1/actors" and seen[1].url.params["q"] == "nato"

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"type": "/problems/not-found", "title": "Not found", "detail": "none"})

    with Client("http://demarche.test", transport=httpx.MockTransport(echo)) as api:
        with pytest.raises(NotFound):
            api.get("sources", "url:https://example.org/news/1?page=2#top")
        with pytest.raises(NotFound):
            api.update("incidents", "ref:eln:2021-10:x", {"summary": None}, if_match='"3"')
    assert seen[-2].url.raw_path == b"/v1/sources/url:https:%2F%2Fexample.org%2Fnews%2F1%3Fpage%3D2%23top"
    patch = seen[-1]
    assert patch.url.raw_path == b"/v1/incidents/ref:eln:2021-10:x"
    assert patch.headers["content-type"] == "application/merge-patch+json"
    assert patch.headers["if-match"] == '"3"'
    assert json.loads(patch.content) == {"summary": None}  # a dict's None clears the field


def test_models_read_what_the_api_answers_and_write_what_it_takes():
    answer = {
        "id": "i1",
        "kind": "expulsion",
        "title": "Eight expelled",
        "occurred_on": "2021-10-06",
        "created_at": "2021-10-06T12:00:00Z",
        "updated_at": "2021-10-07T08:30:00+00:00",
        "version": 2,
        "initiators": [{"id": "a1", "slug": "nato", "name": "NATO", "added_later": True}],
        "targets": [],
        "responds_to": [],
        "sources": [],
        "persons_affected": 8,
        "latitude": 50,
        "a_field_of_a_later_version": {"x": 1},
    }
    incident = IncidentPublic.from_dict(answer)
    assert incident.occurred_on == datetime.date(2021, 10, 6)
    assert incident.created_at == datetime.datetime(2021, 10, 6, 12, tzinfo=datetime.UTC)
    assert incident.initiators[0].slug == "nato" and incident.latitude == 50.0
    assert (incident.etag, incident.replayed) == (None, False)

    record = IncidentCreate(
        kind="expulsion",
        title="Eight expelled",
        occurred_on=datetime.date(2021, 10, 6),
        initiators=["nato"],
        targets=[],
    )
    assert record.to_dict(omit_defaults=True) == {
        "kind": "expulsion",
        "title": "Eight expelled",
        "occurred_on": "2021-10-06",
        "initiators": ["nato"],
        "targets": [],
    }
    some = PageIncidentPublic.from_dict({"data": [{"id": "i1", "title": "t"}], "next_cursor": None})
    assert isinstance(some.data[0], IncidentPublicFields) and some.data[0].title == "t"


def test_the_async_client_retries_and_pages(monkeypatch):
    async def no_sleep(_):
        return None

    monkeypatch.setattr("demarche_client.client.asyncio.sleep", no_sleep)
    seen, handle = _flaky([(503, {"Retry-After": "1"}, "about:blank")])

    async def run():
        async with AsyncClient("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
            return [record async for record in api.iterate("incidents")]

    assert asyncio.run(run()) == []
    assert len(seen) == 2


def test_reads_send_back_the_sequence_of_the_latest_write():
    """Read-your-writes: a write's ``Demarche-Sequence`` goes back with every later read of
    the same client as ``Demarche-Min-Sequence``; the highest one seen, never a lower one."""
    seen = []
    answered = iter(["7", "5"])

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers.get("Demarche-Min-Sequence")))
        if request.method == "POST":
            return httpx.Response(201, json={}, headers={"Demarche-Sequence": next(answered)})
        return httpx.Response(200, json={"data": [], "next_cursor": None})

    async def run_async() -> list[int | None]:
        async with AsyncClient("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
            await api.page("incidents")
            await api.request("POST", "/v1/sources", json={})
            await api.page("incidents")
            return [api.sequence]

    with Client("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
        api.page("incidents")
        assert api.sequence is None
        api.request("POST", "/v1/sources", json={})
        api.page("incidents")
        api.request("POST", "/v1/sources", json={})  # answered out of order: a lower sequence
        list(api.iterate("incidents"))
        assert api.sequence == 7
    assert seen == [("GET", None), ("POST", None), ("GET", "7"), ("POST", None), ("GET", "7")]

    seen.clear()
    answered = iter(["9"])
    assert asyncio.run(run_async()) == [9]
    assert seen == [("GET", None), ("POST", None), ("GET", "9")]


def test_an_unknown_collection_is_refused_before_any_request():
    with Client("http://demarche.test", transport=httpx.MockTransport(lambda r: httpx.Response(500))) as api:
        with pytest.raises(ValueError, match="incidents"):
            api.get("incident", "x")


# Against a server


def incident(parties, n, **fields):
    alliance, state = parties
    return {
        "kind": "expulsion",
        "title": f"Expulsion {n}",
        "occurred_on": f"2021-10-{n % 28 + 1:02d}",
        "initiators": [alliance],
        "targets": [state],
        **fields,
    }


def test_errors_are_typed_and_carry_the_problem(demarche, run):
    with pytest.raises(NotFound) as missing:
        demarche.get("actors", f"atlantis-{run}")
    assert missing.value.status == 404
    assert missing.value.type == "/problems/not-found"
    assert f"atlantis-{run}" in missing.value.detail

    with pytest.raises(ValidationError) as invalid:
        demarche.create("actors", {"slug": f"x-{run}"})
    assert {tuple(e["loc"]) for e in invalid.value.errors} >= {("body", "name"), ("body", "kind")}

    demarche.create("actors", {"slug": f"nato-{run}", "name": "NATO", "kind": "organization"})
    with pytest.raises(Conflict) as taken:
        demarche.create("actors", {"slug": f"nato-{run}", "name": "NATO", "kind": "organization"})
    assert taken.value.problem["status"] == 409


def test_records_are_typed_and_read_by_id_or_natural_key(demarche, parties, run):
    created = demarche.create(
        "incidents",
        IncidentCreate(
            kind="accreditation_withdrawal",
            title="Eight accreditations withdrawn",
            occurred_on=datetime.date(2021, 10, 6),
            initiators=[parties[0]],
            targets=[parties[1]],
            persons_affected=8,
            external_ref=f"test:{run}/withdrawal",
        ),
    )
    assert isinstance(created, IncidentPublic) and created.version == 1 and not created.replayed
    assert created.etag == '"1"'
    assert [actor.slug for actor in created.initiators] == [parties[0]]

    by_ref = demarche.get("incidents", f"ref:test:{run}/withdrawal")
    assert by_ref == created and by_ref.occurred_on == datetime.date(2021, 10, 6)
    some = demarche.get("incidents", created.id, fields="id,title")
    assert isinstance(some, IncidentPublicFields) and (some.id, some.title) == (created.id, created.title)
    assert some.kind is None

    actor = demarche.get("actors", parties[1])
    assert isinstance(actor, ActorPublic) and actor.country_code == "RUS"
    url = f"https://example.org/{run}/report?page=1"
    source = demarche.create("sources", {"title": "A report", "url": url, "publisher": "Example"})
    assert isinstance(source, SourcePublic)
    assert demarche.get("sources", f"url:{url}").id == source.id


def test_a_create_sent_again_with_its_key_is_a_visible_replay(demarche, parties, run):
    key = f"create-{run}"
    first = demarche.create("incidents", incident(parties, 1), idempotency_key=key)
    again = demarche.create("incidents", incident(parties, 1), idempotency_key=key)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.id == first.id
    assert [i.id for i in demarche.iterate("incidents", initiator=parties[0])] == [first.id]


def test_iterate_follows_the_cursor_across_pages(demarche, parties):
    for n in range(7):
        demarche.create("incidents", incident(parties, n))
    incidents = list(demarche.iterate("incidents", actor=parties[1], limit=3, sort="occurred_on"))
    assert all(isinstance(i, IncidentPublic) for i in incidents)
    assert sorted(i.title for i in incidents) == sorted(f"Expulsion {n}" for n in range(7))
    assert [i.occurred_on for i in incidents] == sorted(i.occurred_on for i in incidents)
    october = list(demarche.iterate("incidents", actor=parties[1], from_=datetime.date(2021, 10, 5)))
    assert sorted(i.title for i in october) == ["Expulsion 4", "Expulsion 5", "Expulsion 6"]
    assert list(demarche.iterate("incidents", actor=parties[1], kind="sanctions")) == []
    page = demarche.page("incidents", actor=parties[1], limit=2, count=True)
    assert page.total == 7 and len(page.data) == 2 and page.next_cursor


def test_if_match_writes_only_over_what_was_read(demarche, parties):
    read = demarche.create("incidents", incident(parties, 1))
    updated = demarche.update("incidents", read.id, {"persons_affected": 3}, if_match=read)
    assert (updated.version, updated.persons_affected, updated.etag) == (2, 3, '"2"')
    with pytest.raises(PreconditionFailed):
        demarche.update("incidents", read.id, {"persons_affected": 4}, if_match=read)  # stale: version 1
    listed = next(demarche.iterate("incidents", actor=parties[1]))
    assert listed.etag is None  # a page's records come without a tag: their version stands in
    cleared = demarche.update("incidents", read.id, {"persons_affected": None}, if_match=listed)
    assert cleared.persons_affected is None and cleared.version == 3

    with pytest.raises(PreconditionFailed):
        demarche.delete("incidents", read.id, if_match=updated)
    demarche.delete("incidents", read.id, if_match=cleared)
    assert demarche.get("incidents", read.id).status == "retracted"  # as a write key sees it; 404 to readers
    restored = demarche.restore("incidents", read.id)
    assert restored.id == read.id and restored.status == "published"
    versions = demarche.history("incidents", read.id).data
    assert [v.op for v in versions] == ["create", "update", "update", "delete", "restore"]


def test_a_merged_incident_reads_as_its_survivor(demarche, parties, run):
    survivor = demarche.create("incidents", incident(parties, 1))
    other = demarche.create("incidents", incident(parties, 2, external_ref=f"test:{run}:other"))
    merged = demarche.merge(survivor.id, f"test:{run}:other", if_match=survivor)
    assert (merged.id, merged.version) == (survivor.id, 2)
    assert demarche.get("incidents", other.id).id == survivor.id  # the 308 is followed
    with pytest.raises(Conflict):  # a write to it names the survivor instead
        demarche.update("incidents", other.id, {"persons_affected": 1})
    assert [v.op for v in demarche.history("incidents", other.id).data] == ["create", "merge"]


def test_views_answer_their_models(demarche, parties, run):
    first = demarche.create("incidents", incident(parties, 1, external_ref=f"test:{run}:1"))
    answer = demarche.create("incidents", incident(parties, 2, responds_to=[first.id]))
    chain = demarche.chain(f"ref:test:{run}:1")
    assert isinstance(chain, ChainPage)
    assert [(link.id, link.depth) for link in chain.data] == [(first.id, 0), (answer.id, 1)]
    dyad = demarche.dyad(*parties, as_of=datetime.date(2021, 10, 31), window_days=90)
    assert dyad.a.slug == parties[0] and dyad.as_of == datetime.date(2021, 10, 31)
    stats = demarche.stats(group_by=["kind", "month"], actor=parties[1])
    assert stats.data == [{"kind": "expulsion", "month": "2021-10", "count": 2}]
    assert "expulsion" in json.dumps(demarche.vocabularies())


def test_import_records_goes_in_batches_and_is_safe_to_run_twice(demarche, parties, run):
    alliance, state = parties
    records = [
        {"type": "actor", "slug": f"third-{run}", "name": "Third", "kind": "state", "country_code": "BLR"},
        *[{"type": "incident", **incident(parties, n, external_ref=f"t:{run}:{n}")} for n in range(24)],
        IncidentLine(
            type="incident",
            kind="expulsion",
            title="A line as a model",
            occurred_on=datetime.date(2021, 10, 30),
            initiators=[f"third-{run}"],
            targets=[state],
            external_ref=f"t:{run}:model",
        ),
    ]
    done = []
    counts = demarche.import_records(records, batch_size=10, job=f"twice-{run}", progress=done.append)
    assert done == [10, 10, 6]
    assert counts["created"]["actor"] == 1 and counts["created"]["incident"] == 25
    assert (counts.batches, counts.replayed) == (3, [])

    replays = []
    again = demarche.import_records(records, batch_size=10, job=f"twice-{run}", on_replay=replays.append)
    assert again == counts  # the same job's batches replay their first answers
    assert again.replayed == replays == [1, 2, 3]
    assert again.written["created"]["incident"] == 0
    assert len(list(demarche.iterate("incidents", target=state, limit=500))) == 25
    other = demarche.import_records(records, batch_size=10, job=f"another-{run}")
    assert other["unchanged"]["incident"] == 25 and other.replayed == []


def test_an_import_with_a_bad_line_raises_with_the_line(demarche, parties, run):
    lines = [{"type": "incident", **incident(parties, n)} for n in range(2)]
    lines.append({"type": "incident", **incident(parties, 3, targets=[f"atlantis-{run}"])})
    with pytest.raises(ValidationError) as bad:
        demarche.import_records(lines)
    assert [e["line"] for e in bad.value.errors] == [3]
    assert list(demarche.iterate("incidents", actor=parties[1])) == []  # one transaction: nothing written


def test_export_streams_the_whole_list(demarche, parties):
    for n in range(3):
        demarche.create("incidents", incident(parties, n))
    body = b"".join(demarche.export("incidents", "ndjson", actor=parties[1]))
    assert sorted(json.loads(line)["title"] for line in body.splitlines()) == [f"Expulsion {n}" for n in range(3)]
    csv = b"".join(demarche.export("incidents", "csv", actor=parties[1], fields="id,title"))
    assert sorted(csv.splitlines()[0].split(b",")) == [b"id", b"title"]


def test_the_async_client_against_the_server(server, parties, run):
    async def main():
        async with AsyncClient(*server) as api:
            created = await api.create("incidents", incident(parties, 1), idempotency_key=f"async-{run}")
            replay = await api.create("incidents", incident(parties, 1), idempotency_key=f"async-{run}")
            titles = [i.title async for i in api.iterate("incidents", actor=parties[1], limit=1)]
            with pytest.raises(NotFound):
                await api.get("incidents", f"nothing-{run}")
            read = await api.get("incidents", created.id)
            updated = await api.update("incidents", created.id, {"summary": "Eight."}, if_match=read)
            counts = await api.import_records(
                [{"type": "incident", **incident(parties, 2, external_ref=f"a:{run}")}], job=f"async-{run}"
            )
            chunks = [chunk async for chunk in api.export("incidents", "ndjson", actor=parties[1])]
            return created, replay, titles, updated, counts, b"".join(chunks)

    created, replay, titles, updated, counts, exported = asyncio.run(main())
    assert isinstance(created, IncidentPublic) and (created.replayed, replay.replayed) == (False, True)
    assert titles == ["Expulsion 1"]
    assert updated.summary == "Eight." and updated.version == 2
    assert counts["created"]["incident"] == 1
    assert len(exported.splitlines()) == 2
