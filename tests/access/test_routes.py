"""API keys: issued once, stored as hashes, listed without secrets, revoked at once; the
command line issues the first admin key."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.access.models import ApiKey

SECRET = re.compile(r"dmk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")
DEMARCHE = Path(sys.executable).parent / "demarche"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_new_key_shows_its_secret_once_and_only_its_hash_is_kept(client, app):
    created = client.post("/v1/keys", json={"name": "acled-sync", "scope": "write"})
    assert created.status_code == 201, created.text
    key = created.json()
    assert created.headers["Location"] == f"/v1/keys/{key['id']}"
    assert created.headers["Cache-Control"] == "no-store"
    assert SECRET.fullmatch(key["secret"]).group(1) == key["id"]
    assert key["prefix"] == f"dmk_{key['id']}" and key["secret"].startswith(key["prefix"])
    assert {k: key[k] for k in ("name", "scope", "last_used_at")} == {
        "name": "acled-sync",
        "scope": "write",
        "last_used_at": None,
    }
    listed = client.get("/v1/keys").json()["data"]
    mine = next(k for k in listed if k["id"] == key["id"])
    assert "secret" not in mine and key["secret"] not in client.get("/v1/keys").text
    with app.state.engine.connect() as connection:
        stored = connection.execute(select(ApiKey.__table__).where(ApiKey.id == key["id"])).one()
    assert key["secret"] not in [str(value) for value in stored]
    assert len(stored.secret_hash) == 64


def last_used(client, key_id: str) -> str | None:
    return next(k for k in client.get("/v1/keys").json()["data"] if k["id"] == key_id)["last_used_at"]


def test_a_key_works_at_once_and_records_its_use_coarsely(client):
    key = client.post("/v1/keys", json={"name": "dashboard", "scope": "read"}).json()
    assert client.get("/v1/incidents", headers=bearer(key["secret"])).status_code == 200
    deadline = time.monotonic() + 5  # the use is written beside the request, not in its way
    while (first := last_used(client, key["id"])) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first is not None
    assert client.get("/v1/incidents", headers=bearer(key["secret"])).status_code == 200
    time.sleep(0.2)
    assert last_used(client, key["id"]) == first, "last_used_at is written at most once a minute"


def test_a_revoked_key_is_refused_on_its_very_next_request(client):
    key = client.post("/v1/keys", json={"name": "partner", "scope": "write"}).json()
    assert client.get("/v1/incidents", headers=bearer(key["secret"])).status_code == 200
    assert client.delete(f"/v1/keys/{key['id']}").status_code == 204
    refused = client.get("/v1/incidents", headers=bearer(key["secret"]))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert key["id"] not in [k["id"] for k in client.get("/v1/keys").json()["data"]]
    assert client.delete(f"/v1/keys/{key['id']}").status_code == 404


def test_unknown_malformed_or_non_bearer_keys_are_401_even_where_none_is_needed(client, anonymous):
    key = client.post("/v1/keys", json={"name": "x", "scope": "read"}).json()
    forged = key["secret"][:-4] + ("AAAA" if not key["secret"].endswith("AAAA") else "BBBB")
    for authorization in (f"Bearer {forged}", "Bearer dmk_nonsense", f"Basic {key['secret']}", "Bearer "):
        for path in ("/v1/incidents", "/v1/vocabularies"):
            answer = anonymous.get(path, headers={"Authorization": authorization})
            assert answer.status_code == 401, (authorization, path)
            assert answer.json()["type"] == "/problems/unauthorized"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_in_the_query_string_is_refused(client, anonymous):
    key = client.post("/v1/keys", json={"name": "x", "scope": "read"}).json()
    encoded = key["secret"].replace("_", "%5F")
    for query in (f"api_key={key['secret']}", f"access_token={key['secret']}", f"q={key['secret']}", f"q={encoded}"):
        answer = anonymous.get(f"/v1/incidents?{query}")
        assert answer.status_code == 400, query
        assert "Authorization header" in answer.json()["detail"]
        assert key["secret"] not in answer.text
    assert anonymous.get("/v1/incidents?api%5Fkey=x").status_code == 400, "a name percent-encoded is decoded first"


def test_key_payloads_are_validated(client):
    assert client.post("/v1/keys", json={"name": "x", "scope": "root"}).status_code == 422
    assert client.post("/v1/keys", json={"name": "", "scope": "read"}).status_code == 422
    assert client.post("/v1/keys", json={"name": "x", "scope": "read", "secret": "mine"}).status_code == 422


def test_the_command_line_issues_lists_and_revokes_keys(app_with, database_url):
    env = os.environ | {"DEMARCHE_DATABASE_URL": database_url}

    def demarche(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([DEMARCHE, "keys", *args], env=env, capture_output=True, text=True, timeout=60)

    created = demarche("create", "--scope", "admin", "--name", "first admin")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    key_id = SECRET.fullmatch(secret).group(1)
    cache_seconds = 1.0
    with TestClient(app_with(key_cache_seconds=cache_seconds), headers=bearer(secret)) as admin:
        assert admin.get("/v1/keys").status_code == 200
        listed = demarche("list")
        assert listed.returncode == 0 and key_id in listed.stdout and secret not in listed.stdout
        assert demarche("revoke", key_id).returncode == 0
        revoked = time.monotonic()
        # This server verified the key before another process revoked it: it refuses the key
        # once its cached verification expires.
        while admin.get("/v1/keys").status_code == 200:
            assert time.monotonic() - revoked < cache_seconds + 1, "a key revoked elsewhere is refused in bounded time"
            time.sleep(0.05)
        assert admin.get("/v1/keys").status_code == 401
    assert demarche("revoke", key_id).returncode == 1
