"""Kept answers (``app/kit/kept.py``): the answers of views, lists of incidents, actors and
the HTML pages, kept while no write commits, are the answers their routes give, and a write, by any path, is
seen at once."""

import asyncio
from datetime import date
from importlib.resources import files
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.access.models import KeyScope
from app.incidents.models import Incident
from app.kit.kept import Kept, KeptAnswers
from tests.conftest import make, new_key
from tests.kit.test_lean import answer

URLS = [
    "/v1/dyads/nato/russia?as_of=2021-10-20",
    "/v1/dyads/nato/russia",
    "/v1/dyads/nato/russia?as_of=2021-10-20&format=csv",
    "/v1/timeline?actor=russia",
    "/v1/timeline?actor=russia&limit=2",
    "/v1/timeline",
    "/v1/stats/incidents?group_by=kind,month",
    "/v1/stats/incidents?group_by=initiator&format=csv",
    "/v1/stats/incidents?group_by=nothing",
    "/v1/incidents?q=mission",
    "/v1/incidents?actor=russia&limit=3",
    "/v1/incidents?format=csv",
    "/v1/dyads/nato/nobody",
    "/v1/actors/russia",
    "/v1/actors/iso3:RUS",
    "/v1/actors/russia?fields=name",
    "/v1/actors/nobody",
    # the pages
    "/",
    "/incidents?kind=expulsion",
    "/incidents/ref:eln:2021-10:nato-accreditation-withdrawal",
    "/dyads/nato/russia?as_of=2021-10-20",
    "/actors/russia",
    "/stats",
    "/stats?group_by=nothing",
    "/exercises",
]


@pytest.fixture
def apps(app_with, client) -> dict[str, Any]:
    """The demo data; an app that keeps answers, one that does not, and a key of each scope."""
    assert client.post(
        "/v1/import",
        content=files("app.seed").joinpath("demo.ndjson").read_bytes(),
        headers={"Content-Type": "application/x-ndjson"},
    ).is_success
    kept, routed = app_with(), app_with(kept_answers_mb=0)
    return {"kept": kept, "routed": routed} | {scope: new_key(kept, scope) for scope in KeyScope}


def clients(apps: dict[str, Any], scope: KeyScope | None) -> tuple[TestClient, TestClient]:
    headers = {"Authorization": f"Bearer {apps[scope]}"} if scope else {}
    return TestClient(apps["kept"], headers=headers), TestClient(apps["routed"], headers=headers)


@pytest.mark.parametrize("scope", [None, KeyScope.read, KeyScope.write])
def test_kept_answers_are_the_answers_of_their_routes(apps, scope):
    kept, routed = clients(apps, scope)
    for url in URLS:
        expected = answer(routed, url)
        assert answer(kept, url) == expected, url
        assert answer(kept, url) == expected, f"{url}, asked again"
        if expected[0] == 200 and "link" in expected[1]:
            following = expected[1]["link"].split(">")[0].removeprefix("<http://testserver")
            assert answer(kept, following) == answer(routed, following), following


def test_a_write_is_seen_by_the_next_read(apps, client):
    """Through this process's API, another process's (another app on the database), or past
    the API altogether: every commit changes the data's version."""
    kept, routed = clients(apps, None)
    other = TestClient(apps["routed"], headers=client.headers)
    url = "/v1/stats/incidents?group_by=kind,month"

    def counts() -> dict[tuple[str, str], int]:
        got = kept.get(url).json()
        assert got == routed.get(url).json()
        return {(row["kind"], row["month"]): row["count"] for row in got["data"]}

    before = counts()
    base = {"kind": "expulsion", "initiators": ["nato"], "targets": ["russia"]}
    made = make(client, "incidents", **base, title="Written here", occurred_on="1999-01-05")
    assert counts()[("expulsion", "1999-01")] == 1
    make(other, "incidents", **base, title="Written there", occurred_on="1999-01-06")
    assert counts()[("expulsion", "1999-01")] == 2
    with apps["kept"].state.engine.begin() as conn:
        conn.execute(update(Incident).where(Incident.id == made["id"]).values(occurred_on=date(1998, 2, 2)))
    after = counts()
    assert after[("expulsion", "1999-01")] == 1 and after[("expulsion", "1998-02")] == 1
    assert sum(after.values()) == sum(before.values()) + 2


