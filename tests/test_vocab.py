from app.vocab import CAMEO_KINDS, INCIDENT_CODES, IncidentKind


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
    assert len(kinds) == 17
    assert (kinds["expulsion"]["cameo"], kinds["expulsion"]["plover"]) == ("166", "SANCTION")
    assert kinds["mission_closure"]["cameo"] == "161" and kinds["mission_closure"]["plover_mode"] == "withdraw"
    assert kinds["dialogue_suspension"]["cameo"] == "164"
    assert kinds["other"]["cameo"] is None and kinds["other"]["imported_from_cameo"] == []
    assert [e["value"] for e in body["channel_status"]] == ["active", "restricted", "suspended", "closed"]


def test_vocabularies_are_enforced_on_input(client):
    response = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "alliance"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "kind"]


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_kinds_carry_codes_aligned_with_cameo2plover():
    """Each kind's codes as the PLOVER project's CAMEO2PLOVER-2021.txt maps its CAMEO code."""
    cameo2plover = {
        "054": ("SUPPORT", None, "diplomatic"),
        "114": ("ACCUSE", "allege", "diplomatic"),
        "161": ("SANCTION", "withdraw", "diplomatic"),
        "163": ("COERCE", "restrict", "diplomatic"),
        "164": ("SANCTION", "withdraw", "diplomatic"),
        "166": ("SANCTION", "expel", "diplomatic"),
        "1313": ("THREATEN", "relations", "diplomatic"),
    }
    for kind, codes in INCIDENT_CODES.items():
        if kind is IncidentKind.other:
            assert codes.cameo is None
            continue
        assert cameo2plover[codes.cameo] == (codes.plover, codes.plover_mode, codes.plover_context), kind
    assert INCIDENT_CODES[IncidentKind.sanctions][:3] == ("163", "Impose embargo, boycott, or sanctions", "COERCE")
    assert INCIDENT_CODES[IncidentKind.ambassador_summons].cameo == "114"
    assert INCIDENT_CODES[IncidentKind.ambassador_recall].cameo == "161"
    for new in ("relations_severed", "relations_downgraded", "relations_restored", "visit_cancelled"):
        assert IncidentKind(new) in INCIDENT_CODES
    assert INCIDENT_CODES[IncidentKind.relations_threatened].cameo == "1313"


def test_the_crosswalk_maps_each_cameo_code_to_one_kind(client):
    body = client.get("/v1/vocabularies").json()
    crosswalk = {e["value"]: e for e in body["cameo"]}
    assert len(crosswalk) == len(body["cameo"])  # each code once: one kind each
    assert crosswalk["161"]["kind"] == "relations_downgraded"
    assert set(crosswalk["161"]["kinds"]) >= {"relations_severed", "ambassador_recall", "visit_cancelled"}
    assert crosswalk["165"] == {"value": "165", "label": "Halt mediation", "kind": "dialogue_suspension", "kinds": []}
    assert "114" not in crosswalk  # a summons is coded 114, but most 114 events are no summons
    for code, entry in crosswalk.items():
        assert CAMEO_KINDS[code] == entry["kind"]
    kinds = {e["value"]: e for e in body["incident_kind"]}
    assert kinds["dialogue_suspension"]["imported_from_cameo"] == ["164", "165"]
    assert [e["value"] for e in body["plover_event"]][:3] == ["AGREE", "CONSULT", "SUPPORT"]
