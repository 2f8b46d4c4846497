"""Rate limits per key (per client address without one): RateLimit headers on every
answer, 429 with Retry-After past the limit, and one count shared by every server process
that uses the same Redis."""

import socket
import uuid

import httpx

from app.access.models import KeyScope
from tests.conftest import keyed_client, new_key
from tests.live import serve

REDIS = "redis://127.0.0.1:6379/0"
PORTS = range(8601, 8620)


def quota(answer) -> tuple[int, int, int]:
    return tuple(int(answer.headers[f"RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset"))


def test_a_key_has_its_own_budget_and_429_says_when_to_retry(app_with):
    # Windows are aligned to the clock; a day-long one is not crossed during the test.
    app = app_with(rate_limit="3/day")
    with keyed_client(app, KeyScope.read) as first, keyed_client(app, KeyScope.read) as second:
        answers = [first.get("/v1/incidents") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [quota(a)[:2] for a in answers] == [(3, 2), (3, 1), (3, 0)]
        assert 0 < quota(answers[-1])[2] <= 86_400
        refused = first.get("/v1/incidents")
        assert refused.status_code == 429
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/rate-limited"
        assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
        assert quota(refused)[:2] == (3, 0)
        assert second.get("/v1/incidents").status_code == 200, "another key counts apart"


def test_anonymous_callers_are_counted_by_address_and_errors_carry_the_headers(app_with):
    app = app_with(rate_limit="2/day")
    with keyed_client(app, None) as anonymous:
        assert quota(anonymous.get("/v1/nothing-here"))[:2] == (2, 1)
        assert anonymous.post("/v1/incidents", json={}).status_code == 401
        assert anonymous.get("/v1/incidents").status_code == 429
        for probe in ("/healthz", "/readyz", "/metrics"):
            answer = anonymous.get(probe)
            assert answer.status_code == 200 and "RateLimit-Limit" not in answer.headers, probe


def test_an_unreachable_limit_store_lets_requests_through(app_with):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app = app_with(rate_limit="1/day", rate_limit_storage=f"redis://127.0.0.1:{closed_port}/0")
    with keyed_client(app, KeyScope.read) as reader:
        for _ in range(2):
            answer = reader.get("/v1/incidents")
            assert answer.status_code == 200 and "RateLimit-Limit" not in answer.headers


def free_ports(count: int) -> list[int]:
    ports = []
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"fewer than {count} free ports in {PORTS}")


def test_two_server_processes_share_one_limit_through_redis(client, app, database_url, tmp_path):
    secret = new_key(app, KeyScope.read)
    env = {
        "DEMARCHE_RATE_LIMIT": "6/day",
        "DEMARCHE_RATE_LIMIT_STORAGE": REDIS,
        "DEMARCHE_RATE_LIMIT_PREFIX": f"demarche-test-{uuid.uuid4().hex}",
    }
    first_port, second_port = free_ports(2)
    with (
        serve(database_url, tmp_path / "first.log", port=first_port, env=env) as first,
        serve(database_url, tmp_path / "second.log", port=second_port, env=env) as second,
    ):
        headers = {"Authorization": f"Bearer {secret}"}
        answers = [httpx.get(f"{server.url}/v1/incidents", headers=headers) for server in (first, second) * 3]
        assert [a.status_code for a in answers] == [200] * 6
        assert [quota(a)[1] for a in answers] == [5, 4, 3, 2, 1, 0]
        for server in (first, second):
            refused = httpx.get(f"{server.url}/v1/incidents", headers=headers)
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        anonymous = httpx.get(f"{first.url}/v1/incidents")
        assert anonymous.status_code == 200 and quota(anonymous)[1] == 5, "the address has a budget of its own"
