"""The HTML pages in a real browser on the demo data: headless Chromium (Debian's package)
against a live server, with every request and console message recorded. Each page loads
with no console error and no request leaving the machine, its marks say what the API
says, it can be walked with the keyboard, and the key kept for the pages opens no API
route."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from app.access import service as access
from app.access.models import ApiKeyCreate, KeyScope
from app.db import make_engine
from tests.conftest import demo_database
from tests.live import LiveServer, serve, stays_on_the_machine
from tests.screenshots import WIDTHS, demo_pages

RUSSIAS_ANSWERS = {
    "Russia suspends the work of its permanent mission to NATO",
    "Russia suspends the NATO military liaison mission in Moscow",
    "Russia terminates the work of the NATO information office in Moscow",
}


@pytest.fixture(scope="module")
def demo(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("pages")
    with demo_database(base_url, tmp, "demarche_pages") as (url, _, _):
        yield url, tmp


@pytest.fixture(scope="module")
def server(demo) -> Iterator[LiveServer]:
    url, tmp = demo
    with serve(url, tmp / "server.log") as live:
        yield live


class Recorded:
    """What a page asked for and complained of."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.failed: dict[str, str | None] = {}
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", lambda request: self.failed.__setitem__(request.url, request.failure))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check(self, name: str) -> None:
        assert not self.errors, f"{name}: console errors {self.errors}"
        assert not self.failed, f"{name}: failed requests {self.failed}"
        elsewhere = [url for url in self.requests if not stays_on_the_machine(url)]
        assert not elsewhere, f"{name} asked for {elsewhere}"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_each_page_loads_offline_without_errors(server, browser, width):
    for name, path in demo_pages(server).items():
        w, h = WIDTHS[width]
        page = browser.new_page(viewport={"width": w, "height": h})
        recorded = Recorded(page)
        response = page.goto(server.url + path, wait_until="networkidle")
        assert response.status == 200, name
        assert page.locator("h1").first.is_visible()
        # nothing wider than the window but what scrolls inside its own box
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} is {overflow}px wider than the window"
        page.close()
        recorded.check(f"{name} at {width}")


def test_the_marks_say_what_the_api_says(server, browser):
    pages = demo_pages(server)
    page = browser.new_page()
    for day, open_channels in (("2021-10-20", 4), ("2021-11-15", 1)):
        api = httpx.get(f"{server.url}/v1/dyads/nato/russia", params={"as_of": day}).json()
        assert sum(c["status"] in ("active", "restricted") for c in api["channels"]) == open_channels
        page.goto(f"{server.url}/dyads/nato/russia?as_of={day}")
        assert page.locator("[data-open-channels]").get_attribute("data-open-channels") == str(open_channels)
        drawn = page.locator("g.band").evaluate_all("bands => bands.map(b => b.dataset.status)")
        assert sum(status in ("active", "restricted") for status in drawn) == open_channels
        assert page.locator("text.as-of-label").text_content() == day

    page.goto(server.url + pages["incident"])
    layer = page.locator('svg.chain a.node[data-depth="1"] title').all_text_contents()
    assert {title.split(" (")[0] for title in layer} == RUSSIAS_ANSWERS
    assert page.locator("svg.chain a.node.current").count() == 1

    page.goto(server.url + pages["stats"])
    api = httpx.get(f"{server.url}/v1/stats/incidents?group_by=kind,month&from=2021-01-01&to=2021-12-31").json()
    counts = page.locator("svg.chart rect[data-count]").evaluate_all("rs => rs.map(r => +r.dataset.count)")
    assert sum(counts) == sum(row["count"] for row in api["data"])

    page.goto(server.url + pages["exercises"])
    located = [e for e in httpx.get(f"{server.url}/v1/exercises").json()["data"] if e["latitude"] is not None]
    assert page.locator("svg.map a.mark").evaluate_all("ms => ms.map(m => m.dataset.id)") == [e["id"] for e in located]
    page.close()


def test_the_chain_and_the_date_control_work_from_the_keyboard(server, browser):
    pages = demo_pages(server)
    page = browser.new_page()
    page.goto(server.url + pages["incident"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.closest('svg') ? 'chain' : ''"))
    assert "chain" in reached, "the chain's incidents cannot be reached by Tab"

    page.goto(server.url + pages["dyad"])
    page.locator("#as-of").fill("2021-11-15")
    page.locator("#as-of").press("Enter")
    page.wait_for_url("**as_of=2021-11-15**")
    assert page.locator("[data-open-channels]").get_attribute("data-open-channels") == "1"
    page.close()


def test_the_pages_key_is_asked_once_and_opens_no_api_route(demo, browser):
    url, tmp = demo
    engine = make_engine(url)
    with Session(engine) as session:
        _, secret = access.create(session, ApiKeyCreate(name="browser", scope=KeyScope.read))
        session.commit()
    engine.dispose()
    private = {"DEMARCHE_PUBLIC_READ": "false", "DEMARCHE_CURSOR_SECRET": "test-cursor-secret"}
    with serve(url, tmp / "private.log", env=private) as server:
        context = browser.new_context()
        page = context.new_page()
        recorded = Recorded(page)
        asked = page.goto(f"{server.url}/dyads/nato/russia?as_of=2021-10-20")
        assert asked.status == 401
        page.locator("#key").fill(secret)
        page.locator("#key").press("Enter")
        page.wait_for_url("**/dyads/nato/russia?as_of=2021-10-20")
        assert page.locator("[data-open-channels]").get_attribute("data-open-channels") == "4"
        assert page.goto(f"{server.url}/stats").status == 200  # kept: not asked again
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        for path in ("/v1/incidents", "/v1/dyads/nato/russia", "/v1/timeline"):
            assert context.request.get(server.url + path).status == 401, path
        assert page.evaluate("document.cookie") == ""  # out of the reach of scripts
        recorded.errors = [e for e in recorded.errors if "401" not in e]  # the key form's own answer
        recorded.check("the key form")
        context.close()
