"""Random sequences of create, patch, retract, re-import, restore and read, driven through
the HTTP API: after every step the stored state, the reads by scope, the lists, the change
feed and each record's history agree with a model the test keeps.

A hypothesis state machine, with a fixed seed (``derandomize``) and a bounded number of
examples and steps, so that it runs in the plain suite in a few seconds per engine.
"""

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from app.access.models import ApiKey
from app.exercises.models import Exercise
from app.incidents.models import Incident
from app.models import metadata
from tests.conftest import IMPORT_ACTORS, ndjson

NDJSON = {"Content-Type": "application/x-ndjson"}
TITLES = ("First title", "Second title")
STATES = ("published", "draft", "retracted")


@dataclass(frozen=True)
class Kind:
    type: str
    collection: str
    table: Any
    title: str
    """The field a patch or an import line changes."""
    fields: dict[str, Any]


KINDS = {
    "incident": Kind(
        "incident",
        "incidents",
        Incident,
        "title",
        {"kind": "expulsion", "occurred_on": "2021-10-06", "initiators": ["nato"], "targets": ["russia"]},
    ),
    "exercise": Kind(
        "exercise",
        "exercises",
        Exercise,
        "name",
        {"start_date": "2021-09-10", "participants": [{"actor": "russia", "role": "lead"}]},
    ),
}
KEYS = [("incident", "sm:incident:1"), ("incident", "sm:incident:2"), ("exercise", "sm:exercise:1")]
"""The records a run plays with: (type, external_ref)."""


@dataclass
class Model:
    """What the test expects of one record."""

    id: str
    state: str
    version: int
    title: str
    history: list[tuple[int, str]] = field(default_factory=list)

    def write(self, op: str, state: str | None = None, title: str | None = None) -> None:
        self.version += 1
        self.state = state or self.state
        self.title = title or self.title
        self.history.append((self.version, op))


