import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

PROBLEM = "application/problem+json"


def assert_problem(response, status, type_=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    if type_:
        assert body["type"] == type_
    return body


def test_malformed_json_is_400(client):
    body = assert_problem(
        client.post("/v1/actors", content=b'{"slug": ', headers={"content-type": "application/json"}),
        400,
        "/problems/malformed-json",
    )
    assert body["instance"] == "/v1/actors"


def test_wrong_content_type_is_415(client):
    assert_problem(client.post("/v1/actors", content=b"slug=nato", headers={"content-type": "text/plain"}), 415)
    assert_problem(
        client.post("/v1/actors", content=b"slug=nato", headers={"content-type": "application/x-www-form-urlencoded"}),
        415,
    )
    assert_problem(client.patch("/v1/actors/x", content=b"<a/>", headers={"content-type": "application/xml"}), 415)


def test_body_over_the_limit_is_413(database_url):
    app = create_app(Settings(database_url=database_url, max_body_bytes=100))
    with TestClient(app) as small:
        big = {"slug": "x", "name": "x" * 200, "kind": "state"}
        assert_problem(small.post("/v1/actors", json=big), 413, "/problems/payload-too-large")

        def chunks():  # no Content-Length: the limit holds while streaming too
            yield b'{"slug": "x", "name": "'
            yield b"x" * 200
            yield b'", "kind": "state"}'

        assert_problem(
            small.post("/v1/actors", content=chunks(), headers={"content-type": "application/json"}),
            413,
            "/problems/payload-too-large",
        )
        assert small.get("/v1/actors").json()["data"] == []


def test_validation_is_422_with_errors(client):
    body = assert_problem(
        client.post("/v1/actors", json={"slug": "Not A Slug", "name": "", "kind": "state"}),
        422,
        "/problems/validation-error",
    )
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "slug"), ("body", "name")}
    assert all({"loc", "msg", "type"} == e.keys() for e in body["errors"])
    assert_problem(client.get("/v1/incidents?from=yesterday"), 422)


def test_unknown_route_and_record_are_404(client):
    assert_problem(client.get("/v1/nothing-here"), 404)
    assert_problem(client.get("/v1/incidents/unknown-id"), 404, "/problems/not-found")


def test_wrong_method_is_405_problem(client):
    assert_problem(client.put("/v1/actors", json={}), 405)


@pytest.fixture
def failing_client(database_url):
    app = create_app(Settings(database_url=database_url))

    @app.get("/v1/boom", tags=["test"])
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/app.py: SELECT password FROM users")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_unexpected_errors_are_500_without_internals(failing_client):
    response = failing_client.get("/v1/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.text and "SELECT" not in response.text and "Traceback" not in response.text
    assert body["detail"] == "An unexpected error occurred."
