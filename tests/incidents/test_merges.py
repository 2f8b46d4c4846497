"""One event, many reports: incidents merged by hand (POST /v1/incidents/{id}/merge) and by
imports that meet two reports of one event; the merged-away incident keeps answering."""

from typing import Any

from app.ingest import routes, service
from tests.conftest import make, ndjson
from tests.ingest.test_converters import imported
from tests.migrations.test_kept_counts import assert_kept


def incident(client: Any, title: str, **fields: Any) -> dict[str, Any]:
    body = {"kind": "expulsion", "title": title, "occurred_on": "2021-10-06", "initiators": ["nato"]}
    return make(client, "incidents", **body | {"targets": ["russia"]} | fields)


def source(client: Any, n: int) -> dict[str, Any]:
    return make(client, "sources", url=f"https://example.org/report-{n}", title=f"Report {n}")


def merge(client: Any, survivor: str, merged: str, **headers: str) -> Any:
    return client.post(f"/v1/incidents/{survivor}/merge", json={"merged": merged}, headers=headers)


def last_seq(client: Any) -> int:
    seq, after = 0, 0
    while True:
        page = client.get("/v1/changes", params={"after": after, "limit": 500}).json()
        seq = page["data"][-1]["seq"] if page["data"] else seq
        if page["next_cursor"] is None:
            return seq
        after = page["next_cursor"]


def counted(client: Any) -> int:
    return sum(b["count"] for b in client.get("/v1/stats/incidents?group_by=kind").json()["data"])


def listed(client: Any, **params: Any) -> set[str]:
    return {i["id"] for i in client.get("/v1/incidents", params={"limit": 100, **params}).json()["data"]}