class RecordStates(RuleBasedStateMachine):
    def __init__(self, app: Any, admin: TestClient, writer: TestClient, reader: TestClient) -> None:
        super().__init__()
        self.app, self.admin, self.writer, self.reader = app, admin, writer, reader
        self.records: dict[str, Model] = {}
        empty(app)
        answer = self.import_lines(IMPORT_ACTORS)
        assert sum(answer["created"].values()) == 2, answer

    def teardown(self) -> None:
        empty(self.app)

    # the steps

    @rule(key=st.sampled_from(KEYS), title=st.sampled_from(TITLES), status=st.sampled_from(["published", "draft"]))
    def create(self, key: tuple[str, str], title: str, status: str) -> None:
        kind, ref = KINDS[key[0]], key[1]
        body = {**kind.fields, kind.title: title, "external_ref": ref, "status": status}
        response = self.writer.post(f"/v1/{kind.collection}", json=body)
        if ref in self.records:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 201, response.text
        self.records[ref] = Model(response.json()["id"], status, 1, title, [(1, "create")])

    @rule(key=st.sampled_from(KEYS), title=st.sampled_from(TITLES), status=st.sampled_from([None, *STATES]))
    def patch(self, key: tuple[str, str], title: str, status: str | None) -> None:
        kind, model = KINDS[key[0]], self.records.get(key[1])
        if model is None:
            return
        patch = {kind.title: title} | ({"status": status} if status else {})
        response = self.writer.patch(f"/v1/{kind.collection}/{model.id}", json=patch)
        if model.state == "retracted":
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        new_state = status or model.state
        if title != model.title or new_state != model.state:
            model.write("delete" if new_state == "retracted" else "update", new_state, title)
        assert (response.json()["version"], response.json()["status"]) == (model.version, model.state)

    @rule(key=st.sampled_from(KEYS))
    def delete(self, key: tuple[str, str]) -> None:
        kind, model = KINDS[key[0]], self.records.get(key[1])
        if model is None:
            return
        response = self.writer.delete(f"/v1/{kind.collection}/{model.id}")
        if model.state == "retracted":
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 204, response.text
        model.write("delete", "retracted")

    @rule(key=st.sampled_from(KEYS), title=st.sampled_from(TITLES), status=st.sampled_from([None, *STATES]))
    def reimport(self, key: tuple[str, str], title: str, status: str | None) -> None:
        kind, ref = KINDS[key[0]], key[1]
        line = {"type": kind.type, **kind.fields, kind.title: title, "external_ref": ref}
        if status:
            line["status"] = status
        answer = self.import_lines([line])
        outcomes = {outcome: n[kind.type] for outcome, n in answer.items() if outcome != "dry_run" and n[kind.type]}
        model = self.records.get(ref)
        new_state = status or "published"
        if model is None:
            assert outcomes == {"created": 1}, answer
            record_id = self.find(kind, ref)
            history = [(1, "create")] + ([(1, "delete")] if new_state == "retracted" else [])
            self.records[ref] = Model(record_id, new_state, 1, title, history)
        elif model.state == "retracted" and status != "published":
            assert outcomes == {"retracted": 1}, answer
        elif model.state == "retracted":
            assert outcomes == {"updated": 1}, answer
            model.write("restore", "published", title)
        elif title != model.title or new_state != model.state:
            assert outcomes == {"updated": 1}, answer
            model.write("delete" if new_state == "retracted" else "update", new_state, title)
        else:
            assert outcomes == {"unchanged": 1}, answer

    @rule(key=st.sampled_from(KEYS), stale=st.booleans())
    def restore(self, key: tuple[str, str], stale: bool) -> None:
        kind, model = KINDS[key[0]], self.records.get(key[1])
        if model is None:
            return
        headers = {"If-Match": f'"{model.version - 1 if stale else model.version}"'}
        response = self.writer.post(f"/v1/{kind.collection}/{model.id}/restore", headers=headers)
        if stale:
            assert response.status_code == 412, response.text
        elif model.state != "retracted":
            assert response.status_code == 409, response.text
            assert response.json()["type"] == "/problems/not-retracted"
        else:
            assert response.status_code == 200, response.text
            model.write("restore", "published")
            assert response.headers["ETag"] == f'"{model.version}"'
            assert (response.json()["version"], response.json()["status"]) == (model.version, "published")

    # what must agree after every step

    @precondition(lambda self: self.records)
    @invariant()
    def every_answer_agrees(self) -> None:
        feed = self.feed()
        lists = {
            (kind.type, who, status): self.listed(client, kind, status)
            for kind in KINDS.values()
            for who, client, status in (
                ("reader", self.reader, None),
                ("writer", self.writer, None),
                ("writer", self.writer, "retracted"),
            )
        }
        for (type_, ref), model in ((key, self.records[key[1]]) for key in KEYS if key[1] in self.records):
            kind = KINDS[type_]
            url = f"/v1/{kind.collection}/{model.id}"
            where = f"{ref}: {model}"
            with self.app.state.engine.connect() as connection:
                status, retracted_at, version = connection.execute(
                    select(kind.table.status, kind.table.retracted_at, kind.table.version).where(
                        kind.table.id == model.id
                    )
                ).one()
            assert (status, retracted_at is not None, version) == (
                model.state,
                model.state == "retracted",
                model.version,
            ), where

            written = self.writer.get(url)
            assert written.status_code == 200, where
            answer = written.json()
            assert (answer["status"], answer["version"], answer[kind.title]) == (
                model.state,
                model.version,
                model.title,
            )
            assert written.headers["ETag"] == f'"{model.version}"', where
            assert self.reader.get(url).status_code == (200 if model.state == "published" else 404), where

            assert (model.id in lists[type_, "reader", None]) == (model.state == "published"), where
            assert (model.id in lists[type_, "writer", None]) == (model.state != "retracted"), where
            assert (model.id in lists[type_, "writer", "retracted"]) == (model.state == "retracted"), where

            entries = [(e["version"], e["op"]) for e in feed if e["id"] == model.id]
            assert entries == model.history, where
            history = self.writer.get(f"{url}/history").json()["data"]
            assert [(v["version"], v["op"]) for v in history] == model.history, where
            assert history[-1]["changes"].get("status", model.state) == model.state, where
            assert self.reader.get(f"{url}/history").status_code == (200 if model.state == "published" else 404)

    # helpers

    def import_lines(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.writer.post("/v1/import", content=ndjson(lines), headers=NDJSON)
        assert response.status_code == 200, response.text
        return response.json()

    def find(self, kind: Kind, ref: str) -> str:
        with self.app.state.engine.connect() as connection:
            return connection.execute(select(kind.table.id).where(kind.table.external_ref == ref)).scalar_one()

    def listed(self, client: TestClient, kind: Kind, status: str | None = None) -> set[str]:
        response = client.get(f"/v1/{kind.collection}", params={"limit": 500} | ({"status": status} if status else {}))
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["data"]}

    def feed(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.reader.get("/v1/changes", params={"after": after, "limit": 500}).json()
            entries += page["data"]
            if page["next_cursor"] is None:
                return entries
            after = page["next_cursor"]


def empty(app: Any) -> None:
    """Every table emptied but the keys', which the clients keep using."""
    with app.state.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table is not ApiKey.__table__:
                connection.execute(table.delete())


def test_records_tell_one_story_whatever_the_sequence(app, client, writer, reader):
    run_state_machine_as_test(
        lambda: RecordStates(app, client, writer, reader),
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
