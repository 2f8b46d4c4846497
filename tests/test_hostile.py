"""Hostile and heavy callers: every request has a bounded cost, and probes answer 4xx."""

import base64
import sqlite3
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from demarche_client import Client, QueryTooExpensive
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.access.models import KeyScope
from app.db import SessionDep
from app.ingest.service import REPORTED_ERRORS, REPORTED_LINES
from app.kit import pagination
from app.kit.reads import read
from app.kit.schemas import MAX_REPEAT
from app.main import create_app
from app.settings import Settings
from tests.conftest import import_incident, keyed_client, make, ndjson, new_key
from tests.live import serve

REPEATED = [
    ("/v1/actors", "kind", "state"),
    ("/v1/actors", "country", "RUS"),
    ("/v1/actors", "affiliation", "a"),
    ("/v1/incidents", "kind", "expulsion"),
    ("/v1/incidents", "actor", "a"),
    ("/v1/incidents", "initiator", "a"),
    ("/v1/incidents", "target", "a"),
    ("/v1/incidents", "tag", "t"),
    ("/v1/incidents", "status", "published"),
    ("/v1/exercises", "actor", "a"),
    ("/v1/exercises", "domain", "sea"),
    ("/v1/exercises", "region", "r"),
    ("/v1/exercises", "status", "published"),
    ("/v1/channels", "party", "a"),
    ("/v1/channels", "kind", "council"),
    ("/v1/channels", "status", "active"),
    ("/v1/sources", "publisher", "p"),
    ("/v1/timeline", "actor", "a"),
    ("/v1/timeline", "type", "incident"),
    ("/v1/stats/incidents", "actor", "a"),
]


def values(name: str, value: str, n: int) -> str:
    # Distinct values where any text goes, so that no layer could fold repeats away.
    return urlencode(
        [(name, value if name in {"kind", "status", "domain", "type", "country"} else f"{value}{i}") for i in range(n)]
    )


ACTOR_FILTERS = {"actor", "initiator", "target", "party", "affiliation"}
"""Filters naming actors: an unknown one is 422, so the actors they name are made first."""


@pytest.mark.parametrize(("path", "name", "value"), REPEATED)
def test_a_repeated_filter_takes_at_most_its_cap(client, path, name, value):
    if name in ACTOR_FILTERS:
        lines = [
            {"type": "actor", "slug": f"{value}{i}", "name": f"A{i}", "kind": "state"} for i in range(MAX_REPEAT + 1)
        ]
        answer = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 200, answer.text
    assert client.get(f"{path}?{values(name, value, MAX_REPEAT)}").status_code == 200
    answer = client.get(f"{path}?{values(name, value, MAX_REPEAT + 1)}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["query", name]


def test_the_caps_are_documented(client):
    spec = client.get("/openapi.json").json()
    for path, name, _ in REPEATED:
        parameter = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)
        assert parameter["schema"]["maxItems"] == MAX_REPEAT, (path, name)
        assert f"At most {MAX_REPEAT} values." in parameter["description"]


def test_the_actor_filters_of_incidents_expand_to_a_bounded_number_of_terms(client):
    slugs = [f"a{i}" for i in range(10)] + [f"i{i}" for i in range(20)]
    lines = ndjson([{"type": "actor", "slug": slug, "name": slug, "kind": "state"} for slug in slugs])
    assert client.post("/v1/import", content=lines, headers={"Content-Type": "application/x-ndjson"}).status_code == 200
    within = urlencode([("actor", f"a{i}") for i in range(10)] + [("initiator", f"i{i}") for i in range(20)])
    assert client.get(f"/v1/incidents?{within}").status_code == 200
    answer = client.get(f"/v1/incidents?{within}&target=t")
    assert answer.status_code == 422
    assert "41 terms" in answer.json()["detail"]


COUNT_TO_A_BILLION = text(
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) SELECT count(*) FROM c"
)
"""A statement that runs for minutes on either engine."""


