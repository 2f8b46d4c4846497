def test_every_vocabulary_has_values_and_labels(client):
    body = client.get("/v1/vocabularies").json()
    assert set(body) >= {
        "incident_kind",
        "actor_kind",
        "channel_kind",
        "channel_status",
        "exercise_domain",
        "participant_role",
        "date_precision",
        "record_status",
    }
    for entries in body.values():
        assert entries and all(e["value"] and e["label"] for e in entries)
    kinds = {e["value"]: e for e in body["incident_kind"]}
    assert len(kinds) == 12
    assert (kinds["expulsion"]["cameo"], kinds["expulsion"]["plover"]) == ("166", "SANCTION")
    assert kinds["mission_closure"]["cameo"] == "161" and kinds["mission_closure"]["plover_mode"] == "discontinue"
    assert kinds["dialogue_suspension"]["cameo"] == "164"
    assert kinds["sanctions"]["cameo"] == "163"
    assert [e["value"] for e in body["channel_status"]] == ["active", "restricted", "suspended", "closed"]


def test_vocabularies_are_enforced_on_input(client):
    response = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "alliance"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "kind"]


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
