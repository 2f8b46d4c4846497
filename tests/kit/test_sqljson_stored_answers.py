"""Every collection keeps its records' answers (``record_json``; ``app.kit.sqljson.keep_answers``,
migrations 0010 and 0017): after any write, by the API or past it, each kept answer is the
answer built from the tables at that moment, and every read serves that answer."""

from typing import Any

import orjson
import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from app.db import KEPT_ANSWERS
from app.kit import sqljson
from tests.conftest import make


def kept_and_built(engine: Any) -> dict[str, tuple[dict[str, str | None], dict[str, str]]]:
    """For each table that keeps answers: its rows' kept answers and the answers built now."""
    out = {}
    with Session(engine) as session:
        for table, answer in KEPT_ANSWERS:
            kept = dict(session.execute(select(table.c.id, table.c.record_json)).all())
            built = dict(zip(kept, sqljson.answer_texts(session, table, answer, list(kept)), strict=True))
            out[table.name] = (kept, built)
    return out


def assert_kept_exact(engine: Any) -> None:
    """Each kept answer is there (the write that staled it wrote it again), to the byte the
    answer built now."""
    for name, (kept, built) in kept_and_built(engine).items():
        assert kept == built, name


def assert_stale_or_exact(engine: Any) -> set[str]:
    """After writes past the API (which nothing refills): each kept answer is stale (NULL)
    or the answer built now; answers the ids of the stale ones."""
    stale = set()
    for name, (kept, built) in kept_and_built(engine).items():
        for record_id, text_ in kept.items():
            if text_ is None:
                stale.add(record_id)
            else:
                assert text_ == built[record_id], (name, record_id)
    return stale


@pytest.fixture
def world(client) -> dict[str, Any]:
    """One record of each kind, linked as the founding case links them."""
    russia = make(client, "actors", slug="russia", name="Russia", kind="state", country_code="RUS")
    nato = make(client, "actors", slug="nato", name="NATO", kind="organization")
    ministry = make(client, "actors", slug="russia-mfa", name="Russian MFA", kind="body", affiliation="russia")
    source = make(client, "sources", url="https://example.org/news/1", title="Moscow suspends", publisher="Ex")
    cited = make(client, "sources", url="https://example.org/news/2", title="Status note", publisher="Ex")
    incident = make(
        client,
        "incidents",
        kind="mission_suspension",
        title="Russia suspends its mission to NATO",
        occurred_on="2021-10-18",
        initiators=["russia"],
        targets=["nato"],
        sources=[source["id"]],
    )
    exercise = make(
        client,
        "exercises",
        name="Zapad",
        start_date="2021-09-10",
        participants=[{"actor": "russia", "role": "lead"}],
        sources=[source["id"]],
    )
    channel = make(
        client,
        "channels",
        name="NATO Information Office in Moscow",
        kind="information_office",
        parties=["nato", "russia"],
        host="russia",
        established_on="2001-02-20",
        sources=[source["id"]],
    )
    change = client.post(
        f"/v1/channels/{channel['id']}/status-changes",
        json={
            "status": "suspended",
            "effective_on": "2021-11-01",
            "caused_by": incident["id"],
            "sources": [cited["id"]],
        },
    )
    assert change.status_code == 201, change.text
    return {
        "russia": russia,
        "nato": nato,
        "ministry": ministry,
        "source": source,
        "cited": cited,
        "incident": incident,
        "exercise": exercise,
        "channel": channel,
    }


def test_every_write_through_the_api_leaves_each_answer_kept_exact(app, client, reader, world):
    engine = app.state.engine
    assert_kept_exact(engine)
    russia, source, cited, channel = world["russia"], world["source"], world["cited"], world["channel"]
    writes = [
        ("PATCH", "/v1/actors/russia", {"name": "Russian Federation", "slug": "russian-federation"}),
        ("PATCH", f"/v1/sources/{source['id']}", {"title": "Moscow suspends its mission"}),
        ("PATCH", f"/v1/sources/{cited['id']}", {"url": "https://example.org/news/2b"}),
        ("PATCH", f"/v1/incidents/{world['incident']['id']}", {"title": "Moscow suspends its NATO mission"}),
        ("PATCH", f"/v1/channels/{channel['id']}", {"parties": ["nato", "russia-mfa"], "host": None}),
        ("PATCH", f"/v1/exercises/{world['exercise']['id']}", {"participants": [{"actor": "nato", "role": "lead"}]}),
        ("PATCH", "/v1/actors/russia-mfa", {"affiliation": "nato"}),
        ("DELETE", f"/v1/incidents/{world['incident']['id']}", None),
    ]
    for method, path, body in writes:
        response = client.request(method, path, json=body, headers={"Content-Type": "application/merge-patch+json"})
        assert response.is_success, (path, response.text)
        assert_kept_exact(engine)
    # what the reads serve is what is kept: the renamed actor, the retracted cause left out
    answer = reader.get(f"/v1/channels/{channel['id']}").json()
    assert [p["slug"] for p in answer["parties"]] == ["nato", "russia-mfa"]
    assert answer["host"] is None
    assert answer["status_history"][0]["caused_by"] is None
    assert answer["status_history"][0]["sources"][0]["url"] == "https://example.org/news/2b"
    assert answer["sources"][0]["title"] == "Moscow suspends its mission"
    assert reader.get("/v1/actors/russia-mfa").json()["affiliation"]["slug"] == "nato"
    exercise = reader.get(f"/v1/exercises/{world['exercise']['id']}").json()
    assert [p["actor"]["slug"] for p in exercise["participants"]] == ["nato"]
    assert russia["id"] == reader.get("/v1/actors/russian-federation").json()["id"]