def with_slow_route(app: Any) -> Any:
    """``app`` with a route that runs :data:`COUNT_TO_A_BILLION` as any read runs its work."""

    async def slow(session: SessionDep) -> int:
        return await read(session, lambda: session.execute(COUNT_TO_A_BILLION).scalar_one())

    app.add_api_route("/slow", slow, methods=["GET"], tags=["test"])
    return app


def test_a_statement_past_the_budget_is_cancelled_and_answers_503(app_with):
    app = with_slow_route(app_with(statement_timeout_ms=200))
    with TestClient(app) as anonymous:
        started = time.monotonic()
        answer = anonymous.get("/slow")
        elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"] == "/problems/query-too-expensive"
        assert "Retry-After" not in answer.headers
        assert elapsed < 5
        # The connection went back to the pool, whole: the next request is served on it.
        assert app.state.engine.pool.checkedout() == 0
        assert anonymous.get("/v1/incidents").status_code == 200


COUNT_TO_A_MILLION = text(
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) SELECT count(*) FROM c"
)
"""A statement of a few tenths of a second on either engine: well within the statement budget."""
STATEMENTS = 12


def with_long_route(app: Any, finished: list[int]) -> Any:
    """``app`` with a route that runs :data:`COUNT_TO_A_MILLION` :data:`STATEMENTS` times in one
    read (seconds in all), noting each statement that finished in ``finished``."""

    def work(session: Any) -> int:
        for _ in range(STATEMENTS):
            finished.append(session.execute(COUNT_TO_A_MILLION).scalar_one())
        return len(finished)

    async def long(session: SessionDep) -> int:
        return await read(session, work, session)

    app.add_api_route("/long", long, methods=["GET"], tags=["test"])
    return app


def test_a_request_past_its_deadline_is_cancelled_though_each_statement_is_short(app_with):
    finished: list[int] = []
    app = with_long_route(app_with(statement_timeout_ms=5000, request_timeout_seconds=0.5), finished)
    with TestClient(app) as anonymous:
        answer = anonymous.get("/long")
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"] == "/problems/query-too-expensive"
        assert "Retry-After" not in answer.headers
        assert len(finished) < STATEMENTS / 2
        assert app.state.engine.pool.checkedout() == 0
        assert anonymous.get("/v1/incidents").status_code == 200  # the next request has time of its own


def test_without_a_request_deadline_the_same_request_runs_to_its_end(app_with):
    finished: list[int] = []
    app = with_long_route(app_with(statement_timeout_ms=5000, request_timeout_seconds=0), finished)
    with TestClient(app) as anonymous:
        answer = anonymous.get("/long")
    assert answer.status_code == 200, answer.text
    assert len(finished) == STATEMENTS


def test_a_streamed_export_is_timed_to_its_first_row_only(app_with, client, nato_russia):
    for n in range(3):
        make(client, "incidents", **{k: v for k, v in import_incident(n).items() if k != "type"})
    app = app_with(statement_timeout_ms=200, request_timeout_seconds=0.2)
    with TestClient(app) as anonymous:
        lines = anonymous.get("/v1/incidents?format=ndjson").text.splitlines()
    assert len(lines) == 3


def test_pool_exhaustion_answers_503_with_retry_after(app_with, database_url):
    """A route's read (the actors' list: no lean or kept read answers it, which on
    PostgreSQL would run on the event loop's own connections) waits for the engine's pool."""
    app = app_with()
    app.state.engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with app.state.engine.connect(), TestClient(app) as anonymous:
        answer = anonymous.get("/v1/actors")
    app.state.engine.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert "busy" in answer.json()["detail"]


