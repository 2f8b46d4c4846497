"""The image's start command works: the final stage of the Dockerfile (its ENV, CMD and
HEALTHCHECK) run outside a container, against a new database, with this checkout standing in
for the image's files (/srv) and this virtual environment for its /opt/venv."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.live import create_key, free_port, serve

DOCKERFILE = ROOT / "Dockerfile"
IMAGE_PATHS = {"/opt/venv": sys.prefix, "/srv": str(ROOT)}


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """The instructions of the last build stage, as (INSTRUCTION, arguments) pairs."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, arguments = line.strip().partition(" ")
            if name.upper() == "FROM":
                instructions = []
            instructions.append((name.upper(), arguments.strip()))
    return instructions


def image_environment(
    stage: list[tuple[str, str]], paths: dict[str, str] = IMAGE_PATHS, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment the image's processes start with (``base``, this process's by default,
    and the stage's ENV), its paths mapped to this machine (``paths``: image path to local)."""
    environ = dict(os.environ if base is None else base)
    for name, arguments in stage:
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                for image_path, local_path in paths.items():
                    value = value.replace(image_path, local_path)
                environ[key] = re.sub(r"\$(\w+)", lambda m: environ.get(m.group(1), ""), value)
    return environ


def exec_form(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    arguments = next(arguments for name, arguments in stage if name == instruction)
    if instruction == "HEALTHCHECK":
        arguments = arguments[arguments.index("CMD ") + 4 :]
    command = json.loads(arguments)
    assert isinstance(command, list), f"{instruction} is not in exec form"
    return command


@pytest.fixture
def container_database(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_container")
    yield url
    drop_database(url)


def test_the_image_start_command_migrates_and_serves_with_production_settings(container_database, tmp_path):
    stage = final_stage(DOCKERFILE)
    assert ("USER", "10001") in stage, "the image runs as a non-root user"
    port = free_port()
    environ = image_environment(stage) | {
        "DEMARCHE_DATABASE_URL": container_database,
        "DEMARCHE_HOST": "127.0.0.1",
        "DEMARCHE_PORT": str(port),
        "DEMARCHE_CURSOR_SECRET": "container-cursor-secret",
        "DEMARCHE_LOG_LEVEL": "INFO",  # the default, which says when shutdown is complete
    }
    command = exec_form(stage, "CMD")
    assert "--proxy-headers" in command[-1] and "--limit-concurrency" in command[-1]

    with serve(container_database, tmp_path / "server.log", command=command, port=port, env=environ) as server:
        healthcheck = subprocess.run(exec_form(stage, "HEALTHCHECK"), env=environ, timeout=10)
        assert healthcheck.returncode == 0

        assert httpx.get(f"{server.url}/healthz").status_code == 200
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"

        anonymous = httpx.get(f"{server.url}/v1/incidents")
        assert anonymous.status_code == 401, "production settings turn anonymous reads off"
        key = create_key(environ, "read")
        listing = httpx.get(f"{server.url}/v1/incidents", headers={"Authorization": f"Bearer {key}"})
        assert listing.status_code == 200, listing.text
        assert listing.json() == {"data": [], "next_cursor": None}
    assert "Application shutdown complete" in server.output(), "SIGTERM stops the server gracefully"
