"""The channels' collection, declared once (:class:`app.kit.collection.Collection`): what its
routes, the change feed, imports and the stored answers derive from."""

from app.channels import service
from app.channels.models import Channel, ChannelCreate, ChannelPublic
from app.kit.collection import Collection

# A channel's kept answer leaves out its status, which depends on the day asked about: a
# page's rows carry it, and ``hydrate`` and ``record`` add it.
COLLECTION = Collection(
    type="channel",
    name="channels",
    table=Channel,
    create_model=ChannelCreate,
    public_model=ChannelPublic,
    answer=service.answer,
    record=service.record,
    hydrate=service.hydrate,
    create=service.create,
    replace=service.replace,
    links=service.links,
    pages_kept=False,
)