def test_the_client_does_not_retry_a_query_too_expensive():
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        problem = {"type": "/problems/query-too-expensive", "title": "Query too expensive", "status": 503}
        return httpx.Response(503, json=problem, headers={"Content-Type": "application/problem+json"})

    with Client("http://demarche.test", transport=httpx.MockTransport(handle), backoff=0) as api:
        with pytest.raises(QueryTooExpensive):
            api.page("incidents")
    assert len(calls) == 1


def forged(cursor: str, secret: str, **changes: Any) -> str:
    """``cursor`` with its payload changed and signed again with ``secret``."""
    body = cursor.split(".", 1)[0]
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload = orjson.dumps(payload | changes)
    return f"{base64.urlsafe_b64encode(payload).decode().rstrip('=')}.{pagination._sign(secret, payload)}"


FORGED_VALUES = [["2021-10-01"], {"a": 1}, None, True, "2021-10-01\u0000"]
"""Sort values no list sorts by; each query below adds those forged for its own sort."""
MOMENT = ["2021-10-01", "2021-10-01T00:00:00", 1.5]  # a date, or a moment without a time zone
DAY = ["2021-10-01T00:00:00+00:00", "October", 1.5]
TEXT = [1.5, 7]
RELEVANCE = ["2021-10-01", 7]


@pytest.mark.parametrize(
    ("query", "forged_values"),
    [
        ("/v1/incidents?sort=created_at", MOMENT),
        ("/v1/incidents?sort=-updated_at", MOMENT),
        ("/v1/incidents", DAY),
        ("/v1/incidents?q=expulsion", RELEVANCE),
        ("/v1/sources?q=report", RELEVANCE),
        ("/v1/timeline", DAY),
        ("/v1/actors?sort=name", TEXT),
        ("/v1/exercises?sort=-start_date", DAY),
    ],
)
def test_forged_cursors_of_every_shape_answer_400(app, client, nato_russia, query, forged_values):
    secret = app.state.settings.cursor_secret
    for n in range(2):
        make(client, "incidents", **{k: v for k, v in import_incident(n).items() if k != "type"})
        make(client, "sources", url=f"https://example.org/{n}", title=f"A report {n}")
        make(client, "exercises", name=f"Exercise {n}", start_date="2021-10-01", participants=[{"actor": "nato"}])
    first = client.get(f"{query}&limit=1" if "?" in query else f"{query}?limit=1")
    cursor = first.json()["next_cursor"]
    assert cursor, first.text
    separator = "&" if "?" in query else "?"
    valid_id = first.json()["data"][0]["id"]
    shapes = [{"v": [value, valid_id]} for value in FORGED_VALUES + forged_values]
    shapes += [
        {"v": [orjson.loads(base64.urlsafe_b64decode(cursor.split(".")[0] + "==="))["v"][0], bad]}
        for bad in (["x"], {"x": 1}, 7, None, "a\u0000b")
    ]
    shapes += [{"v": "ab"}, {"v": [1, 2, 3]}, {"v": {}}, {"p": ["x"]}, {"p": {"x": 1}}, {"p": "a\u0000"}, {"p": True}]
    for changes in shapes:
        answer = client.get(f"{query}{separator}limit=1&cursor={forged(cursor, secret, **changes)}")
        assert answer.status_code == 400, (changes, answer.status_code, answer.text)
        assert answer.json()["type"] == "/problems/invalid-cursor"


def test_the_server_refuses_the_development_cursor_secret_without_anonymous_reads(database_url):
    with pytest.raises(ValueError, match="DEMARCHE_CURSOR_SECRET is the development default.*PUBLIC_READ is false"):
        create_app(Settings(database_url=database_url, public_read=False))
    for allowed in (
        Settings(database_url=database_url, public_read=False, cursor_secret="private"),
        Settings(database_url=database_url),
    ):
        create_app(allowed).state.engine.dispose()


