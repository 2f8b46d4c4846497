"""A database that was never migrated is answered, on every route, with a 503 that says to
run `demarche migrate`: not as an outage to wait out."""

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import drop_database, fresh_database

PATHS = [
    ("GET", "/v1/incidents"),
    ("GET", "/v1/incidents/ref:x"),
    ("GET", "/v1/incidents/x/chain"),
    ("GET", "/v1/actors/russia"),
    ("GET", "/v1/stats/incidents?group_by=kind,month"),
    ("GET", "/v1/timeline"),
    ("GET", "/v1/dyads/nato/russia"),
    ("GET", "/v1/changes"),
    ("GET", "/incidents"),
]


def test_every_route_says_to_run_migrate(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_unmigrated")
    app = create_app(Settings(database_url=url, cursor_secret="test-cursor-secret"))
    try:
        with TestClient(app) as anonymous:
            answers = [anonymous.request(method, path) for method, path in PATHS]
            answers.append(
                anonymous.get("/v1/incidents", headers={"Authorization": "Bearer dmk_0123456789abcdef_" + "a" * 43})
            )
            answers.append(
                anonymous.post(
                    "/v1/actors",
                    json={"slug": "x", "name": "X", "kind": "state"},
                    headers={"Idempotency-Key": "k1"},
                )
            )
            for answer in answers:
                assert answer.status_code == 503, (answer.request.url, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert "run `demarche migrate`" in answer.json()["detail"], answer.text
                assert answer.headers["Retry-After"] == "30"
            ready = anonymous.get("/readyz")
            assert ready.status_code == 503 and "demarche migrate" in ready.json()["detail"]
    finally:
        app.state.engine.dispose()
        drop_database(url)