def test_a_status_change_and_its_retraction_show_in_the_channel_kept(app, client, reader, world):
    channel = world["channel"]
    added = client.post(
        f"/v1/channels/{channel['id']}/status-changes", json={"status": "closed", "effective_on": "2022-01-01"}
    )
    assert added.status_code == 201, added.text
    assert_kept_exact(app.state.engine)
    history = reader.get(f"/v1/channels/{channel['id']}").json()["status_history"]
    assert [c["status"] for c in history] == ["suspended", "closed"]
    # the channel's status is the day's, not kept: the same kept answer on two days
    assert reader.get(f"/v1/channels/{channel['id']}?as_of=2021-11-15").json()["status"] == "suspended"
    assert reader.get(f"/v1/channels/{channel['id']}?as_of=2022-02-01").json()["status"] == "closed"
    listed = reader.get("/v1/channels?as_of=2021-10-01").json()["data"]
    assert [(c["id"], c["status"]) for c in listed] == [(channel["id"], "active")]


def test_a_draft_cause_is_kept_out_of_every_callers_channel(app, client, reader, world):
    draft = make(
        client,
        "incidents",
        kind="expulsion",
        title="A draft nobody may read yet",
        occurred_on="2021-10-19",
        initiators=["nato"],
        targets=["russia"],
        status="draft",
    )
    channel = world["channel"]
    added = client.post(
        f"/v1/channels/{channel['id']}/status-changes",
        json={"status": "closed", "effective_on": "2022-01-01", "caused_by": draft["id"]},
    )
    assert added.status_code == 201, added.text
    assert_kept_exact(app.state.engine)
    for caller in (reader, client):
        assert draft["title"] not in caller.get(f"/v1/channels/{channel['id']}").text
        assert draft["title"] not in caller.get("/v1/channels").text
    published = client.patch(
        f"/v1/incidents/{draft['id']}",
        json={"status": "published"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert published.is_success, published.text
    assert_kept_exact(app.state.engine)
    assert reader.get(f"/v1/channels/{channel['id']}").json()["status_history"][1]["caused_by"]["id"] == draft["id"]


def test_writes_past_the_api_stale_the_answers_they_change(app, reader, world):
    """A write in SQL, which no session refills, leaves stale exactly the answers it changes,
    and reads build those."""
    engine = app.state.engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE actors SET name = 'NATO (renamed)' WHERE slug = 'nato'"))
        connection.execute(text("UPDATE sources SET publisher = 'Other' WHERE id = :id"), {"id": world["cited"]["id"]})
    stale = assert_stale_or_exact(engine)
    assert stale == {
        world["nato"]["id"],  # its own row
        world["cited"]["id"],
        world["incident"]["id"],  # NATO is a target
        world["channel"]["id"],  # NATO is a party
    }
    assert reader.get("/v1/actors/nato").json()["name"] == "NATO (renamed)"
    assert reader.get(f"/v1/sources/{world['cited']['id']}").json()["publisher"] == "Other"
    parties = reader.get(f"/v1/channels/{world['channel']['id']}").json()["parties"]
    assert "NATO (renamed)" in [p["name"] for p in parties]
    listed = {a["slug"]: a for a in reader.get("/v1/actors").json()["data"]}
    assert listed["nato"]["name"] == "NATO (renamed)"


def test_lists_serve_the_kept_answers(app, reader, world):
    """A page is made of the kept answers: a kept answer changed in place (as no write would)
    is what the page shows, which proves it is read rather than built."""
    engine = app.state.engine
    for collection, record_id, field in (
        ("actors", world["ministry"]["id"], "name"),
        ("sources", world["source"]["id"], "title"),
        ("exercises", world["exercise"]["id"], "name"),
        ("channels", world["channel"]["id"], "name"),
    ):
        with engine.begin() as connection:
            kept = connection.execute(
                text(f"SELECT record_json FROM {collection} WHERE id = :id"), {"id": record_id}
            ).scalar_one()
            marked = orjson.dumps(orjson.loads(kept) | {field: "marked"}).decode()
            # past the own-row trigger: it stales an update that leaves record_json as it was
            connection.execute(
                text(f"UPDATE {collection} SET record_json = :text WHERE id = :id"), {"text": marked, "id": record_id}
            )
        page = reader.get(f"/v1/{collection}").json()["data"]
        assert {r["id"]: r for r in page}[record_id][field] == "marked", collection
