"""Every path that takes a record's id takes its natural key too: `ref:{external_ref}`, a
source's `url:{url}` (percent-encoded), an actor's slug (bare or `slug:{slug}`)."""

from urllib.parse import quote

from tests.conftest import make

REF = "acled:RUS/2021-10?x=1#a b%"
"""An external_ref holding every character that a path would otherwise split or cut."""
URL = "https://example.org/news/2021/10/18/expulsion?lang=en#top"


def ref(key: str) -> str:
    return "ref:" + quote(key, safe="")


def test_an_incident_is_read_chained_patched_and_retracted_by_its_external_ref(client, reader, nato_russia):
    first = make(
        client,
        "incidents",
        kind="expulsion",
        title="First",
        occurred_on="2021-10-06",
        initiators=["nato"],
        targets=["russia"],
        external_ref=REF,
    )
    answer = make(
        client,
        "incidents",
        kind="mission_closure",
        title="Answer",
        occurred_on="2021-10-18",
        initiators=["russia"],
        targets=["nato"],
        responds_to=[first["id"]],
        external_ref="plain:answer",
    )
    read = client.get(f"/v1/incidents/{ref(REF)}")
    assert read.status_code == 200, read.text
    assert read.json()["id"] == first["id"]
    # a key without reserved characters may be sent as it is
    assert client.get("/v1/incidents/ref:plain:answer").json()["id"] == answer["id"]
    chain = client.get(f"/v1/incidents/{ref(REF)}/chain")
    assert chain.status_code == 200, chain.text
    assert [i["id"] for i in chain.json()["data"]] == [first["id"], answer["id"]]
    history = client.get(f"/v1/incidents/{ref(REF)}/history")
    assert history.status_code == 200, history.text
    assert [v["version"] for v in history.json()["data"]] == [1]
    patched = client.patch(
        f"/v1/incidents/{ref(REF)}",
        json={"title": "First, renamed"},
        headers={"Content-Type": "application/merge-patch+json", "If-Match": read.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    assert client.delete(f"/v1/incidents/{ref(REF)}").status_code == 204
    assert reader.get(f"/v1/incidents/{first['id']}").status_code == 404
    assert reader.get(f"/v1/incidents/{ref(REF)}").status_code == 404
    assert client.get(f"/v1/incidents/{ref(REF)}").json()["status"] == "retracted"  # as a write key reads it
    assert client.post(f"/v1/incidents/{ref(REF)}/restore").status_code == 200
    assert reader.get(f"/v1/incidents/{ref(REF)}").status_code == 200


def test_an_unknown_or_misplaced_natural_key_is_404(client, nato_russia):
    make(client, "sources", url=URL, title="A source", external_ref="src:1")
    for path in (
        "/v1/incidents/ref:nothing",
        "/v1/incidents/ref:nothing/chain",
        f"/v1/incidents/url:{quote(URL, safe='')}",  # incidents have no URL
        "/v1/sources/url:https%3A%2F%2Fexample.org%2Felsewhere",
        "/v1/actors/ref:nothing",
        "/v1/actors/slug:nobody",
        "/v1/exercises/ref:nothing",
        "/v1/channels/ref:nothing",
        "/v1/sources/ref:nothing/history",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    for path in ("/v1/incidents/ref:nothing", "/v1/sources/url:nothing"):
        assert client.delete(path).status_code == 404
        patch = client.patch(path, json={"title": "x"}, headers={"Content-Type": "application/merge-patch+json"})
        assert patch.status_code == 404


def test_a_source_by_its_url_an_actor_by_slug_or_ref(client, nato_russia):
    source = make(client, "sources", url=URL, title="A source")
    path = "/v1/sources/url:" + quote(URL, safe="")
    read = client.get(path)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == source["id"]
    patched = client.patch(
        path, json={"publisher": "Example"}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["publisher"] == "Example"
    assert client.get(path + "/history").json()["data"][-1]["version"] == 2
    assert client.delete(path).status_code == 204
    assert client.get(f"/v1/sources/{source['id']}").status_code == 404

    lavrov = make(client, "actors", slug="sergey-lavrov", name="Sergey Lavrov", kind="person", external_ref="wd:Q80")
    for key in ("sergey-lavrov", "slug:sergey-lavrov", "ref:wd:Q80", ref("wd:Q80")):
        response = client.get(f"/v1/actors/{key}")
        assert response.status_code == 200, (key, response.text)
        assert response.json()["id"] == lavrov["id"]
    dyad = client.get("/v1/dyads/ref:wd:Q80/slug:russia")
    assert dyad.status_code == 200, dyad.text
    assert (dyad.json()["a"]["slug"], dyad.json()["b"]["slug"]) == ("sergey-lavrov", "russia")


def test_exercises_channels_and_status_changes_by_external_ref(client, reader, nato_russia):
    exercise = make(
        client,
        "exercises",
        name="Zapad 2021",
        start_date="2021-09-10",
        participants=[{"actor": "russia", "role": "lead"}],
        external_ref="ex/zapad-2021",
    )
    assert client.get(f"/v1/exercises/{ref('ex/zapad-2021')}").json()["id"] == exercise["id"]
    patched = client.patch(
        f"/v1/exercises/{ref('ex/zapad-2021')}",
        json={"troops": 200000},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["troops"] == 200000
    channel = make(
        client, "channels", name="NATO-Russia Council", kind="council", parties=["nato", "russia"], external_ref="nrc"
    )
    assert client.get("/v1/channels/ref:nrc").json()["id"] == channel["id"]
    change = client.post(
        "/v1/channels/ref:nrc/status-changes",
        json={"status": "suspended", "effective_on": "2021-10-18", "external_ref": "nrc/2021"},
    )
    assert change.status_code == 201, change.text
    read = client.get(f"/v1/channels/ref:nrc/status-changes/{ref('nrc/2021')}")
    assert read.status_code == 200, read.text
    assert read.json()["id"] == change.json()["id"]
    assert client.delete("/v1/channels/ref:nrc").status_code == 204
    assert client.delete(f"/v1/exercises/{ref('ex/zapad-2021')}").status_code == 204
    assert reader.get(f"/v1/exercises/{exercise['id']}").status_code == 404
    assert client.get(f"/v1/exercises/{ref('ex/zapad-2021')}").json()["status"] == "retracted"


def test_the_incident_page_takes_the_external_ref(client, nato_russia):
    incident = make(
        client,
        "incidents",
        kind="expulsion",
        title="Paged",
        occurred_on="2021-10-06",
        initiators=["nato"],
        targets=["russia"],
        external_ref="page/1",
    )
    page = client.get(f"/incidents/{ref('page/1')}")
    assert page.status_code == 200, page.text
    assert incident["title"] in page.text
