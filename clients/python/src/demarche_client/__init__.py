"""A Python client for the Demarche API, sync (:class:`Client`) and async (:class:`AsyncClient`).

    from demarche_client import Client, NotFound

    with Client("http://127.0.0.1:8000", key="dmk_...") as demarche:
        for incident in demarche.iterate("incidents", actor="russia", from_="2021-10-01"):
            print(incident.occurred_on, incident.title)  # an IncidentPublic
        counts = demarche.import_records(records, job="october.ndjson")  # batches, each idempotent
        counts.replayed  # the batches answered by a replay of an earlier run (nothing written)

Records come back as the models of :mod:`demarche_client.models`, generated from the API's
OpenAPI document. Errors are raised as the classes below, built from the server's problem
details. The reference is ``docs/client.md``.
"""

from demarche_client._version import __version__
from demarche_client.client import AsyncClient, Client, ImportCounts
from demarche_client.errors import (
    BadRequest,
    Conflict,
    DemarcheError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    QueryTooExpensive,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    ValidationError,
)
from demarche_client.records import Record

__all__ = [
    "__version__",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "DemarcheError",
    "Forbidden",
    "ImportCounts",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "QueryTooExpensive",
    "RateLimited",
    "Record",
    "ServerError",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
    "ValidationError",
]
