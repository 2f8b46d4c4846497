"""``make screenshots``: every HTML page on the demo data, at a desktop and a phone width,
as PNGs in ``tests/screenshots/`` (the home and dyad pages at the desktop width are
committed, for the README; the others are not).

The pages and their demo paths are declared here once, for the browser test too."""

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests import ROOT
from tests.conftest import demo_database
from tests.live import LiveServer, chromium, serve

OUTPUT = ROOT / "tests" / "screenshots"
WIDTHS = {"wide": (1400, 900), "phone": (390, 844)}
WITHDRAWAL = "eln:2021-10:nato-accreditation-withdrawal"
"""NATO's withdrawal of the eight accreditations, which Russia answered three times."""


def demo_pages(server: LiveServer) -> dict[str, str]:
    """Each page's name and its path on the demo data."""
    incidents = httpx.get(f"{server.url}/v1/incidents", params={"limit": 500}).json()["data"]
    withdrawal = next(i for i in incidents if i["external_ref"] == WITHDRAWAL)
    return {
        "home": "/",
        "incidents": "/incidents",
        "incident": f"/incidents/{withdrawal['id']}",
        "dyad": "/dyads/nato/russia?as_of=2021-10-20",
        "actor": "/actors/russia",
        "stats": "/stats?from=2021-01-01&to=2021-12-31",
        "exercises": "/exercises",
    }


@contextmanager
def demo_server(base_url: str, tmp: Path, **env: str) -> Iterator[LiveServer]:
    """A live server over a new database holding the demo data."""
    with demo_database(base_url, tmp, "demarche_pages") as (url, _, _), serve(url, tmp / "server.log", env=env) as live:
        yield live


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, demo_server("sqlite://", Path(tmp)) as server, chromium() as browser:
        for name, path in demo_pages(server).items():
            for width_name, (width, height) in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(server.url + path, wait_until="networkidle")
                target = OUTPUT / f"{name}-{width_name}.png"
                page.screenshot(path=str(target), full_page=True)
                page.close()
                print(target.relative_to(ROOT), file=sys.stderr)


if __name__ == "__main__":
    main()