def test_metrics_need_an_admin_key_without_anonymous_reads(app_with):
    app = app_with(public_read=False)
    statuses = {}
    for scope in (None, KeyScope.read, KeyScope.write, KeyScope.admin):
        with keyed_client(app, scope) as caller:
            statuses[scope] = caller.get("/metrics").status_code
    assert statuses == {None: 401, KeyScope.read: 403, KeyScope.write: 403, KeyScope.admin: 200}
    with keyed_client(app_with(public_read=True), None) as anonymous:
        assert anonymous.get("/metrics").status_code == 200


def test_head_is_served_wherever_get_is(client, nato_russia):
    incident = make(client, "incidents", **{k: v for k, v in import_incident(1).items() if k != "type"})
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/incidents",
        f"/v1/incidents/{incident['id']}",
        "/v1/actors/nato",
        "/v1/incidents?format=csv",
        "/v1/vocabularies",
        "/v1/incidents/nonexistent",
    ):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        if "content-length" in got.headers and path != "/metrics":  # the metrics count the GET
            assert head.headers["content-length"] == got.headers["content-length"], path
    assert client.head("/v1/import").status_code == 405


def test_two_authorization_headers_are_refused(app, client):
    secret = new_key(app, KeyScope.admin)
    with TestClient(app) as bare:
        answer = bare.get(
            "/v1/incidents", headers=[("Authorization", f"Bearer {secret}"), ("Authorization", "Bearer dmk_x_y")]
        )
    assert answer.status_code == 400
    assert "more than one Authorization header" in answer.json()["detail"]


def test_secrets_tried_for_one_key_id_are_limited_whatever_the_address(app_with):
    app = app_with(rate_limit="3/minute")
    secret = new_key(app, KeyScope.read)
    wrong = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    statuses = []
    for n in range(5):
        with TestClient(app, client=(f"203.0.113.{n}", 50000)) as elsewhere:
            statuses.append(elsewhere.get("/v1/incidents", headers={"Authorization": f"Bearer {wrong}"}).status_code)
    assert statuses == [401, 401, 401, 429, 429]
    # The key's owner is not locked out by the guesses.
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as owner:
        assert owner.get("/v1/incidents").status_code == 200