def test_a_merge_by_hand_keeps_everything_and_the_merged_id_redirects(app, client, reader, nato_russia):
    s1, s2 = source(client, 1), source(client, 2)
    earlier = incident(client, "Russia expels NATO staff", occurred_on="2021-09-01", initiators=["russia"])
    earlier["targets"] = ["nato"]
    a = incident(client, "NATO expels eight", sources=[s1["id"]], tags=["nato-russia"], external_ref="x:a")
    b = incident(
        client,
        "NATO withdraws accreditations",
        initiators=["nato", "china"],
        sources=[s2["id"], s1["id"]],
        tags=["accreditation", "nato-russia"],
        responds_to=[earlier["id"]],
        summary="A second report.",
        external_ref="x:b",
    )
    answers_b = incident(client, "Russia answers", occurred_on="2021-10-18", responds_to=[b["id"]])
    answers_both = incident(client, "Russia answers both", occurred_on="2021-10-19", responds_to=[a["id"], b["id"]])
    assert counted(client) == 5
    seq = last_seq(client)

    response = merge(client, a["id"], "x:b")  # the other by id or external_ref, as bodies name incidents
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert survivor["version"] == 2 and response.headers["etag"] == '"2"'
    assert (survivor["title"], survivor["summary"], survivor["external_ref"]) == ("NATO expels eight", None, "x:a")
    assert [s["id"] for s in survivor["sources"]] == [s1["id"], s2["id"]]
    assert [x["slug"] for x in survivor["initiators"]] == ["nato", "china"]
    assert [x["slug"] for x in survivor["targets"]] == ["russia"]
    assert [x["id"] for x in survivor["responds_to"]] == [earlier["id"]]
    assert survivor["tags"] == ["nato-russia", "accreditation"]
    # the kept answer (what readers, lists and exports get) is the survivor's exact answer
    assert reader.get(f"/v1/incidents/{a['id']}").json() == survivor
    page = reader.get("/v1/incidents", params={"limit": 100}).json()["data"]
    assert next(i for i in page if i["id"] == a["id"]) == survivor
    # the answers to the merged incident answer the survivor, once
    for answer, version in ((answers_b, 2), (answers_both, 2)):
        now = reader.get(f"/v1/incidents/{answer['id']}").json()
        assert ([r["id"] for r in now["responds_to"]], now["version"]) == ([a["id"]], version)
        assert next(i for i in page if i["id"] == answer["id"]) == now

    # the merged id keeps answering: a redirect to the survivor, for reads of every caller
    for caller in (reader, client):
        moved = caller.get(f"/v1/incidents/{b['id']}", follow_redirects=False)
        assert moved.status_code == 308 and moved.headers["location"] == f"/v1/incidents/{a['id']}"
        assert moved.json()["merged_into"] == a["id"]
    by_ref = reader.get("/v1/incidents/ref:x:b?fields=id,title", follow_redirects=False)
    assert by_ref.status_code == 308 and by_ref.headers["location"] == f"/v1/incidents/{a['id']}?fields=id,title"
    assert reader.get(f"/v1/incidents/{b['id']}").json() == survivor  # followed
    chain = reader.get(f"/v1/incidents/{b['id']}/chain", follow_redirects=False)
    assert chain.status_code == 308 and chain.headers["location"] == f"/v1/incidents/{a['id']}/chain"
    assert {i["id"] for i in reader.get(f"/v1/incidents/{a['id']}/chain").json()["data"]} == {
        earlier["id"],
        a["id"],
        answers_b["id"],
        answers_both["id"],
    }
    assert reader.get(f"/incidents/{b['id']}", follow_redirects=False).headers["location"] == f"/incidents/{a['id']}"

    # writes to the merged id are refused, naming the survivor
    for refused in (
        client.patch(
            f"/v1/incidents/{b['id']}", json={"title": "x"}, headers={"Content-Type": "application/merge-patch+json"}
        ),
        client.delete(f"/v1/incidents/{b['id']}"),
        client.post(f"/v1/incidents/{b['id']}/restore"),
        merge(client, b["id"], answers_b["id"]),
        merge(client, answers_b["id"], b["id"]),
    ):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == "/problems/merged" and refused.json()["merged_into"] == a["id"]
    # a merge done once is not done twice
    again = merge(client, a["id"], b["id"])
    assert again.status_code == 200 and again.json()["version"] == 2

    # lists and counts never show the merged-away incident
    assert b["id"] not in listed(client) | listed(client, status="retracted") | listed(reader)
    assert counted(client) == 4
    assert_kept(app)

    # the feed and both histories record the merge
    feed = client.get("/v1/changes", params={"after": seq}).json()["data"]
    assert sorted((e["id"], e["op"], e["version"]) for e in feed) == sorted(
        [
            (a["id"], "merge", 2),
            (b["id"], "merge", 2),
            (answers_b["id"], "update", 2),
            (answers_both["id"], "update", 2),
        ]
    )
    survivor_history = reader.get(f"/v1/incidents/{a['id']}/history").json()["data"]
    assert survivor_history[-1]["op"] == "merge"
    assert survivor_history[-1]["changes"]["merged"] == [b["id"]]
    assert survivor_history[-1]["changes"]["sources"] == [s1["id"], s2["id"]]
    merged_history = reader.get(f"/v1/incidents/{b['id']}/history").json()["data"]  # its own, not redirected
    assert [v["op"] for v in merged_history] == ["create", "merge"]
    assert merged_history[-1]["changes"] == {"status": "retracted", "merged_into": a["id"]}

    # a body that names the merged id names the survivor
    late = incident(client, "A late answer", occurred_on="2021-10-20", responds_to=["x:b"])
    assert [r["id"] for r in late["responds_to"]] == [a["id"]]


def test_what_the_merged_incident_caused_the_survivor_caused(client, reader, nato_russia):
    a, b = incident(client, "One report"), incident(client, "Another report")
    channel = make(client, "channels", name="NRC", kind="council", parties=["nato", "russia"])
    change = client.post(
        f"/v1/channels/{channel['id']}/status-changes",
        json={"status": "suspended", "effective_on": "2021-10-07", "caused_by": b["id"]},
    )
    assert change.status_code == 201, change.text
    assert merge(client, a["id"], b["id"]).status_code == 200
    after = reader.get(f"/v1/channels/{channel['id']}").json()
    assert after["status_history"][-1]["caused_by"]["id"] == a["id"]
    assert after["version"] == 3  # created, the change recorded, the cause merged


