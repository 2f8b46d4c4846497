"""``demarche import`` and ``demarche export``, run as the command they are."""

import os
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import orjson

from app.ingest.names import FORMATS, TYPES
from tests import ROOT
from tests.conftest import IMPORT_ACTORS, import_incident, ndjson, new_key
from tests.live import serve

DEMO = Path(str(files("app.seed").joinpath("demo.ndjson")))


def demarche(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DEMARCHE_DATABASE_URL": database_url, "DEMARCHE_LOG_LEVEL": "WARNING", **env}
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    return subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)


def test_the_command_loads_no_models_before_a_command_runs():
    """``demarche`` names its choices from modules with nothing to import (a command that
    talks to a server starts in a quarter of a second): the choices are those the import
    takes, and loading the command loads no models, converters, database or web framework."""
    from app.ingest.cli import COLLECTIONS
    from app.ingest.converters import READERS
    from app.records import BY_TYPE
    from app.records import COLLECTIONS as DECLARED

    assert TYPES == (*BY_TYPE, "channel_status")
    assert COLLECTIONS == [collection.name for collection in DECLARED]
    assert FORMATS == tuple(READERS)
    heavy = ("app.", "sqlalchemy", "sqlmodel", "fastapi", "alembic", "uvicorn", "pydantic_settings")
    probe = f"import sys, app.cli; print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert orjson.loads(loaded.stdout.replace("'", '"')) == [
        "app.access",
        "app.access.scopes",
        "app.cli",
        "app.ingest",
        "app.ingest.cli",
        "app.ingest.names",
    ]


def test_import_then_export_round_trips_through_csv(client, database_url, tmp_path):
    first = demarche(database_url, "import", str(DEMO), "--batch-size", "10")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "created 15 actor, 1 source, 6 incident, 6 exercise, 6 channel, 7 channel_status; updated 0; unchanged 0"
    )
    assert "41/41 records" in first.stderr  # plain progress lines when not on a terminal
    assert len(client.get("/v1/incidents").json()["data"]) == 6

    for collection in ("actors", "incidents", "exercises", "channels"):
        exported = tmp_path / f"{collection}.csv"
        out = demarche(database_url, "export", collection, "--format", "csv", "--output", str(exported))
        assert out.returncode == 0, out.stderr
        again = demarche(database_url, "import", str(exported), "--type", collection.removesuffix("s"))
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("created 0; updated 0; unchanged "), again.stdout
    # the key each run made for itself is revoked when it ends
    assert [k["name"] for k in client.get("/v1/keys").json()["data"]] == ["test admin"]


def test_export_filters_and_writes_ndjson(client, database_url, tmp_path):
    assert demarche(database_url, "import", str(DEMO)).returncode == 0
    out = demarche(
        database_url, "export", "incidents", "--filter", "kind=mission_suspension", "--filter", "kind=office_closure"
    )
    assert out.returncode == 0, out.stderr
    kinds = sorted(orjson.loads(line)["kind"] for line in out.stdout.splitlines())
    assert kinds == ["mission_suspension", "office_closure"]


def test_bad_lines_are_named_by_their_line_in_the_file(client, database_url, tmp_path):
    bad = import_incident(1, targets=["atlantis"])
    (tmp_path / "bad.ndjson").write_bytes(ndjson(IMPORT_ACTORS) + b"\n" + ndjson([bad]))
    out = demarche(database_url, "import", str(tmp_path / "bad.ndjson"))
    assert out.returncode == 1
    assert "line 4: targets.0: Unknown actor 'atlantis'." in out.stderr
    assert client.get("/v1/actors").json()["data"] == []


def test_a_server_killed_mid_import_and_a_rerun_write_every_record_once(client, app, database_url, tmp_path):
    """Incidents without external_ref: only the batches' idempotency keys keep a rerun from
    writing them twice."""
    count = 3000
    records = IMPORT_ACTORS + [import_incident(n, occurred_on="2021-10-06") for n in range(count)]
    file = tmp_path / "big.ndjson"
    file.write_bytes(ndjson(records))
    key = new_key(app, "write")
    env = {"DEMARCHE_IDEMPOTENCY_LEASE_SECONDS": "2"}
    command = ["import", str(file), "--batch-size", "100"]

    with serve(database_url, tmp_path / "first.log", env=env) as server:
        environ = {**os.environ, "DEMARCHE_URL": server.url, "DEMARCHE_KEY": key}
        run = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", *command],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while _incidents(client) < 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        run.kill()
        run.wait()
    written = _incidents(client)
    assert 500 <= written < count, "the server was killed mid-import"

    with serve(database_url, tmp_path / "second.log", env=env) as server:
        rerun = demarche(database_url, *command, DEMARCHE_URL=server.url, DEMARCHE_KEY=key)
    assert rerun.returncode == 0, rerun.stderr
    exported = client.get("/v1/incidents", params={"format": "ndjson"}).text.splitlines()
    titles = [orjson.loads(line)["title"] for line in exported]
    assert len(titles) == count
    assert len(set(titles)) == count


def _incidents(client) -> int:
    return sum(1 for _ in client.get("/v1/incidents", params={"format": "ndjson"}).text.splitlines())
