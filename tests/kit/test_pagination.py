import base64
import json
from datetime import date, timedelta

from sqlmodel import Session

from app.actors.models import Involvement
from app.incidents.models import Incident
from app.kit.records import new_id
from tests.conftest import make

ROWS = 10_000


def bulk_incidents(app, nato_russia, count):
    """Insert ``count`` incidents directly, several per day, so that sort ties are common."""
    start = date(2000, 1, 1)
    incidents = [
        Incident(id=new_id(), kind="expulsion", title=f"I{n}", occurred_on=start + timedelta(days=n // 4))
        for n in range(count)
    ]
    with Session(app.state.engine) as session:
        session.add_all(incidents)
        session.flush()
        session.add_all(
            Involvement(resource="incident", record_id=i.id, role=role, actor_id=nato_russia[slug]["id"])
            for i in incidents
            for role, slug in (("initiator", "nato"), ("target", "russia"))
        )
        ids = {i.id for i in incidents}
        session.commit()
    return ids


def test_walk_yields_every_row_once_while_rows_are_inserted(client, app, nato_russia):
    expected = bulk_incidents(app, nato_russia, ROWS)
    seen: list[str] = []
    url = "/v1/incidents?limit=50"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [i["id"] for i in body["data"]]
        pages += 1
        if pages % 20 == 0:  # new rows land both behind and ahead of the walk
            for day in ("2001-01-01", "2020-01-01", "1999-01-01"):
                make(
                    client,
                    "incidents",
                    kind="expulsion",
                    title="new",
                    occurred_on=day,
                    initiators=["nato"],
                    targets=["russia"],
                )
        next_cursor = body["next_cursor"]
        if next_cursor:
            assert response.headers["link"].endswith('>; rel="next"')
            assert f"cursor={next_cursor}" in response.headers["link"]
            url = f"/v1/incidents?limit=50&cursor={next_cursor}"
        else:
            assert "link" not in response.headers
            url = None
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert expected <= set(seen), "a row vanished during the walk"


def test_keyset_respects_range_bound_with_cursor(client, app, nato_russia):
    bulk_incidents(app, nato_russia, 400)  # 100 days from 2000-01-01, four per day
    url = "/v1/incidents?limit=7&from=2000-01-10&to=2000-02-09"
    seen = []
    while url:
        body = client.get(url).json()
        seen += [(i["occurred_on"], i["id"]) for i in body["data"]]
        url = (
            body["next_cursor"] and f"/v1/incidents?limit=7&from=2000-01-10&to=2000-02-09&cursor={body['next_cursor']}"
        )
    assert len(seen) == 31 * 4 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    ascending = []
    url = "/v1/incidents?limit=9&sort=occurred_on&to=2000-01-05"
    while url:
        body = client.get(url).json()
        ascending += [(i["occurred_on"], i["id"]) for i in body["data"]]
        url = (
            body["next_cursor"] and f"/v1/incidents?limit=9&sort=occurred_on&to=2000-01-05&cursor={body['next_cursor']}"
        )
    assert ascending == sorted(ascending) and len(ascending) == 20


def test_limit_range(client, nato_russia):
    assert client.get("/v1/actors?limit=0").status_code == 422
    assert client.get("/v1/actors?limit=501").status_code == 422
    assert client.get("/v1/actors?limit=500").status_code == 200
    assert len(client.get("/v1/actors?limit=1").json()["data"]) == 1


def test_tampered_and_foreign_cursors_are_400(client, nato_russia):
    cursor = client.get("/v1/actors?limit=1").json()["next_cursor"]
    assert client.get(f"/v1/actors?limit=1&cursor={cursor}").status_code == 200
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["v"][0] = "Z"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + signature
    for bad in (forged, "garbage", cursor + "x", "a.b"):
        response = client.get(f"/v1/actors?limit=1&cursor={bad}")
        assert response.status_code == 400, bad
        assert response.json()["type"] == "/problems/invalid-cursor"
    for other_query in ("kind=state", "sort=-name"):
        response = client.get(f"/v1/actors?limit=1&{other_query}&cursor={cursor}")
        assert response.status_code == 400
    # a cursor from another collection with the same (empty) filters is refused too
    assert client.get(f"/v1/sources?cursor={cursor}").status_code == 400


def test_paging_by_timestamps(client, nato_russia):
    for n in range(3):
        make(client, "sources", url=f"https://example.org/{n}", title=f"S{n}")
    for collection, query in (("sources", ""), ("actors", "&sort=created_at"), ("actors", "&sort=-updated_at")):
        seen, url = [], f"/v1/{collection}?limit=1{query}"
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [r["id"] for r in body["data"]]
            url = body["next_cursor"] and f"/v1/{collection}?limit=1{query}&cursor={body['next_cursor']}"
        assert len(seen) == len(set(seen)) == 3, (collection, query)


def test_a_cursor_belongs_to_its_collection(client, nato_russia):
    make(client, "channels", name="A", kind="council", parties=["nato", "russia"])
    make(client, "channels", name="B", kind="council", parties=["nato", "russia"])
    cursor = client.get("/v1/actors?limit=1").json()["next_cursor"]  # actors and channels both sort by name
    assert client.get(f"/v1/channels?limit=1&cursor={cursor}").status_code == 400
