"""The deployment kit works: deploy/compose.yaml parsed as Docker Compose reads it, and the
commands of its `migrate` job and of every `app` replica run as written, outside containers,
as tests/deploy/test_container.py runs the image's. The image's environment (the Dockerfile's final
stage) and each service's are mapped onto this machine: the `postgres` service onto a new
database of the local PostgreSQL, `redis` onto the local Redis, the proxy's address onto
127.0.0.1 (the test stands in for the proxy), and each replica's 0.0.0.0:8000 onto a free
local port. The proxy, PostgreSQL and Redis themselves are checked as configuration."""

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from app.main import DRIVER_CONNECTIONS
from app.settings import Settings
from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.deploy.test_container import DOCKERFILE, final_stage, image_environment
from tests.live import LiveServer, create_key, free_port, serve

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "127.0.0.1:6379"
VARIABLES = {
    "POSTGRES_PASSWORD": "deploy-test-password",
    "DEMARCHE_CURSOR_SECRET": "deploy-test-cursor-secret",
    "DEMARCHE_PUBLIC_HOST": "api.example.org",
}
"""What deploy/.env would hold."""
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``
    replaced in every string, as ``docker compose`` does with the variables of ``.env``."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        given = variables.get(match["name"], "")
        if match["op"] == ":?" and not given:
            raise AssertionError(f"compose.yaml requires {match['name']}: {match['arg']}")
        return given or (match["arg"] if match["op"] == ":-" else "")

    return _VARIABLE.sub(one, value).replace("$$", "$")


