import json
import re

from tests import ROOT

COMMITTED = ROOT / "openapi" / "openapi.json"


def test_committed_spec_equals_the_served_one(client):
    served = client.get("/openapi.json").json()
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == served, "run `make openapi` and commit the result"


def test_every_operation_is_documented(client):
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            assert op.get("tags"), where
            assert re.fullmatch(rf"{op['tags'][0]}-[a-z][a-z0-9-]*", op["operationId"]), where
            if path.startswith("/v1/") and method in {"post", "patch"}:
                assert {"413", "415", "422"} <= op["responses"].keys(), where
                if "requestBody" not in op:  # a restore is the one write that takes no body
                    assert method == "post" and path.endswith("/restore"), where
                    continue
                assert _has_example(spec, op["requestBody"]["content"]), where


def _has_example(spec, content):
    for media in content.values():
        if media.get("example") or media.get("examples"):
            return True
        ref = media["schema"].get("$ref", "")
        if ref:
            component = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
            if component.get("examples"):
                return True
    return False