def test_an_import_answer_lists_the_first_bad_lines_and_counts_the_rest(client):
    lines = [{"type": "actor", "slug": f"a{n}", "kind": "state"} for n in range(5000)]  # no name: each is bad
    lines.append(import_incident(1, tags=list(range(50))))  # fifty bad tags
    answer = client.post(
        "/v1/import?dry_run=true", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"}
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert [entry["line"] for entry in problem["errors"]] == list(range(1, REPORTED_LINES + 1))
    assert problem["detail"] == (
        f"5001 of 5001 lines are invalid; nothing was written. The first {REPORTED_LINES} are listed; "
        f"{5001 - REPORTED_LINES} more are not."
    )
    assert len(answer.content) < 50_000
    one = client.post(
        "/v1/import",
        content=ndjson([import_incident(1, tags=list(range(50)))]),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert len(one.json()["errors"][0]["errors"]) == REPORTED_ERRORS


def incident_body(n: int, **fields: Any) -> dict[str, Any]:
    return {k: v for k, v in import_incident(n, **fields).items() if k != "type"}


def test_an_answer_to_a_retracted_incident_stays_editable(client, nato_russia):
    first = make(client, "incidents", **incident_body(1))
    answer = make(client, "incidents", **incident_body(2, responds_to=[first["id"]]))
    assert client.delete(f"/v1/incidents/{first['id']}").status_code == 204
    patched = client.patch(
        f"/v1/incidents/{answer['id']}",
        json={"persons_affected": 3},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    # Shown as retracted to a key that may read it, on the answer's own path and to a write.
    retracted = [
        {"id": first["id"], "title": first["title"], "occurred_on": first["occurred_on"], "status": "retracted"}
    ]
    assert patched.json()["responds_to"] == retracted
    assert client.get(f"/v1/incidents/{answer['id']}").json()["responds_to"] == retracted
    # Other callers, and every list, are not shown it.
    listed = {r["id"]: r for r in client.get("/v1/incidents").json()["data"]}
    assert listed[answer["id"]]["responds_to"] == []
    # The link was kept: the patch changed nothing but what it asked for.
    versions = client.get(f"/v1/incidents/{answer['id']}/history").json()["data"]
    assert versions[0]["changes"]["responds_to"] == [first["id"]]
    assert versions[-1]["changes"] == {"persons_affected": 3}
    # A new link to the retracted incident is still refused.
    refused = client.post("/v1/incidents", json=incident_body(3, responds_to=[first["id"]]))
    assert refused.status_code == 422


def test_a_record_created_retracted_is_a_tombstone_in_the_feed(client, nato_russia):
    after = client.get("/v1/changes?after=0&limit=500").json()["data"]
    start = after[-1]["seq"] if after else 0
    posted = make(client, "incidents", **incident_body(1, status="retracted"))
    imported = client.post(
        "/v1/import",
        content=ndjson([import_incident(2, status="retracted", external_ref="x:2")]),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert imported.status_code == 200, imported.text
    exercise = make(
        client,
        "exercises",
        name="Withdrawn",
        start_date="2021-10-01",
        participants=[{"actor": "nato"}],
        status="retracted",
    )
    feed = client.get(f"/v1/changes?after={start}&limit=500").json()["data"]
    imported_id = next(e["id"] for e in feed if e["id"] not in {posted["id"], exercise["id"]})
    for record_id in (posted["id"], imported_id, exercise["id"]):
        assert [(e["op"], e["version"]) for e in feed if e["id"] == record_id] == [("create", 1), ("delete", 1)]


SECRET_TITLE = "EMBARGOED draft title"


def test_drafts_and_retracted_incidents_do_not_leak_through_embeds(client, reader, nato_russia):
    draft = make(client, "incidents", **incident_body(1, title=SECRET_TITLE, status="draft"))
    doomed = make(client, "incidents", **incident_body(2, title=f"{SECRET_TITLE} (retracted)"))
    answer = make(
        client,
        "incidents",
        **incident_body(3, responds_to=[draft["id"], doomed["id"]], latitude=50.0, longitude=4.0),
    )
    assert client.delete(f"/v1/incidents/{doomed['id']}").status_code == 204
    channel = make(client, "channels", name="NATO-Russia Council", kind="council", parties=["nato", "russia"])
    change = client.post(
        f"/v1/channels/{channel['id']}/status-changes",
        json={"status": "suspended", "effective_on": "2021-10-20", "caused_by": draft["id"]},
    )
    assert change.status_code == 201, change.text
    paths = [
        "/v1/incidents",
        f"/v1/incidents/{answer['id']}",
        f"/v1/incidents/{answer['id']}/chain",
        f"/v1/incidents/{answer['id']}/history",
        "/v1/incidents?format=ndjson",
        "/v1/incidents?format=csv",
        "/v1/incidents?format=geojson",
        "/v1/timeline",
        "/v1/timeline?actor=nato",
        "/v1/dyads/nato/russia?as_of=2021-12-31&window_days=365",
        "/v1/channels",
        f"/v1/channels/{channel['id']}",
        "/v1/channels?format=ndjson",
        "/v1/channels?format=csv",
        "/v1/changes?after=0",
    ]
    for path in paths:
        seen = reader.get(path)
        assert seen.status_code == 200, (path, seen.text)
        assert SECRET_TITLE not in seen.text, path
    assert reader.get(f"/v1/incidents/{answer['id']}").json()["responds_to"] == []
    # A key that may read them is shown both, each with its status.
    shown = client.get(f"/v1/incidents/{answer['id']}").json()["responds_to"]
    assert [(r["id"], r["status"]) for r in shown] == [(draft["id"], "draft"), (doomed["id"], "retracted")]
    assert reader.get(f"/v1/channels/{channel['id']}").json()["status_history"][0]["caused_by"] is None
    # Published, the draft shows in the answers that embed it: the link was kept.
    published = client.patch(
        f"/v1/incidents/{draft['id']}",
        json={"status": "published"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert published.status_code == 200
    shown = reader.get(f"/v1/incidents/{answer['id']}").json()["responds_to"]
    assert [r["id"] for r in shown] == [draft["id"]]
    listed = {r["id"]: r for r in reader.get("/v1/incidents").json()["data"]}
    assert [r["id"] for r in listed[answer["id"]]["responds_to"]] == [draft["id"]]
    # Retracted again, it is gone from them at once.
    assert client.delete(f"/v1/incidents/{draft['id']}").status_code == 204
    assert reader.get(f"/v1/incidents/{answer['id']}").json()["responds_to"] == []


def test_writes_are_not_timed(app_with, engine_name):
    """A write's cost is bounded by its body; a large import rightly runs long statements."""
    app = app_with(statement_timeout_ms=100)
    slow = (
        "SELECT pg_sleep(0.5)"
        if engine_name == "postgresql"
        else COUNT_TO_A_BILLION.text.replace("1000000000", "3000000")
    )

    def write(session: SessionDep) -> None:
        session.execute(text(slow)).all()

    app.add_api_route("/slow-write", write, methods=["POST"], tags=["test"])
    with TestClient(app) as anonymous:
        started = time.monotonic()
        assert anonymous.post("/slow-write").status_code == 200
        assert time.monotonic() - started > 0.1


@pytest.mark.parametrize("idempotency_key", [None, "slow-import"])
def test_a_slow_import_holds_no_lock_that_other_writers_wait_for(
    app, database_url, tmp_path, nato_russia, idempotency_key
):
    """An import whose body trickles in over seconds, with or without an ``Idempotency-Key``:
    another key's write is answered while the import is still arriving, and the import is
    written whole afterwards."""
    importing, writing = new_key(app, KeyScope.write), new_key(app, KeyScope.write)
    lines = [import_incident(n, external_ref=f"slow:{n}") for n in range(1500)]
    arrived = threading.Event()

    def trickle():
        yield b"".join(orjson.dumps(line) + b"\n" for line in lines[:1200])  # more than a batch
        arrived.set()
        for line in lines[1200:1206]:
            time.sleep(0.5)
            yield orjson.dumps(line) + b"\n"
        yield b"".join(orjson.dumps(line) + b"\n" for line in lines[1206:])

    with serve(database_url, tmp_path / "server.log") as server:
        answers = {}

        def slow_import() -> None:
            answers["import"] = httpx.post(
                f"{server.url}/v1/import",
                content=trickle(),
                headers={"Authorization": f"Bearer {importing}", "Content-Type": "application/x-ndjson"}
                | ({"Idempotency-Key": idempotency_key} if idempotency_key else {}),
                timeout=30,
            )

        thread = threading.Thread(target=slow_import)
        thread.start()
        assert arrived.wait(10)
        time.sleep(0.2)
        actor = httpx.post(
            f"{server.url}/v1/actors",
            json={"slug": "eu", "name": "EU", "kind": "organization"},
            headers={"Authorization": f"Bearer {writing}"},
            timeout=30,
        )
        assert actor.status_code == 201, actor.text
        assert thread.is_alive(), "the write waited for the import to end"
        thread.join()
    assert answers["import"].status_code == 200, answers["import"].text
    assert answers["import"].json()["created"]["incident"] == len(lines)


def test_a_write_that_waits_too_long_for_sqlites_lock_says_so(app, client, database_url, engine_name):
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock: its writers wait on rows")
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer = client.post("/v1/actors", json={"slug": "eu", "name": "EU", "kind": "organization"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert "write lock" in answer.json()["detail"]
    assert client.get("/v1/actors/eu").status_code == 404
