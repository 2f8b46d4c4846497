import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from app.seed import load_demo

DEMARCHE = Path(sys.executable).parent / "demarche"


def load(app):
    with Session(app.state.engine) as session:
        counts = load_demo(session)
        session.commit()
    return counts


def test_demo_loads_once_and_a_second_run_changes_nothing(client, app):
    first = load(app)
    assert set(first) == {"created"}
    assert first["created"]["incident"] >= 4 and first["created"]["channel"] >= 6
    before = client.get("/v1/incidents").json()
    second = load(app)
    assert set(second) == {"unchanged"} and second["unchanged"] == first["created"]
    assert client.get("/v1/incidents").json() == before


def test_demo_tells_the_october_2021_story(client, app):
    load(app)
    actors = {a["slug"] for a in client.get("/v1/actors?limit=500").json()["data"]}
    assert {
        "nato",
        "russia",
        "china",
        "serbia",
        "belarus",
        "algeria",
        "tajikistan",
        "japan",
        "jens-stoltenberg",
        "sergey-lavrov",
    } <= actors
    withdrawal = client.get("/v1/incidents?kind=accreditation_withdrawal").json()["data"]
    assert len(withdrawal) == 1 and withdrawal[0]["persons_affected"] == 8
    assert withdrawal[0]["date_precision"] == "month"  # the article gives no exact day
    answers = client.get("/v1/incidents?initiator=russia&from=2021-10-18&to=2021-10-18").json()["data"]
    assert {a["kind"] for a in answers} == {"mission_suspension", "liaison_suspension", "office_closure"}
    assert all(withdrawal[0]["id"] in [r["id"] for r in a["responds_to"]] for a in answers)

    def open_channels(day):
        channels = client.get(f"/v1/channels?party=nato&party=russia&as_of={day}").json()["data"]
        return sorted(c["name"] for c in channels if c["status"] in ("active", "restricted"))

    assert open_channels("2021-10-20") == [
        "NATO Information Office in Moscow",
        "NATO Military Liaison Mission in Moscow",
        "NATO-Russia Council",
        "Russia's Mission to NATO",
    ]
    assert open_channels("2021-11-15") == ["NATO-Russia Council"]
    exercises = {
        e["name"] for e in client.get("/v1/exercises?actor=russia&from=2021-09-01&to=2021-11-30").json()["data"]
    }
    assert {"Zapad-21", "Joint Sea 2021", "Slavic Shield 2021"} <= exercises
    assert "Steadfast Noon 2021" not in exercises
    source = client.get("/v1/sources").json()["data"][0]
    assert source["published_on"] == "2021-10-18" and source["publisher"] == "European Leadership Network"


def test_the_seed_command_loads_an_empty_database_only(client, database_url):
    def seed() -> str:
        env = os.environ | {"DEMARCHE_DATABASE_URL": database_url}
        done = subprocess.run([DEMARCHE, "seed"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "created" in seed()
    nato = client.get("/v1/actors/nato").json()
    patched = client.patch("/v1/actors/nato", json={"description": "An edit of the user's"})
    assert patched.status_code == 200, patched.text
    assert "not loaded" in seed(), "a database that holds records is left as it is"
    after = client.get("/v1/actors/nato").json()
    assert after["description"] == "An edit of the user's" and after["version"] == nato["version"] + 1
