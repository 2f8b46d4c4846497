"""The actors' collection, declared once (:class:`app.kit.collection.Collection`): what its
routes, the change feed, imports and the stored answers derive from."""

from app.actors import service
from app.actors.models import Actor, ActorCreate, ActorPublic, fold_codes
from app.kit.collection import Collection

COLLECTION = Collection(
    type="actor",
    name="actors",
    table=Actor,
    create_model=ActorCreate,
    public_model=ActorPublic,
    answer=service.answer,
    record=service.record,
    hydrate=service.hydrate,
    create=service.create,
    replace=service.replace,
    path_keys=("slug",),
    import_keys=("external_ref", "slug"),
    renamed=(("affiliation_id", "affiliation"),),
    fold=fold_codes,
)
