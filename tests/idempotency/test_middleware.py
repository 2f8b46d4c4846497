"""Idempotency-Key on POST: retries replay the first answer and never write twice."""

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlmodel import Session

from app.idempotency.models import IdempotencyKey
from app.kit.records import utcnow
from tests.conftest import keyed_client, new_key
from tests.live import serve

RUSSIA = {"slug": "russia", "name": "Russia", "kind": "state", "country_code": "RUS"}


def key_row(app, key: str) -> IdempotencyKey | None:
    with Session(app.state.engine) as session:
        return session.execute(select(IdempotencyKey).where(IdempotencyKey.key == key)).scalar_one_or_none()


def test_a_retry_replays_the_first_answer_and_creates_nothing_more(client):
    first = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    retry = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-1"})
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert len(client.get("/v1/actors").json()["data"]) == 1


def test_the_same_key_with_another_body_is_422(client):
    assert client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-2"}).status_code == 201
    other = client.post("/v1/actors", json={**RUSSIA, "name": "Russian Federation"}, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    elsewhere = client.post("/v1/sources", json=RUSSIA, headers={"Idempotency-Key": "k-2"})
    assert elsewhere.status_code == 422
    assert client.get("/v1/actors/russia").json()["name"] == "Russia"


def test_keys_belong_to_the_credential_that_sent_them(app, client):
    assert client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "shared"}).status_code == 201
    with keyed_client(app, "write") as other:
        answer = other.post("/v1/actors", json={**RUSSIA, "slug": "rus"}, headers={"Idempotency-Key": "shared"})
    assert answer.status_code == 201
    assert "idempotent-replayed" not in answer.headers


def test_a_failed_validation_is_replayed_but_a_conflict_may_be_retried(client):
    bad = client.post("/v1/actors", json={"slug": "x"}, headers={"Idempotency-Key": "k-3"})
    assert bad.status_code == 422
    again = client.post("/v1/actors", json={"slug": "x"}, headers={"Idempotency-Key": "k-3"})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (422, "true")

    client.post("/v1/actors", json=RUSSIA)
    taken = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-4"})
    assert taken.status_code == 409
    client.delete("/v1/actors/russia")  # the slug stays taken by the retracted actor...
    retry = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-4"})
    assert retry.status_code == 409
    assert "idempotent-replayed" not in retry.headers  # ...and the retry ran again


def test_a_key_claimed_by_a_process_that_died_is_taken_over_once_its_lease_lapses(app, client):
    principal_of_client = _claim(client, "k-5")
    with Session(app.state.engine) as session:
        row = session.get_one(IdempotencyKey, (principal_of_client, "k-5"))
        row.status, row.fingerprint, row.headers, row.body = None, None, None, None
        row.locked_until = utcnow() + timedelta(minutes=5)
        session.commit()
    busy = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-5"})
    assert busy.status_code == 409
    assert busy.json()["type"] == "/problems/idempotency-key-in-flight"
    assert busy.headers["retry-after"] == "1"

    with Session(app.state.engine) as session:
        session.get_one(IdempotencyKey, (principal_of_client, "k-5")).locked_until = utcnow() - timedelta(seconds=1)
        session.commit()
    taken_over = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "k-5"})
    assert taken_over.status_code == 201
    assert "idempotent-replayed" not in taken_over.headers


def test_an_invalid_key_is_400(client):
    answer = client.post("/v1/actors", json=RUSSIA, headers={"Idempotency-Key": "with space"})
    assert answer.status_code == 400
    assert client.get("/v1/actors").json()["data"] == []


def test_twenty_concurrent_retries_create_one_record(database_url, app, client, tmp_path):
    secret = new_key(app, "write")
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "burst"}

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            return await asyncio.gather(*(http.post("/v1/actors", json=RUSSIA) for _ in range(20)))

    with serve(database_url, tmp_path / "server.log") as server:
        answers = asyncio.run(burst(server.url))
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.text for a in answers]
    assert {a.json()["id"] for a in created} == {created[0].json()["id"]}
    assert all(a.json()["type"] == "/problems/idempotency-key-in-flight" for a in answers if a.status_code != 201)
    assert sum("idempotent-replayed" not in a.headers for a in created) == 1
    assert len(client.get("/v1/actors").json()["data"]) == 1


def _claim(client, key: str) -> str:
    """Run one keyed request and answer the principal its key is stored under; the actor it
    created is removed again, as if the request had never been committed."""
    response = client.post("/v1/actors", json={**RUSSIA, "slug": f"tmp-{key}"}, headers={"Idempotency-Key": key})
    assert response.status_code == 201
    client.delete(f"/v1/actors/tmp-{key}")
    return key_row(client.app, key).principal


def test_the_answer_holding_a_new_keys_secret_is_never_stored(app, client):
    body = {"name": "partner", "scope": "read"}
    first = client.post("/v1/keys", json=body, headers={"Idempotency-Key": "k-7"})
    second = client.post("/v1/keys", json=body, headers={"Idempotency-Key": "k-7"})
    assert first.status_code == second.status_code == 201
    assert first.json()["secret"] != second.json()["secret"]
    assert key_row(app, "k-7") is None
