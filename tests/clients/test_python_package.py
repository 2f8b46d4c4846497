"""The client partners install (clients/python, the ``demarche-client`` distribution): it
installs alone into a clean virtual environment, with httpx as its one dependency and none of
the server's; it passes its own tests there against a live server; and its models are what
clients/python/generate.py makes of the committed spec."""

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from app.access.models import KeyScope
from tests import ROOT
from tests.conftest import new_key
from tests.live import serve

CLIENT = ROOT / "clients" / "python"
MODELS = CLIENT / "src" / "demarche_client" / "models.py"
SPEC = ROOT / "openapi" / "openapi.json"
SERVER_ONLY = ["app", "fastapi", "starlette", "sqlalchemy", "sqlmodel", "psycopg", "pydantic", "orjson", "uvicorn"]
"""What the server needs and the client must not: neither installed with it nor imported."""
PYTEST = next(
    line.strip() for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("pytest==")
)


@pytest.fixture(scope="session")
def client_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clients/python as committed, copied out of this checkout: the install builds there,
    and the tests run there, leaving nothing behind in the checkout."""
    copy = tmp_path_factory.mktemp("client") / "python"
    shutil.copytree(CLIENT, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    return copy


@pytest.fixture(scope="session")
def client_venv(client_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the client (installed from clients/python as a
    partner would) and pytest, nothing else: its python."""
    folder = tmp_path_factory.mktemp("client-venv")
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(client_copy), PYTEST],
        capture_output=True,
        text=True,
        timeout=540,
        env=_bare_environment(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python


def _bare_environment(**extra: str) -> dict[str, str]:
    """This process's environment without what would let the venv see this checkout."""
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    return environ | extra


def _in_venv(python: Path, code: str) -> str:
    run = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=_bare_environment(),
        cwd=python.parent,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_client_installs_alone_and_imports_nothing_of_the_server(client_venv):
    found = json.loads(
        _in_venv(
            client_venv,
            "import importlib.metadata as m, importlib.util as u, json, sys\n"
            "import demarche_client, demarche_client.models\n"
            "from demarche_client import Client, AsyncClient, DemarcheError, NotFound, ValidationError\n"
            f"names = {SERVER_ONLY!r}\n"
            "print(json.dumps({'file': demarche_client.__file__, 'requires': m.requires('demarche-client'),\n"
            "    'imported': [n for n in names if n in sys.modules],\n"
            "    'installed': [n for n in names if u.find_spec(n) is not None],\n"
            "    'distributions': sorted(d.metadata['Name'].lower() for d in m.distributions())}))",
        )
    )
    assert found["file"].startswith(str(client_venv.parent.parent)), "the venv's copy, not this checkout's"
    assert [requirement.split(">")[0].split("<")[0] for requirement in found["requires"]] == ["httpx"]
    assert found["imported"] == [] and found["installed"] == []
    assert {"demarche-client", "httpx"} <= set(found["distributions"])


def test_the_client_passes_its_tests_against_a_live_server(
    client_venv, client_copy, app, client, database_url, tmp_path
):
    key = new_key(app, KeyScope.write)
    with serve(database_url, tmp_path / "server.log", env={"DEMARCHE_RATE_LIMIT": "1000000/minute"}) as server:
        run = subprocess.run(
            [str(client_venv), "-m", "pytest", "-p", "no:cacheprovider", "-rs", "tests"],
            cwd=client_copy,
            capture_output=True,
            text=True,
            timeout=300,
            env=_bare_environment(DEMARCHE_URL=server.url, DEMARCHE_KEY=key),
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output + server.output()
    assert " passed" in output and "skipped" not in output, output


def test_the_models_are_generated_from_the_committed_spec(tmp_path):
    """As tests/kit/test_openapi.py checks the spec against the app: regenerated into a temporary
    file, the models equal what is committed."""
    output = tmp_path / "models.py"
    subprocess.run(
        [sys.executable, str(CLIENT / "generate.py"), "--spec", str(SPEC), "--output", str(output)],
        check=True,
        timeout=120,
    )
    assert output.read_text(encoding="utf-8") == MODELS.read_text(encoding="utf-8"), (
        "run `make client` and commit clients/python/src/demarche_client/models.py"
    )


def test_each_collection_answers_the_models_the_client_reads_it_as():
    from demarche_client.client import COLLECTIONS

    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    collections = spec["components"]["schemas"]["Collection"]["enum"]
    assert sorted(COLLECTIONS) == sorted(collections)
    for name, models in COLLECTIONS.items():
        listed = _answer_schema(spec, f"/v1/{name}", "get")
        assert listed == {"$ref": f"#/components/schemas/Page_{models.record.__name__}_"}, name
        item = next(p for p in spec["paths"] if p.startswith(f"/v1/{name}/{{") and p.count("/") == 3)
        read = _answer_schema(spec, item, "get")
        assert [option["$ref"].rsplit("/", 1)[1] for option in read["anyOf"]] == [
            models.record.__name__,
            models.some_fields.__name__,
        ], name
        assert _answer_schema(spec, f"/v1/{name}", "post")["$ref"].endswith(f"/{models.record.__name__}"), name


def _answer_schema(spec: dict, path: str, method: str) -> dict:
    responses = spec["paths"][path][method]["responses"]
    answer = responses.get("200") or responses["201"]
    return answer["content"]["application/json"]["schema"]
