"""Sources in an import are created together (one insert for a run of new ones), and a line
naming a stored source by its url or its external_ref still writes over it."""

from tests.conftest import make, ndjson
from tests.ingest.test_routes import NDJSON, counts
from tests.test_statement_budgets import statements


def source(n: int, **fields):
    return {"type": "source", "url": f"https://example.org/{n}", "title": f"Story {n}", **fields}


def test_new_sources_are_created_together_and_stored_ones_written_over(app, client):
    by_url = make(client, "sources", url="https://example.org/1", title="Old title")
    by_ref = make(client, "sources", url="https://example.org/old", title="Moved", external_ref="src:moved")
    lines = [source(n) for n in range(1, 41)]
    lines.append(source(99, external_ref="src:moved"))  # the stored source of that ref, at a new url
    with statements(app.state.engine) as seen:
        answer = client.post("/v1/import", content=ndjson(lines), headers=NDJSON)
    assert answer.status_code == 200, answer.text
    assert counts(answer.json(), "created") == {"source": 39}
    assert counts(answer.json(), "updated") == {"source": 2}
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT INTO SOURCES")]
    assert len(inserts) <= 3, inserts  # the new ones together, not one insert each
    assert client.get(f"/v1/sources/{by_url['id']}").json()["title"] == "Story 1"
    moved = client.get(f"/v1/sources/{by_ref['id']}").json()
    assert (moved["url"], moved["version"]) == ("https://example.org/99", 2)
    feed = client.get("/v1/changes", params={"after": 0, "limit": 500}).json()["data"]
    assert sum(1 for c in feed if c["resource"] == "source" and c["op"] == "create") == 2 + 39
    found = client.get("/v1/sources", params={"q": "Story 17"}).json()["data"]
    assert [s["url"] for s in found] == ["https://example.org/17"]  # searchable as one created alone


def test_a_line_naming_a_retracted_sources_url_leaves_it_retracted(client):
    gone = make(client, "sources", url="https://example.org/gone", title="Gone")
    assert client.delete(f"/v1/sources/{gone['id']}").status_code == 204
    answer = client.post("/v1/import", content=ndjson([source(1), source(2, url="https://example.org/gone")]),
                         headers=NDJSON)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert counts(answer.json(), "created") == {"source": 1} and counts(answer.json(), "retracted") == {"source": 1}