def test_merges_that_make_no_sense_are_refused(client, reader, nato_russia):
    one, two = incident(client, "One"), incident(client, "Two")
    draft = incident(client, "Draft", status="draft")
    gone = incident(client, "Gone")
    assert client.delete(f"/v1/incidents/{gone['id']}").status_code == 204

    itself = merge(client, one["id"], one["id"])
    assert itself.status_code == 422 and itself.json()["errors"][0]["loc"] == ["body", "merged"]
    assert merge(client, one["id"], "no-such-incident").status_code == 422
    assert merge(client, one["id"], gone["id"]).status_code == 422  # retracted: restore it first
    assert merge(client, "no-such-incident", one["id"]).status_code == 404
    assert merge(client, draft["id"], one["id"]).status_code == 409  # readers would lose the published one
    assert merge(client, one["id"], two["id"], **{"If-Match": '"7"'}).status_code == 412
    assert merge(reader, one["id"], two["id"]).status_code == 403
    extra = client.post(f"/v1/incidents/{one['id']}/merge", json={"merged": two["id"], "into": "x"})
    assert extra.status_code == 422
    # a draft may be merged into a published incident: the editor decides the reports are one
    merged = merge(client, one["id"], draft["id"], **{"If-Match": '"1"'})
    assert merged.status_code == 200 and merged.json()["status"] == "published"
    # drafts merged together redirect only keys that may read drafts
    first, second = incident(client, "Draft 1", status="draft"), incident(client, "Draft 2", status="draft")
    assert merge(client, first["id"], second["id"]).status_code == 200
    assert reader.get(f"/v1/incidents/{second['id']}", follow_redirects=False).status_code == 404
    assert client.get(f"/v1/incidents/{second['id']}", follow_redirects=False).status_code == 308