def load_compose(variables: dict[str, str]) -> dict[str, Any]:
    """The compose file as Compose sees it: YAML (merge keys included), then interpolated."""
    return interpolate(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")), variables)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(VARIABLES)


def proxy_address(compose: dict[str, Any]) -> str:
    return compose["services"]["proxy"]["networks"]["backend"]["ipv4_address"]


def local_environment(service: dict[str, Any], compose: dict[str, Any], database_url: str) -> dict[str, str]:
    """The environment a service's processes start with in their container, mapped onto
    this machine (see the module's docstring)."""
    environ = image_environment(final_stage(DOCKERFILE))
    for name, value in service["environment"].items():
        environ[name] = str(value)
    database = make_url(environ["DEMARCHE_DATABASE_URL"])
    assert (database.host, database.port, database.database) == ("postgres", 5432, "demarche")
    assert database.password == VARIABLES["POSTGRES_PASSWORD"], "the password comes from deploy/.env"
    environ["DEMARCHE_DATABASE_URL"] = database_url
    storage = environ["DEMARCHE_RATE_LIMIT_STORAGE"]
    assert storage.startswith("redis://redis:6379/"), "rate limits are shared through the redis service"
    environ["DEMARCHE_RATE_LIMIT_STORAGE"] = storage.replace("redis:6379", LOCAL_REDIS)
    environ["DEMARCHE_RATE_LIMIT_PREFIX"] = f"demarche-deploy-test-{os.getpid()}"  # apart from other runs' counts
    assert environ["FORWARDED_ALLOW_IPS"] == proxy_address(compose), "the replicas believe the proxy alone"
    environ["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
    environ["DEMARCHE_HOST"] = "127.0.0.1"
    environ["DEMARCHE_LOG_LEVEL"] = "INFO"  # the default, which says when shutdown is complete
    return environ


@pytest.fixture
def deploy_database(tmp_path: Path) -> Iterator[str]:
    """A new database on the local PostgreSQL (the compose file's engine, whatever the
    suite's), dropped afterwards."""
    given = os.environ.get("DEMARCHE_TEST_DATABASE_URL", "")
    base = given if make_url(given or "sqlite://").get_backend_name() == "postgresql" else LOCAL_POSTGRES
    url = fresh_database(base, tmp_path, "demarche_deploy")
    yield url
    drop_database(url)


def test_the_kit_holds_the_services_and_settings_production_needs(compose):
    services = compose["services"]
    assert {"proxy", "app", "migrate", "postgres", "redis"} <= services.keys()
    app, migrate = services["app"], services["migrate"]

    assert app["deploy"]["replicas"] >= 2
    assert "migrate" not in app["command"], "replicas only serve: the migrate job runs once"
    assert migrate["command"] == ["demarche", "migrate"] and migrate["restart"] == "no"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {app["depends_on"][name]["condition"] for name in ("postgres", "redis")} == {"service_healthy"}
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["proxy"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]

    environment = app["environment"]
    assert environment["DEMARCHE_PUBLIC_READ"] == "false"
    assert environment["DEMARCHE_CURSOR_SECRET"] == VARIABLES["DEMARCHE_CURSOR_SECRET"], "from the environment"
    assert "--proxy-headers" in app["command"]
    stop_after = int(app["command"][app["command"].index("--timeout-graceful-shutdown") + 1])
    assert int(app["stop_grace_period"].removesuffix("s")) > stop_after, "requests in flight finish on a stop"

    # Every server process's pool and its event loop's own connections, the migrate job and a
    # command or two fit in PostgreSQL's connections. The processes per replica are set, not
    # left to the host's cores.
    max_connections = int(re.search(r"max_connections=(\d+)", " ".join(services["postgres"]["command"]))[1])
    processes = app["deploy"]["replicas"] * int(environment["DEMARCHE_WORKERS"])
    pool = int(environment["DEMARCHE_DATABASE_POOL_SIZE"])
    pools = processes * (pool + min(pool, DRIVER_CONNECTIONS))
    assert pools + 2 + 2 <= max_connections - 3


def test_the_proxy_passes_requests_to_the_replicas_as_they_expect(compose):
    proxy, app = compose["services"]["proxy"], compose["services"]["app"]
    mounted = {volume.split(":")[1]: DEPLOY / volume.split(":")[0] for volume in proxy["volumes"]}
    nginx = mounted["/etc/nginx/conf.d/default.conf"].read_text(encoding="utf-8")
    port = image_environment(final_stage(DOCKERFILE))["DEMARCHE_PORT"]
    assert f"server app:{port} resolve" in nginx, "every replica of `app`, on the image's port"
    keep_alive = int(app["command"][app["command"].index("--timeout-keep-alive") + 1])
    assert int(re.search(r"keepalive_timeout (\d+)s;", nginx)[1]) < keep_alive
    assert int(re.search(r"client_max_body_size (\d+)m;", nginx)[1]) * 2**20 >= Settings().import_max_body_bytes
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "Host $http_host"):
        assert f"proxy_set_header {header};" in nginx
    assert app["environment"]["DEMARCHE_CONNECTIONS_PER_ADDRESS"] == "0" and "limit_conn per_address" in nginx


def test_the_migrate_job_and_the_replicas_start_as_written(compose, deploy_database, tmp_path):
    services = compose["services"]
    migrate = services["migrate"]
    environ = local_environment(migrate, compose, deploy_database)
    for attempt in range(2):  # a second run, as after every `up`, changes nothing
        done = subprocess.run(migrate["command"], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"run {attempt + 1}: {done.stdout}{done.stderr}"
        assert "database at head" in done.stdout

    app = services["app"]
    with ExitStack() as stack:
        replicas = []
        for number in range(app["deploy"]["replicas"]):
            env = local_environment(app, compose, deploy_database) | {"DEMARCHE_PORT": str(free_port())}
            log = tmp_path / f"app-{number}.log"
            server = stack.enter_context(
                serve(deploy_database, log, command=app["command"], port=int(env["DEMARCHE_PORT"]), env=env)
            )
            replicas.append((server, env))

        for server, env in replicas:
            check = subprocess.run(app["healthcheck"]["test"][1:], env=env, cwd=ROOT, timeout=10)
            assert check.returncode == 0, f"the health check of {server.url}"
            ready = httpx.get(f"{server.url}/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
            assert httpx.get(f"{server.url}/v1/incidents").status_code == 401, "anonymous reads are off"

        key = create_key(environ, "write")  # as `docker compose run --rm migrate demarche keys create` does
        _shared_rate_limit(replicas[0][0], replicas[1][0], key)
        _one_database_behind_the_proxy(replicas[0][0], replicas[1][0], key)
    for server, _ in replicas:
        assert "Application shutdown complete" in server.output(), "SIGTERM stops each replica gracefully"


def _shared_rate_limit(first: LiveServer, second: LiveServer, key: str) -> None:
    """A request to one replica uses up the count another replica answers from."""
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(3):  # a window may end between the two requests; not three times running
        one = httpx.get(f"{first.url}/v1/incidents", headers=headers).headers
        other = httpx.get(f"{second.url}/v1/incidents", headers=headers).headers
        if int(other["RateLimit-Reset"]) <= int(one["RateLimit-Reset"]):
            assert int(other["RateLimit-Remaining"]) == int(one["RateLimit-Remaining"]) - 1
            return
    pytest.fail("every pair of requests straddled a rate-limit window")


def _one_database_behind_the_proxy(first: LiveServer, second: LiveServer, key: str) -> None:
    """What one replica writes, another reads; and a replica believes the proxy's headers:
    the public name and scheme come back in the next page's link."""
    headers = {"Authorization": f"Bearer {key}"}
    for slug in ("nato", "russia"):
        body = {"slug": slug, "name": slug.upper(), "kind": "organization"}
        assert httpx.post(f"{first.url}/v1/actors", json=body, headers=headers).status_code == 201
    proxied = headers | {"Host": VARIABLES["DEMARCHE_PUBLIC_HOST"], "X-Forwarded-Proto": "https"}
    page = httpx.get(f"{second.url}/v1/actors?limit=1", headers=proxied | {"X-Forwarded-For": "203.0.113.7"})
    assert page.status_code == 200, page.text
    assert page.headers["Link"].startswith(f"<https://{VARIABLES['DEMARCHE_PUBLIC_HOST']}/v1/actors?")
    elsewhere = httpx.get(f"{second.url}/v1/actors", headers=headers | {"Host": "elsewhere.example"})
    assert elsewhere.status_code == 400, "the replicas answer only to the names they serve"
