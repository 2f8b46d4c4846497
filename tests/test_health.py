import json
import logging
import re

from fastapi.testclient import TestClient

from app.kit.observe import JSONFormatter
from app.main import create_app
from app.settings import Settings


def test_readyz_when_migrated(client):
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and body["revision"] == client.app.state.head_revision


def test_readyz_is_503_before_migrations_and_when_the_database_is_gone(tmp_path, base_url):
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))) as empty:
        response = empty.get("/readyz")
        assert response.status_code == 503 and "Retry-After" in response.headers
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(Settings(database_url=unreachable))) as gone:
        response = gone.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "password" not in response.text and "127.0.0.1" not in response.text
        assert gone.get("/healthz").status_code == 200
        listing = gone.get("/v1/incidents")
        assert listing.status_code == 503 and listing.headers["retry-after"]


def test_request_id_is_echoed_or_made_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="demarche.access"):
        given = client.get("/v1/actors", headers={"X-Request-ID": "ingest-42"})
        made = client.get("/v1/nothing")
    assert given.headers["x-request-id"] == "ingest-42"
    assert len(made.headers["x-request-id"]) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
        != "bad id\twith spaces"
    )
    lines = [r.fields for r in caplog.records if r.name == "demarche.access"]
    assert {"request_id": "ingest-42", "method": "GET", "route": "/v1/actors", "status": 200}.items() <= lines[
        0
    ].items()
    assert lines[1]["status"] == 404 and lines[1]["request_id"] == made.headers["x-request-id"]
    line = json.loads(JSONFormatter().format(next(r for r in caplog.records if r.name == "demarche.access")))
    assert line["request_id"] == "ingest-42" and line["time"].endswith("Z") and line["duration_ms"] >= 0


def test_metrics_count_requests_by_route_template(client):
    client.get("/v1/actors/nobody")
    text = client.get("/metrics").text
    assert 'demarche_requests_total{method="GET",route="/v1/actors/{actor}",status="404"}' in text
    assert "demarche_request_duration_seconds_bucket" in text
    assert 'demarche_db_pool_connections{state="checked_out"}' in text


def test_docs_are_served_with_their_assets_from_the_app(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            assert client.get(asset).status_code == 200, asset
        assert "googleapis" not in html and "cdn" not in html.lower()
