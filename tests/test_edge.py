"""What a security review asks for: security headers, no caching of authenticated answers,
CORS only for configured origins, trusted hosts, and keys never in logs."""

import logging

from app.access.models import KeyScope
from app.kit.observe import JSONFormatter
from app.settings import Settings
from tests.conftest import keyed_client

DASHBOARD = "https://dashboard.example.org"


def test_every_answer_carries_the_security_headers(client, anonymous):
    answers = [
        anonymous.get("/v1/incidents"),
        anonymous.get("/v1/no-such-thing"),
        anonymous.post("/v1/actors", json={}),
        anonymous.get("/v1/incidents", headers={"Authorization": "Bearer nonsense"}),
        client.post("/v1/actors", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}),
        anonymous.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [200, 404, 401, 401, 413, 200]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"


def test_the_docs_cannot_be_framed(anonymous):
    for page in ("/docs", "/redoc"):
        answer = anonymous.get(page)
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert len(answer.headers.get_list("Content-Security-Policy")) == 1


def test_answers_to_requests_with_a_key_are_not_stored(client, anonymous):
    assert client.get("/v1/incidents").headers["Cache-Control"] == "no-store"
    assert client.get("/v1/no-such-thing").headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in anonymous.get("/v1/incidents").headers


def test_cors_answers_only_configured_origins(app_with, anonymous):
    preflight = {"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    assert "Access-Control-Allow-Origin" not in anonymous.get("/v1/incidents", headers={"Origin": DASHBOARD}).headers
    app = app_with(cors_origins=[DASHBOARD])
    with keyed_client(app, KeyScope.read) as browser:
        allowed = browser.options(
            "/v1/incidents", headers=preflight | {"Access-Control-Request-Headers": "Authorization"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == DASHBOARD
        assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
        simple = browser.get("/v1/incidents", headers={"Origin": DASHBOARD})
        assert simple.headers["Access-Control-Allow-Origin"] == DASHBOARD
        assert "ratelimit-remaining" in simple.headers["Access-Control-Expose-Headers"].lower()
        foreign = browser.get("/v1/incidents", headers={"Origin": "https://elsewhere.example.com"})
        assert "Access-Control-Allow-Origin" not in foreign.headers


def test_origins_and_hosts_are_read_as_comma_separated_lists(monkeypatch):
    monkeypatch.setenv("DEMARCHE_CORS_ORIGINS", f"{DASHBOARD}, https://ops.example.org")
    monkeypatch.setenv("DEMARCHE_TRUSTED_HOSTS", "api.example.org,*.internal")
    settings = Settings()
    assert settings.cors_origins == [DASHBOARD, "https://ops.example.org"]
    assert settings.trusted_hosts == ["api.example.org", "*.internal"]
    monkeypatch.delenv("DEMARCHE_CORS_ORIGINS")
    assert Settings().cors_origins == [], "no origin is allowed by default"


def test_only_trusted_host_names_are_answered(app_with, anonymous):
    refused = anonymous.get("/v1/incidents", headers={"Host": "attacker.example.com"})
    assert "DEMARCHE_TRUSTED_HOSTS" in refused.json()["detail"], "the refusal names the setting"
    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert anonymous.get("/healthz", headers={"Host": "localhost:8000"}).status_code == 200
    app = app_with(trusted_hosts=["api.example.org", "*.internal"])
    with keyed_client(app, None) as caller:
        assert caller.get("/healthz", headers={"Host": "api.example.org"}).status_code == 200
        assert caller.get("/healthz", headers={"Host": "db.eu.internal:443"}).status_code == 200
        assert caller.get("/healthz", headers={"Host": "testserver"}).status_code == 400
    with keyed_client(app_with(trusted_hosts=["*"]), None) as caller:
        assert caller.get("/healthz", headers={"Host": "anything.example"}).status_code == 200


def test_the_access_log_names_the_key_and_never_its_secret(client, caplog):
    key = client.post("/v1/keys", json={"name": "logged", "scope": "read"}).json()
    caplog.clear()
    with keyed_client(client.app, None) as caller, caplog.at_level(logging.INFO):
        caller.get("/v1/incidents", headers={"Authorization": f"Bearer {key['secret']}"})
        caller.get(f"/v1/incidents?api_key={key['secret']}")
        caller.get("/v1/incidents")
    server_side = [record for record in caplog.records if record.name != "httpx"]  # httpx is the test's client
    lines = [JSONFormatter().format(record) for record in server_side]
    assert not [line for line in lines if key["secret"] in line]
    requests = [r.fields for r in caplog.records if r.name == "demarche.access"]
    assert [(r["status"], r["key_id"]) for r in requests] == [(200, key["id"]), (400, None), (200, None)]
