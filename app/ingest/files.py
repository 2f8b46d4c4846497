"""Records read from files: NDJSON, a JSON array, or CSV.

CSV has a header row naming the fields of one record type's create body (the type comes
from a ``type`` column or is given by the caller); it reads back what ``format=csv`` exports.
Cells are flattened the way exports flatten them: lists joined with ``;``, actors by slug,
participants as ``slug:role``, objects as JSON text; a number cell is read as a number. An
empty cell leaves the field out. The columns an export adds and an import cannot set
(``created_at``, ``updated_at``, ``version``, and values the server works out, such as a
channel's ``status``) are skipped; ``id`` is passed on (the server writes the line over the
stored record of that id, if any: see :mod:`app.ingest.exported`); any other unknown column
is an error, as it is in JSON.

A ``.json`` file holds an array of records, or a page of a list as the API answers it
(``{"data": [...], ...}``).
"""

import csv
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from app.ingest.exported import CREATE_MODELS, READ_ONLY

Record = tuple[int, dict[str, Any]]
"""A record and the number of the file line it starts on."""


class FileError(ValueError):
    """A file that cannot be read as records."""


def read_records(path: Path, type_: str | None = None) -> Iterator[Record]:
    """The records of ``path``, by its extension: ``.ndjson``/``.jsonl``, ``.json`` or ``.csv``.
    ``type_`` names the records' type where the file does not (CSV without a ``type`` column;
    NDJSON and JSON lines without ``type``)."""
    suffix = path.suffix.lower()
    if suffix in {".ndjson", ".jsonl"}:
        records = _ndjson(path)
    elif suffix == ".json":
        records = _json_array(path)
    elif suffix == ".csv":
        records = _csv(path, type_)
    else:
        raise FileError(f"{path.name}: expected a .ndjson, .jsonl, .json or .csv file.")
    for number, record in records:
        if type_ and isinstance(record, dict):
            record.setdefault("type", type_)
        yield number, record


def _ndjson(path: Path) -> Iterator[Record]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, _loads(line, path, number)


def _json_array(path: Path) -> Iterator[Record]:
    items = _loads(path.read_bytes(), path, 1)
    if isinstance(items, dict) and isinstance(items.get("data"), list):
        items = items["data"]  # a page of a list
    if not isinstance(items, list):
        raise FileError(f"{path.name}: a .json file must hold an array of records.")
    yield from enumerate(items, start=1)


def _csv(path: Path, type_: str | None) -> Iterator[Record]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        rows = csv.DictReader(file)
        columns = rows.fieldnames or []
        if "type" not in columns and type_ not in CREATE_MODELS:
            raise FileError(f"{path.name}: name the record type with a `type` column or with --type.")
        for row in rows:
            row_type = row.get("type") or type_ or ""
            yield rows.line_num, {"type": row_type, **_cells(row_type, row)}


def _cells(type_: str, row: dict[str, str]) -> dict[str, Any]:
    model = CREATE_MODELS.get(type_)
    if model is None:
        return {}  # the server reports the unknown type
    record: dict[str, Any] = {}
    for column, cell in row.items():
        if column == "type" or not cell:
            continue
        if column == "id":
            record[column] = cell  # names the stored record the line writes over
        elif column in model.model_fields:
            record[column] = _cell(model.model_fields[column].annotation, cell)
        elif column == "channel" and type_ == "channel_status":
            record[column] = cell
        elif column not in READ_ONLY[type_]:
            record[column] = cell  # refused by the server as an unknown field
    return record


def _cell(annotation: Any, cell: str) -> Any:
    """The JSON value of one CSV cell, by the field's type."""
    kind = _unwrap(annotation)
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        items = cell.split(";")
        if isinstance(item, type) and issubclass(item, BaseModel):  # participants: slug:role
            return [dict(zip(("actor", "role"), value.rsplit(":", 1), strict=False)) for value in items]
        return items
    if typing.get_origin(kind) is dict or kind is dict or (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return orjson.loads(cell)  # an object (an actor's codes) is JSON text
    if kind in (int, float):
        return _number(cell)
    return cell


def _number(cell: str) -> int | float | str:
    """A number cell as the JSON number it stands for (left as text when it is none, for the
    server to refuse)."""
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def _unwrap(annotation: Any) -> Any:
    """``X`` of ``X | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _loads(text: bytes, path: Path, number: int) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FileError(f"{path.name}, line {number}: not JSON ({exc}).") from None
