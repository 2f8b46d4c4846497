"""The HTML pages in a real browser on a data set from ``bench/generate.py`` (its own
command, into a new database on the engine under test): machine-made names, a busy dyad
with many channels, years of incidents, long retaliation chains. Each page loads with no
console error, no request leaving the machine and nothing wider than the window, and its
marks say what the API says."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.live import LiveServer, serve
from tests.pages.test_routes_browser import Recorded
from tests.screenshots import WIDTHS

INCIDENTS = 3_000
BUSIEST = ("state-000", "organization-000")
"""The generator's busiest pair, the one its benchmark's dyad case reads."""
AS_OF = "2021-10-20"
OVERLAPPING = """selector => {
    const boxes = [...document.querySelectorAll(selector)].map(e => [e.textContent, e.getBoundingClientRect()]);
    return boxes.flatMap(([t, a], i) => boxes.slice(i + 1)
        .filter(([, b]) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
        .map(([u]) => [t, u]));
}"""
"""The pairs of texts matching a selector that are drawn over each other."""


@pytest.fixture(scope="module")
def generated(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("generated")
    url = fresh_database(base_url, tmp, "demarche_generated")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--url",
                url,
                "--incidents",
                str(INCIDENTS),
                "--exercises",
                "2000",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout.splitlines()[-1])
        assert summary["counts"]["incidents"] == INCIDENTS
        yield url, tmp
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def server(generated) -> Iterator[LiveServer]:
    url, tmp = generated
    with serve(url, tmp / "server.log") as live:
        yield live


@pytest.fixture(scope="module")
def chain(server: LiveServer) -> list[dict]:
    """The longest retaliation chain among the first answers in the list."""
    answers, cursor = [], None
    while len(answers) < 20:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        listed = httpx.get(f"{server.url}/v1/incidents", params=params).json()
        answers += [i for i in listed["data"] if i["responds_to"]]
        cursor = listed["next_cursor"]
        if not cursor:
            break
    chains = [httpx.get(f"{server.url}/v1/incidents/{i['id']}/chain").json()["data"] for i in answers[:20]]
    return max(chains, key=len)


def generated_pages(chain: list[dict]) -> dict[str, str]:
    a, b = BUSIEST
    answer = next(i for i in chain if i["depth"] > 0)
    return {
        "home": "/",
        "incidents": "/incidents",
        "incidents by actor": f"/incidents?actor={a}",
        "incident": f"/incidents/{answer['id']}",
        "dyad": f"/dyads/{a}/{b}?as_of={AS_OF}",
        "actor": f"/actors/{a}",
        "stats": "/stats",
        "stats by initiator and year": f"/stats?group_by=initiator,year&actor={a}",
        "exercises": "/exercises",
    }


@pytest.mark.parametrize("width", list(WIDTHS))
def test_each_page_loads_offline_without_errors(server, browser, chain, width):
    for name, path in generated_pages(chain).items():
        w, h = WIDTHS[width]
        page = browser.new_page(viewport={"width": w, "height": h})
        recorded = Recorded(page)
        response = page.goto(server.url + path, wait_until="networkidle")
        assert response.status == 200, name
        assert page.locator("h1").first.is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} is {overflow}px wider than the window"
        assert page.evaluate(OVERLAPPING, "svg text.value") == [], f"{name} at {width}: totals drawn over each other"
        page.close()
        recorded.check(f"{name} at {width}")


def test_the_marks_say_what_the_api_says(server, browser, chain):
    page = browser.new_page()
    a, b = BUSIEST
    api = httpx.get(f"{server.url}/v1/dyads/{a}/{b}", params={"as_of": AS_OF}).json()
    open_channels = sum(c["status"] in ("active", "restricted") for c in api["channels"])
    assert len(api["channels"]) > 1 and open_channels, "the busiest pair has channels open"
    page.goto(f"{server.url}/dyads/{a}/{b}?as_of={AS_OF}")
    assert page.locator("[data-open-channels]").get_attribute("data-open-channels") == str(open_channels)
    drawn = page.locator("g.band").evaluate_all("bands => bands.map(b => b.dataset.status)")
    assert sorted(drawn) == sorted(c["status"] for c in api["channels"])
    assert page.locator("text.as-of-label").text_content() == AS_OF

    assert len(chain) > 1
    answer = next(i for i in chain if i["depth"] > 0)
    page.goto(f"{server.url}/incidents/{answer['id']}")
    nodes = page.locator("svg.chain a.node").evaluate_all("ns => ns.map(n => [n.dataset.id, +n.dataset.depth])")
    assert sorted(nodes) == sorted([i["id"], i["depth"]] for i in chain)
    assert page.locator("svg.chain a.node.current").get_attribute("data-id") == answer["id"]

    page.goto(f"{server.url}/stats")
    stats = httpx.get(f"{server.url}/v1/stats/incidents", params={"group_by": "kind,month"}).json()
    counts = page.locator("svg.chart rect[data-count]").evaluate_all("rs => rs.map(r => +r.dataset.count)")
    assert sum(counts) == sum(row["count"] for row in stats["data"]) > INCIDENTS / 2
    page.goto(server.url)
    assert page.locator('[data-collection="incidents"]').text_content() == str(sum(counts))

    a_year = {"group_by": "initiator,year", "actor": a}
    page.goto(f"{server.url}/stats?group_by={a_year['group_by']}&actor={a}")
    stats = httpx.get(f"{server.url}/v1/stats/incidents", params=a_year).json()
    bars = page.locator("svg.chart g.bar").evaluate_all("bs => bs.map(b => [b.dataset.label, +b.dataset.total])")
    years = {}
    for row in stats["data"]:
        years[str(row["year"])] = years.get(str(row["year"]), 0) + row["count"]
    in_order = [list(year) for year in sorted(years.items())]
    assert bars == in_order, "the years are drawn in their order, each with the API's count"

    page.goto(f"{server.url}/exercises")
    listed = httpx.get(f"{server.url}/v1/exercises").json()["data"]
    located = [e["id"] for e in listed if e["latitude"] is not None]
    assert located, "the first page of exercises has some on the map"
    assert page.locator("svg.map a.mark").evaluate_all("ms => ms.map(m => m.dataset.id)") == located
    page.close()