def test_imports_merge_the_reports_of_one_event(app, client, reader):
    gdelt = imported(client, "gdelt", "gdelt.export.CSV")
    assert (gdelt["created"]["incident"], gdelt["merged"]["incident"], gdelt["conversion"]["kept"]) == (3, 1, 4)
    # GDELT's two rows for one BBC story (737221001, 737221002): one incident citing it
    survivor = reader.get("/v1/incidents/ref:gdelt:737221001").json()
    assert [s["url"] for s in survivor["sources"]] == ["https://www.bbc.co.uk/news/world-europe-43401311"]
    moved = reader.get("/v1/incidents/ref:gdelt:737221002", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == f"/v1/incidents/{survivor['id']}"

    icews = imported(client, "icews", "icews.tab")
    assert (icews["created"]["incident"], icews["merged"]["incident"]) == (3, 1)
    # ICEWS: the Czech expulsion from two publishers a day apart, one incident dated as the first report
    czech = reader.get("/v1/incidents/ref:icews:29811001").json()
    assert (czech["occurred_on"], czech["kind"]) == ("2018-03-26", "expulsion")
    later = reader.get("/v1/incidents/ref:icews:29811002", follow_redirects=False)
    assert later.headers["location"] == f"/v1/incidents/{czech['id']}"
    assert counted(client) == 6
    assert_kept(app)
    seq = last_seq(client)

    # importing the same files again changes nothing, merges nothing and loses nothing
    for format_, name, lines in (("gdelt", "gdelt.export.CSV", 4), ("icews", "icews.tab", 4)):
        again = imported(client, format_, name)
        assert again["created"]["incident"] == again["updated"]["incident"] == again["merged"]["incident"] == 0
        assert again["unchanged"]["incident"] == lines
    assert last_seq(client) == seq
    assert reader.get("/v1/incidents/ref:gdelt:737221001").json() == survivor
    assert counted(client) == 6


def test_import_lines_that_share_a_source_and_day_become_one_incident(app, client, reader, nato_russia):
    bbc, other = "https://example.org/bbc-story", "https://example.org/another-story"
    line = {"type": "incident", "kind": "expulsion", "initiators": ["nato"], "targets": ["russia"]}
    lines = [
        {"type": "source", "url": bbc, "title": "BBC"},
        {"type": "source", "url": other, "title": "Another"},
        line | {"title": "First", "occurred_on": "2021-10-06", "sources": [bbc], "external_ref": "n:1"},
        line | {"title": "Second", "occurred_on": "2021-10-06", "sources": [bbc, other], "external_ref": "n:2"},
        # a day later (one source tells of several moves), or sharing no source, or of another kind: other events
        line | {"title": "Third", "occurred_on": "2021-10-07", "sources": [bbc], "external_ref": "n:3"},
        line | {"title": "Fourth", "occurred_on": "2021-10-06", "external_ref": "n:4"},
        line
        | {"title": "Fifth", "occurred_on": "2021-10-06", "kind": "staff_cap", "sources": [bbc]}
        | {"external_ref": "n:5"},
    ]
    headers = {"Content-Type": "application/x-ndjson"}
    answer = client.post("/v1/import", content=ndjson(lines), headers=headers).json()
    assert (answer["created"]["incident"], answer["merged"]["incident"]) == (4, 1)
    first = reader.get("/v1/incidents/ref:n:1").json()
    assert first["title"] == "First" and [s["url"] for s in first["sources"]] == [bbc, other]
    assert reader.get("/v1/incidents/ref:n:2", follow_redirects=False).status_code == 308
    assert counted(client) == 4

    # a later import of one more report of the event merges it into the stored incident
    fifth = line | {"title": "Sixth", "occurred_on": "2021-10-06", "sources": [other], "external_ref": "n:6"}
    later = client.post("/v1/import", content=ndjson([fifth]), headers=headers).json()
    assert (later["created"]["incident"], later["merged"]["incident"]) == (0, 1)
    # and a hand merge of another, then the same lines again: nothing written, nothing lost
    assert merge(client, first["id"], "n:4").status_code == 200
    merged = reader.get("/v1/incidents/ref:n:1").json()
    seq = last_seq(client)
    again = client.post("/v1/import", content=ndjson([*lines, fifth]), headers=headers).json()
    assert again["unchanged"]["incident"] == 6 and again["updated"]["incident"] == 0, again
    assert last_seq(client) == seq
    assert reader.get("/v1/incidents/ref:n:1").json() == merged
    assert_kept(app)

    # a retracted survivor stays retracted when its reports are imported again
    assert client.delete(f"/v1/incidents/{first['id']}").status_code == 204
    again = client.post("/v1/import", content=ndjson(lines[:4]), headers=headers).json()
    assert again["retracted"]["incident"] == 2 and again["updated"]["incident"] == 0, again
    assert reader.get("/v1/incidents/ref:n:1").status_code == 404


def test_an_import_merges_reports_of_earlier_batches_and_its_last_ones(client, reader, nato_russia, monkeypatch):
    """An import merges what it has created every few thousand new incidents, and what is
    left as it ends: a report in a later batch of lines is merged into one of an earlier
    batch, and those of the last lines into one before."""
    monkeypatch.setattr(routes, "BATCH_LINES", 2)
    monkeypatch.setattr(service, "MERGED_TOGETHER", 4)
    bbc = "https://example.org/bbc-story"
    line = {"type": "incident", "kind": "expulsion", "initiators": ["nato"], "targets": ["russia"], "sources": [bbc]}
    days = ["2021-10-06", "2021-10-08", "2021-10-10", "2021-10-06", "2021-10-08", "2021-10-10"]
    lines = [{"type": "source", "url": bbc, "title": "BBC"}] + [
        line | {"title": f"Report {n}", "occurred_on": day, "external_ref": f"b:{n}"} for n, day in enumerate(days)
    ]
    headers = {"Content-Type": "application/x-ndjson"}
    answer = client.post("/v1/import", content=ndjson(lines), headers=headers).json()
    # merged after the third batch of lines (five new: two merged), and as the import ends (the last)
    assert (answer["created"]["incident"], answer["merged"]["incident"]) == (3, 3)
    for n in range(3):
        survivor = reader.get(f"/v1/incidents/ref:b:{n}").json()
        moved = reader.get(f"/v1/incidents/ref:b:{n + 3}", follow_redirects=False)
        assert moved.status_code == 308 and moved.headers["location"] == f"/v1/incidents/{survivor['id']}"
    assert counted(client) == 3


def test_a_date_of_a_month_is_the_same_event_as_a_day_in_it(client, reader, nato_russia):
    url = "https://example.org/monthly-review"
    line = {"type": "incident", "kind": "expulsion", "initiators": ["nato"], "sources": [url]}
    lines = [
        {"type": "source", "url": url, "title": "Monthly review"},
        line | {"title": "In October", "occurred_on": "2021-10-01", "date_precision": "month", "targets": ["russia"]},
        line | {"title": "On the 18th", "occurred_on": "2021-10-18", "targets": ["russia"], "external_ref": "m:2"},
        line | {"title": "Other sides", "occurred_on": "2021-10-18", "targets": ["china"], "external_ref": "m:3"},
        line | {"title": "November", "occurred_on": "2021-11-02", "targets": ["russia"], "external_ref": "m:4"},
    ]
    answer = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert (answer.json()["created"]["incident"], answer.json()["merged"]["incident"]) == (3, 1)
    moved = reader.get("/v1/incidents/ref:m:2", follow_redirects=False)
    assert moved.status_code == 308
    assert reader.get(moved.headers["location"]).json()["title"] == "In October"


def test_reports_scattered_over_years_are_matched_each_near_its_own_date(client, reader, nato_russia, monkeypatch):
    """One batch of reports from 2000 to 2024 looks for its matches near each report, not
    over the 25 years between its first and its last (a million stored incidents, in a
    service of some age); reports with no source and no report data set look for none."""
    from app.incidents import merges

    headers = {"Content-Type": "application/x-ndjson"}
    line = {"type": "incident", "kind": "expulsion", "initiators": ["nato"], "targets": ["russia"]}
    # stored: a year of expulsions between the same sides, a report dated by its year only, and one by its day
    background = [
        line | {"title": f"Day {n}", "occurred_on": f"2010-{1 + n // 28:02d}-{1 + n % 28:02d}"} for n in range(300)
    ]
    url = "https://example.org/wire"
    stored = [
        {"type": "source", "url": url, "title": "Wire"},
        line | {"title": "Some day in 2003", "occurred_on": "2003-01-01", "date_precision": "year", "tags": ["gdelt"]},
        line | {"title": "On the 5th", "occurred_on": "2024-03-05", "sources": [url], "external_ref": "w:1"},
    ]
    assert client.post("/v1/import", content=ndjson([*background, *stored]), headers=headers).status_code == 200
    read: list[str] = []  # the titles of the stored incidents read as possible matches
    read_new: list[str] = []  # and of the new ones read as reports
    reports_of = merges._reports

    def spied(session: Any, stmt: Any, order: dict[str, int], **options: Any) -> dict[str, Any]:
        found = reports_of(session, stmt, order, **options)
        (read_new if order else read).extend(session.get(merges.Incident, i).title for i in found)
        return found

    monkeypatch.setattr(merges, "_reports", spied)

    plain = [line | {"title": f"Plain {n}", "occurred_on": f"{2000 + n}-06-01"} for n in range(25)]
    answer = client.post("/v1/import", content=ndjson(plain), headers=headers).json()
    assert answer["created"]["incident"] == 25 and answer["merged"]["incident"] == 0
    assert read == [], "reports that can match nothing look for no stored incident"
    assert read_new == [], "and are not read back"

    reports = [
        line | {"title": "Early", "occurred_on": "2000-02-01", "sources": [url], "external_ref": "w:2"},
        line | {"title": "In November 2003", "occurred_on": "2003-11-20", "tags": ["gdelt"], "external_ref": "w:3"},
        line | {"title": "Also on the 5th", "occurred_on": "2024-03-05", "sources": [url], "external_ref": "w:4"},
    ]
    answer = client.post("/v1/import", content=ndjson(reports), headers=headers).json()
    assert (answer["created"]["incident"], answer["merged"]["incident"]) == (1, 2)
    assert reader.get("/v1/incidents/ref:w:3", follow_redirects=False).status_code == 308
    moved = reader.get("/v1/incidents/ref:w:4", follow_redirects=False)
    assert moved.headers["location"] == f"/v1/incidents/{reader.get('/v1/incidents/ref:w:1').json()['id']}"
    assert reader.get("/v1/incidents/ref:w:2").json()["title"] == "Early"
    # near each: the report dated by its year and the one of the same day, not 2010's, and
    # not the new ones again, read already as reports
    assert sorted(read) == ["On the 5th", "Some day in 2003"]
    assert sorted(read_new) == sorted(r["title"] for r in reports)


def test_reports_at_the_start_of_the_calendar_are_imported(client, reader, nato_russia):
    """The looks a year either side of a report stop at the calendar's start (year 1; the
    future is closed past a year ahead)."""
    url = "https://example.org/chronicle"
    line = {"type": "incident", "initiators": ["nato"], "targets": ["russia"], "sources": [url], "tags": ["gdelt"]}
    lines = [
        {"type": "source", "url": url, "title": "Chronicle"},
        line | {"kind": "expulsion", "title": "First", "occurred_on": "0001-01-01", "external_ref": "start:1"},
        line | {"kind": "expulsion", "title": "First again", "occurred_on": "0001-01-01", "external_ref": "start:2"},
        line | {"kind": "expulsion", "title": "A year on", "occurred_on": "0002-01-01", "date_precision": "year"},
    ]
    answer = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["created"]["incident"], answer.json()["merged"]["incident"]) == (2, 1)
    assert reader.get("/v1/incidents/ref:start:1").json()["occurred_on"] == "0001-01-01"
    assert reader.get("/v1/incidents/ref:start:2", follow_redirects=False).status_code == 308
