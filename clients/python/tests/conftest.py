"""The client's tests need only the client, httpx and pytest. Those marked by the ``demarche``
fixture speak to a running server: ``DEMARCHE_URL`` names it and ``DEMARCHE_KEY`` is a write
key there; without ``DEMARCHE_URL`` they are skipped. They create what they read, under names
of their own, so any server will do (its rate limit should allow a few hundred requests)."""

import os
import uuid
from collections.abc import Iterator

import pytest

from demarche_client import Client


@pytest.fixture
def server() -> tuple[str, str | None]:
    url = os.environ.get("DEMARCHE_URL")
    if not url:
        pytest.skip("DEMARCHE_URL names no server")
    return url, os.environ.get("DEMARCHE_KEY")


@pytest.fixture
def demarche(server: tuple[str, str | None]) -> Iterator[Client]:
    with Client(*server) as api:
        yield api


@pytest.fixture
def run() -> str:
    """A word no other test run uses, for the slugs and references a test makes."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def parties(demarche: Client, run: str) -> tuple[str, str]:
    """The slugs of two new actors: an alliance and a state."""
    alliance = demarche.create("actors", {"slug": f"alliance-{run}", "name": f"Alliance {run}", "kind": "organization"})
    state = demarche.create(
        "actors", {"slug": f"state-{run}", "name": f"State {run}", "kind": "state", "country_code": "RUS"}
    )
    return alliance.slug, state.slug
