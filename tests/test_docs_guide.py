"""The guide for callers (docs/guide.md): served at /guide, linked from the OpenAPI
description that /docs opens on, and kept true to the app: every path it names is served,
and every problem type the app answers is in its table of errors."""

import re

import app.main  # noqa: F401  (imports every module that declares a problem type)
from app.docs import GUIDE
from app.kit.problems import Problem
from app.pages.routes import POLICY

TEXT = GUIDE.read_text(encoding="utf-8")
INTERNAL = {"internal-error"}
"""Problem types a caller never needs to tell apart (a 500 is a bug to report)."""


def test_the_guide_is_a_page_whose_section_links_lead_to_its_sections(anonymous):
    answer = anonymous.get("/guide")
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == POLICY
    html = answer.text
    ids = set(re.findall(r'<h[1-6] id="([^"]+)"', html))
    links = set(re.findall(r'href="#([^"]+)"', html)) - {"main"}  # the pages' skip link
    assert {"basics", "errors", "the-change-feed"} <= ids
    assert links and links <= ids, f"links to no section: {links - ids}"
    assert "<script" not in html


def test_docs_open_on_a_short_summary_that_links_to_the_guide(client):
    description = client.get("/openapi.json").json()["info"]["description"]
    assert "(/guide)" in description and "docs/guide.md" in description
    assert len(description.strip().splitlines()) <= 20, "the choices belong in docs/guide.md, not in the description"
    assert 'href="/guide"' in client.get("/").text


def test_every_path_the_guide_names_is_served(client):
    served = [path.split("/") for path in client.get("/openapi.json").json()["paths"]]
    named = {path.rstrip(".:") for path in re.findall(r"/v1/[\w/{}:.$-]*", TEXT)}
    assert len(named) > 20
    for path in named:
        assert any(_same_route(path.split("/"), template) for template in served), f"the guide names {path}"


def _same_route(named: list[str], served: list[str]) -> bool:
    """Whether two paths' segments pair up, a placeholder (``{id}``, ``$ID``) with anything."""
    return len(named) == len(served) and all(
        a == b or a.startswith(("{", "$")) or b.startswith("{") for a, b in zip(named, served, strict=True)
    )


def test_the_guides_errors_are_the_problem_types_the_app_answers():
    slugs = set()
    pending = [Problem]
    while pending:
        kind = pending.pop()
        slugs.add(kind.slug)
        pending.extend(kind.__subclasses__())
    documented = set(re.findall(r"`/problems/([a-z-]+)`", TEXT))
    assert documented == slugs - INTERNAL
