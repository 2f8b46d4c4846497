"""The incidents' collection, declared once (:class:`app.kit.collection.Collection`): what its
routes, the change feed, imports and the stored answers derive from."""

from app.incidents import merges, service
from app.incidents.models import Incident, IncidentCreate, IncidentPublic
from app.kit.collection import Collection

COLLECTION = Collection(
    type="incident",
    name="incidents",
    table=Incident,
    create_model=IncidentCreate,
    public_model=IncidentPublic,
    answer=service.answer,
    record=service.record,
    hydrate=service.hydrate,
    create=service.create,
    replace=service.replace,
    links=service.links,
    csv_keys=service.name_answered,
    write_many=service.write,
    onto=merges.onto_survivors,
    merge_new=merges.merge_reports,
)