def test_each_caller_is_answered_for_what_it_may_read(apps, client):
    make(
        client,
        "incidents",
        kind="expulsion",
        initiators=["nato"],
        targets=["russia"],
        title="EMBARGOED draft",
        occurred_on="2021-10-21",
        status="draft",
    )
    reader, _ = clients(apps, KeyScope.read)
    editor, _ = clients(apps, KeyScope.write)
    url = "/v1/timeline?actor=russia"
    for _ in range(2):
        assert "EMBARGOED" not in reader.get(url).text
        assert "EMBARGOED" in editor.get(url).text


def test_an_answer_names_the_host_it_was_asked_of(apps):
    kept, routed = clients(apps, None)
    url = "/v1/timeline?actor=russia&limit=1"
    for host in ("localhost", "127.0.0.1", "localhost"):
        got = answer(kept, url, Host=host)
        assert got == answer(routed, url, Host=host)
        assert got[1]["link"].startswith(f"<http://{host}/v1/timeline?")


def test_a_kept_page_names_the_key_it_is_read_with(apps, client):
    """A page shows the key it is read with: kept for each key, never another's. A browser's
    key, kept in the pages' cookie, is read by the page's route: its page is its own."""
    draft = {"title": "EMBARGOED draft", "occurred_on": "2026-01-01", "status": "draft"}
    make(client, "incidents", kind="expulsion", initiators=["nato"], targets=["russia"], **draft)
    one, _ = clients(apps, KeyScope.read)
    other = TestClient(apps["kept"], headers={"Authorization": f"Bearer {new_key(apps['kept'], KeyScope.read)}"})
    anyone, _ = clients(apps, None)
    for _ in range(2):
        for caller, secret in ((one, apps[KeyScope.read]), (other, other.headers["Authorization"][7:])):
            page = caller.get("/")
            assert f"key {secret.split('_')[1]} (read)" in page.text and "EMBARGOED" not in page.text
        assert "Forget key" not in anyone.get("/").text
        browser = TestClient(apps["kept"], cookies={"demarche_page_key": apps[KeyScope.write]})
        page = browser.get("/")
        assert f"key {apps[KeyScope.write].split('_')[1]} (write)" in page.text and "EMBARGOED" in page.text


def test_kept_answers_stay_within_their_memory():
    kept = KeptAnswers(max_bytes=800)
    for n in range(8):
        kept.put((f"/{n}", False, date(2021, 10, 6), None), Kept(1, [], b"x" * 100))
    assert kept.get(("/0", False, date(2021, 10, 6), None), 1) is not None  # now the most recently used
    kept.put(("/8", False, date(2021, 10, 6), None), Kept(1, [], b"x" * 100))
    assert kept.size == 800
    assert kept.get(("/1", False, date(2021, 10, 6), None), 1) is None, "the least recently used went"
    assert kept.get(("/0", False, date(2021, 10, 6), None), 1) is not None
    assert kept.get(("/0", False, date(2021, 10, 6), None), 2) is None, "another version is not this one"


@pytest.mark.parametrize(
    ("status", "chunks", "kept"),
    [(200, [b"x" * 50, b"y" * 50], b"x" * 50 + b"y" * 50), (200, [b"x" * 60, b"y" * 41], None), (404, [b"x"], None)],
)
def test_an_answer_is_kept_when_whole_small_and_a_200(status, chunks, kept):
    store = KeptAnswers(max_bytes=800)  # none larger than 100 bytes
    key = ("/k", False, date(2021, 10, 6), None)
    sent: list[dict[str, Any]] = []

    async def respond() -> None:
        keeping = store.keeping(key, 1, sent_on)
        await keeping({"type": "http.response.start", "status": status, "headers": [(b"a", b"b")]})
        for n, chunk in enumerate(chunks):
            await keeping({"type": "http.response.body", "body": chunk, "more_body": n < len(chunks) - 1})

    async def sent_on(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(respond())
    assert [m.get("body") for m in sent] == [None, *chunks], "every message is sent on"
    found = store.get(key, 1)
    assert (found and found.body) == kept
