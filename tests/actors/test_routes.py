from tests.conftest import make


def test_create_answers_201_with_location_and_version_1(client):
    response = client.post("/v1/actors", json={"slug": "nato", "name": "NATO", "kind": "organization"})
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/actors/{body['id']}"
    assert body["version"] == 1
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert client.get(response.headers["location"]).json() == body


def test_read_by_id_or_slug(client, nato_russia):
    russia = nato_russia["russia"]
    assert client.get(f"/v1/actors/{russia['id']}").json() == client.get("/v1/actors/russia").json()


def test_required_fields_and_unknown_fields_are_422(client):
    missing = client.post("/v1/actors", json={"slug": "x", "name": "X"})
    assert missing.status_code == 422
    assert ["body", "kind"] in [e["loc"] for e in missing.json()["errors"]]
    typo = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "state", "nmae": "X"})
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["loc"] == ["body", "nmae"]
    bad_kind = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "planet"})
    assert bad_kind.status_code == 422


def test_duplicate_slug_and_external_ref_are_409(client, nato_russia):
    again = client.post("/v1/actors", json={"slug": "nato", "name": "Other", "kind": "organization"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    make(client, "actors", slug="a", name="A", kind="state", external_ref="x:1")
    assert (
        client.post("/v1/actors", json={"slug": "b", "name": "B", "kind": "state", "external_ref": "x:1"}).status_code
        == 409
    )


def test_affiliation_is_a_reference(client, nato_russia):
    lavrov = make(client, "actors", slug="sergey-lavrov", name="Sergey Lavrov", kind="person", affiliation="russia")
    russia = nato_russia["russia"]
    assert lavrov["affiliation"] == {"id": russia["id"], "slug": "russia", "name": "Russia"}
    unknown = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "person", "affiliation": "nobody"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "affiliation", 0]


def test_merge_patch_changes_only_what_is_given_and_bumps_version(client, nato_russia):
    make(client, "actors", slug="p", name="P", kind="person", external_ids={"wikidata": "Q1", "viaf": "9"})
    patched = client.patch("/v1/actors/p", json={"name": "Person", "external_ids": {"viaf": None, "isni": "7"}})
    assert patched.status_code == 200
    body = patched.json()
    assert body["name"] == "Person"
    assert body["external_ids"] == {"wikidata": "Q1", "isni": "7"}
    assert body["version"] == 2
    same = client.patch(
        "/v1/actors/p", json={"name": "Person"}, headers={"content-type": "application/merge-patch+json"}
    )
    assert same.json()["version"] == 2
    cleared = client.patch("/v1/actors/p", json={"name": None})
    assert cleared.status_code == 422
    assert client.get("/v1/actors/p").json()["name"] == "Person"


def test_delete_retracts(client, nato_russia):
    assert client.delete("/v1/actors/china").status_code == 204
    assert client.get("/v1/actors/china").status_code == 404
    assert "china" not in [a["slug"] for a in client.get("/v1/actors").json()["data"]]
    assert client.delete("/v1/actors/china").status_code == 404
    # the slug stays taken: the record is kept
    assert client.post("/v1/actors", json={"slug": "china", "name": "C", "kind": "state"}).status_code == 409


def test_filters(client, nato_russia):
    make(
        client,
        "actors",
        slug="sergey-lavrov",
        name="Sergey Lavrov",
        kind="person",
        aliases=["Sergei Lavrov"],
        affiliation="russia",
    )
    slugs = lambda query: [a["slug"] for a in client.get(f"/v1/actors?{query}").json()["data"]]  # noqa: E731
    assert slugs("kind=state") == ["china", "russia"]
    assert slugs("kind=state&kind=organization") == ["china", "nato", "russia"]
    assert slugs("country=rus") == ["russia"]
    assert slugs("q=SERGEI") == ["sergey-lavrov"]
    assert slugs("q=lavrov&kind=state") == []
    assert slugs("affiliation=russia") == ["sergey-lavrov"]
    assert slugs(f"affiliation={nato_russia['russia']['id']}") == ["sergey-lavrov"]
    assert slugs("sort=-name") == ["sergey-lavrov", "russia", "nato", "china"]
    assert client.get("/v1/actors?sort=secret").status_code == 422


def test_q_matches_text_not_syntax_in_any_script(client):
    make(client, "actors", slug="russia", name="Россия", kind="state", aliases=["Российская Федерация"])
    make(client, "actors", slug="under-score", name="Under_score", kind="body")
    slugs = lambda q: [a["slug"] for a in client.get("/v1/actors", params={"q": q}).json()["data"]]  # noqa: E731
    assert slugs("россия") == ["russia"]
    assert slugs("федерация") == ["russia"]
    assert slugs("[") == [] and slugs('"') == [] and slugs("%") == []
    assert slugs("_") == ["under-score"]
