"""The committed spec is usable by partners: a client generated from openapi/openapi.json by
openapi-python-client lists incidents from a live server and reads one."""

import datetime
import importlib
import subprocess
import sys
from pathlib import Path

from app.access.models import KeyScope
from tests import ROOT
from tests.conftest import make, new_key
from tests.live import serve

SPEC = ROOT / "openapi" / "openapi.json"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "demarche_generated"
"""Not ``demarche_client``, the name of the client in clients/python."""
# The generator has no support for NDJSON, TSV, CSV or zip bodies; POST /v1/import keeps its
# JSON form, and a converted file (`from`) its application/octet-stream form.
KNOWN_GAPS = tuple(
    f"Unsupported content type {kind}"
    for kind in ("application/x-ndjson", "text/tab-separated-values", "text/csv", "application/zip")
)


def generate(folder: Path) -> str:
    """Generate the client package into ``folder``; answer the generator's output."""
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(SPEC), "--meta", "none", "--output-path", str(folder / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def test_a_generated_client_lists_incidents_and_reads_one(app, client, nato_russia, database_url, tmp_path):
    output = generate(tmp_path)
    warnings = output.split("WARNING parsing ")[1:]
    assert all(any(gap in warning for gap in KNOWN_GAPS) for warning in warnings), output
    incident = make(
        client,
        "incidents",
        kind="accreditation_withdrawal",
        title="NATO withdraws the accreditation of eight members of Russia's mission",
        occurred_on="2021-10-06",
        initiators=["nato"],
        targets=["russia"],
        persons_affected=8,
    )
    make(
        client,
        "incidents",
        kind="expulsion",
        title="Elsewhere",
        occurred_on="2021-10-07",
        initiators=["china"],
        targets=["nato"],
    )

    sys.path.insert(0, str(tmp_path))
    try:
        generated = importlib.import_module(PACKAGE)
        incidents_list = importlib.import_module(f"{PACKAGE}.api.incidents.incidents_list")
        incidents_read = importlib.import_module(f"{PACKAGE}.api.incidents.incidents_read")
        models = importlib.import_module(f"{PACKAGE}.models")
        with serve(database_url, tmp_path / "server.log") as server:
            partner = generated.AuthenticatedClient(base_url=server.url, token=new_key(app, KeyScope.read))
            with partner:
                page = incidents_list.sync(client=partner, target=["russia"], limit=10)
                read = incidents_read.sync(client=partner, incident=incident["id"])
                missing = incidents_read.sync(client=partner, incident="no-such-incident")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]

    assert isinstance(page, models.PageIncidentPublic)
    assert [item.id for item in page.data] == [incident["id"]]
    assert isinstance(read, models.IncidentPublic)
    assert read.title == incident["title"] and read.occurred_on == datetime.date(2021, 10, 6)
    assert [actor.slug for actor in read.initiators] == ["nato"] and read.persons_affected == 8
    assert isinstance(missing, models.ProblemDetail) and missing.status == 404
