"""``/docs`` and ``/redoc`` render the operations in a real browser, offline: headless
Chromium (Debian's package, which the Makefile installs) against a live server, with every
request the page makes recorded. A request to another host is allowed only as an attempt
that the page's Content-Security-Policy stops in the browser (ReDoc's bundle links its
vendor's logo): nothing is sent off the machine."""

from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveServer, serve, stays_on_the_machine


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(database_url, tmp_path_factory.mktemp("docs") / "server.log") as live:
        yield live


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
def test_docs_render_the_operations_with_no_request_leaving_the_machine(server, browser, page_path):
    spec = httpx.get(f"{server.url}/openapi.json").json()
    summaries = [operation["summary"] for operation in spec["paths"]["/v1/incidents"].values()]
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    failed: dict[str, str | None] = {}
    page.on("requestfailed", lambda request: failed.__setitem__(request.url, request.failure))

    page.goto(f"{server.url}{page_path}", wait_until="networkidle")
    for summary in summaries:
        page.get_by_text(summary, exact=True).filter(visible=True).first.wait_for(state="visible", timeout=15_000)
    page.close()

    assert f"{server.url}/openapi.json" in requested
    elsewhere = {url: failed.get(url) for url in requested if not stays_on_the_machine(url)}
    # The browser refuses them under the page's Content-Security-Policy: they are never sent.
    assert set(elsewhere.values()) <= {"csp"}, f"{page_path} sent requests off the machine: {elsewhere}"
    assert not failed.keys() - elsewhere.keys(), f"{page_path} failed to load {failed}"
