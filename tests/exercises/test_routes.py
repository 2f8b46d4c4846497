from tests.conftest import make


def exercise(client, **fields):
    base = {"name": "Drill", "start_date": "2021-10-14", "participants": [{"actor": "russia", "role": "lead"}]}
    return make(client, "exercises", **(base | fields))


def names(client, query):
    response = client.get(f"/v1/exercises?{query}")
    assert response.status_code == 200, response.text
    return [e["name"] for e in response.json()["data"]]


def test_participants_with_roles(client, nato_russia):
    created = exercise(
        client, participants=[{"actor": "russia", "role": "lead"}, {"actor": "china"}], domains=["sea", "air"]
    )
    assert created["participants"] == [
        {"actor": {"id": nato_russia["russia"]["id"], "slug": "russia", "name": "Russia"}, "role": "lead"},
        {"actor": {"id": nato_russia["china"]["id"], "slug": "china", "name": "China"}, "role": "participant"},
    ]
    assert created["end_date"] is None and created["date_precision"] == "day"
    bad_role = client.post(
        "/v1/exercises",
        json={"name": "X", "start_date": "2021-10-14", "participants": [{"actor": "russia", "role": "spy"}]},
    )
    assert bad_role.status_code == 422
    unknown = client.post(
        "/v1/exercises", json={"name": "X", "start_date": "2021-10-14", "participants": [{"actor": "atlantis"}]}
    )
    assert unknown.json()["errors"][0]["loc"] == ["body", "participants", 0]
    backwards = client.post(
        "/v1/exercises",
        json={"name": "X", "start_date": "2021-10-14", "end_date": "2021-10-01", "participants": [{"actor": "russia"}]},
    )
    assert backwards.status_code == 422
    assert (
        client.post(
            "/v1/exercises",
            json={"name": "X", "start_date": "2021-10-14", "domains": ["mind"], "participants": [{"actor": "russia"}]},
        ).status_code
        == 422
    )


def test_filters(client, nato_russia):
    exercise(
        client,
        name="Zapad-21",
        start_date="2021-09-10",
        end_date="2021-09-16",
        domains=["land", "air"],
        region="Western Russia",
    )
    exercise(
        client,
        name="Joint Sea 2021",
        start_date="2021-10-14",
        end_date="2021-10-17",
        domains=["sea"],
        participants=[{"actor": "russia", "role": "lead"}, {"actor": "china", "role": "lead"}],
        region="Sea of Japan",
        summary="Naval drill",
    )
    exercise(
        client,
        name="Steadfast Noon",
        start_date="2021-10-18",
        domains=["nuclear"],
        participants=[{"actor": "nato", "role": "lead"}],
    )
    assert names(client, "") == ["Steadfast Noon", "Joint Sea 2021", "Zapad-21"]
    assert names(client, "actor=china") == ["Joint Sea 2021"]
    assert names(client, "actor=russia") == ["Joint Sea 2021", "Zapad-21"]
    assert names(client, "domain=sea&domain=nuclear") == ["Steadfast Noon", "Joint Sea 2021"]
    assert names(client, "from=2021-09-16&to=2021-10-14") == ["Joint Sea 2021", "Zapad-21"]
    assert names(client, "from=2021-09-17&to=2021-10-13") == []
    assert names(client, "active_on=2021-10-15") == ["Joint Sea 2021"]
    assert names(client, "active_on=2021-10-18") == ["Steadfast Noon"]
    assert names(client, "active_on=2021-10-19") == []
    assert names(client, "region=Sea of Japan") == ["Joint Sea 2021"]
    assert names(client, "q=naval") == ["Joint Sea 2021"]
    assert names(client, "sort=name") == ["Joint Sea 2021", "Steadfast Noon", "Zapad-21"]


def test_patch_and_delete(client, reader, nato_russia):
    created = exercise(client)
    patched = client.patch(f"/v1/exercises/{created['id']}", json={"end_date": "2021-10-17", "troops": 5000})
    assert patched.json()["end_date"] == "2021-10-17" and patched.json()["version"] == 2
    assert client.patch(f"/v1/exercises/{created['id']}", json={"end_date": "2020-01-01"}).status_code == 422
    assert client.delete(f"/v1/exercises/{created['id']}").status_code == 204
    assert reader.get(f"/v1/exercises/{created['id']}").status_code == 404
    assert client.get(f"/v1/exercises/{created['id']}").json()["status"] == "retracted"
