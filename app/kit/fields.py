"""Field selection (``fields=id,title``): answers that hold only the named top-level fields
of each record, in the record's own order.

The fields keep the order the answer gives them (its own: a selection never reorders them).
Records are answered as JSON text that is never parsed on the way out (see
:mod:`app.kit.sqljson`); a selection is the slow path that parses each record and writes the
named fields again. Without ``fields`` nothing here runs.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import Query
from pydantic import WithJsonSchema

from app.kit.problems import UnknownField, error_entry
from app.kit.responses import dumps


@dataclass(frozen=True)
class Selection:
    """The fields a request asked for, in the order of :data:`answer_order`."""

    names: tuple[str, ...]
    tag: str = field(init=False)
    """Tells the answer's entity tag from the whole record's (``"3.f1a2b3c4d5"``)."""
    wanted: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(",".join(self.names).encode()).hexdigest()[:10]
        object.__setattr__(self, "tag", f"f{digest}")
        object.__setattr__(self, "wanted", frozenset(self.names))

    def pick(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The selected fields of ``record``, in its own order."""
        return {name: value for name, value in record.items() if name in self.wanted}

    def pick_text(self, text: bytes | str) -> bytes:
        """The JSON text of a record reduced to the selected fields."""
        return dumps(self.pick(orjson.loads(text)))

    def texts(self, texts: Callable[..., list[bytes]]) -> Callable[..., list[bytes]]:
        """``texts`` (records as JSON text) with each record reduced to the selected fields."""
        return lambda *args: [self.pick_text(text) for text in texts(*args)]


META = ("id", "created_at", "updated_at", "version")


def answer_order(model: type) -> tuple[str, ...]:
    """The top-level fields of ``model`` (a record's public answer) as its answers list them:
    the record's id, timestamps and version first."""
    fields = tuple(model.model_fields)
    return (*(name for name in META if name in fields), *(name for name in fields if name not in META))


def fields_parameter(model: type) -> Callable[..., Any]:
    """A dependency reading ``fields`` against the top-level fields of ``model`` (a record's
    public answer): ``None`` without it, else the :class:`Selection`; an unknown name is 400
    (``unknown-field``), naming it and listing the valid ones."""
    valid = answer_order(model)
    known = frozenset(valid)
    one = "|".join(re.escape(name) for name in valid)
    described = (
        "Answer only these top-level fields of each record, comma-separated, in the answer's order whatever "
        "the order asked (e.g. `fields=id,title`); an unknown one is 400 (`unknown-field`). Without it, the "
        f"whole record. The fields: {', '.join(f'`{name}`' for name in valid)}."
    )
    text = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^({one})(,({one}))*$"})]

    async def parse(fields: Annotated[text | None, Query(description=described)] = None) -> Selection | None:
        if fields is None:
            return None
        asked = fields.split(",")
        unknown = [name for name in dict.fromkeys(asked) if name not in known]
        if unknown:
            listed = ", ".join(f"`{name}`" for name in valid)
            named = ", ".join(f"`{name}`" for name in unknown) if any(unknown) else "an empty name"
            raise UnknownField(
                f"`fields` names {named}, not a field of the record; the fields are: {listed}.",
                errors=[error_entry(["query", "fields"], f"Unknown field {n!r}.", "unknown_field") for n in unknown],
                extensions={"accepted": list(valid)},
            )
        wanted = set(asked)
        return Selection(tuple(name for name in valid if name in wanted))

    return parse
