"""The sources' collection, declared once (:class:`app.kit.collection.Collection`): what its
routes, the change feed, imports and the stored answers derive from."""

from app.kit.collection import Collection
from app.sources import service
from app.sources.models import Source, SourceCreate, SourcePublic

COLLECTION = Collection(
    type="source",
    name="sources",
    table=Source,
    create_model=SourceCreate,
    public_model=SourcePublic,
    answer=service.answer,
    record=service.record,
    hydrate=service.hydrate,
    create=service.create,
    replace=service.replace,
    import_keys=("external_ref", "url"),
    write_many=service.write,
)
