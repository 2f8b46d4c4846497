"""The exercises' collection, declared once (:class:`app.kit.collection.Collection`): what its
routes, the change feed, imports and the stored answers derive from."""

from app.exercises import service
from app.exercises.models import Exercise, ExerciseCreate, ExercisePublic
from app.kit.collection import Collection

COLLECTION = Collection(
    type="exercise",
    name="exercises",
    table=Exercise,
    create_model=ExerciseCreate,
    public_model=ExercisePublic,
    answer=service.answer,
    record=service.record,
    hydrate=service.hydrate,
    create=service.create,
    replace=service.replace,
    links=service.links,
)
