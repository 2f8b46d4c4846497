"""The base of every model in :mod:`demarche_client.models`, and how records go to and from
JSON.

The models are plain dataclasses generated from the API's OpenAPI document. Reading turns an
answer's JSON into them (dates and date-times parsed, nested records as models, keys the model
does not know ignored, so that a newer server's additions break nothing); writing turns a model
(or a plain dict) back into JSON.
"""

import dataclasses
import datetime
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

R = TypeVar("R", bound="Record")

RESERVED = frozenset({"etag", "replayed", "from_dict", "to_dict"})
"""What :class:`Record` defines: no field of a model may take these names (the generator checks)."""


class Record:
    """A record of the API, as one of the models of :mod:`demarche_client.models`.

    Beside its fields, a record the client read or wrote says how it was answered:

    - ``etag``: the ``ETag`` the server sent with it (``None`` for the records of a page or a
      view, which come without one). Pass the record as ``if_match=`` to write only if it has
      not changed since; the client sends this tag, or one made from ``version``.
    - ``replayed``: ``True`` when the answer was a replay (``Idempotent-Replayed: true``): an
      earlier request with the same ``Idempotency-Key`` did the write, and this one wrote nothing.
    """

    @property
    def etag(self) -> str | None:
        return self.__dict__.get("_etag")

    @property
    def replayed(self) -> bool:
        return self.__dict__.get("_replayed", False)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """The record that ``data`` (a JSON object as the API answers it) holds."""
        return decode(cls, data)

    def to_dict(self, *, omit_defaults: bool = False) -> dict[str, Any]:
        """The record as JSON values (dates as ISO 8601 strings); with ``omit_defaults``,
        without the fields left at their default, as the client sends a model it writes."""
        return to_json(self, omit_defaults=omit_defaults)


def decode(kind: Any, value: Any) -> Any:
    """``value`` (parsed JSON) as the type ``kind`` of a model's field."""
    if value is None or kind is Any:
        return value
    origin = typing.get_origin(kind)
    if origin is Literal:
        return value
    if origin is Union or origin is types.UnionType:
        return _decode_union([option for option in typing.get_args(kind) if option is not type(None)], value)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(kind) or (Any,)
        return [decode(item, v) for v in value]
    if origin is dict and isinstance(value, dict):
        _, item = typing.get_args(kind) or (str, Any)
        return {k: decode(item, v) for k, v in value.items()}
    if isinstance(kind, type):
        if issubclass(kind, Record) and isinstance(value, Mapping):
            return _decode_record(kind, value)
        if kind is datetime.datetime and isinstance(value, str):
            return datetime.datetime.fromisoformat(value)
        if kind is datetime.date and isinstance(value, str):
            return datetime.date.fromisoformat(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    return value


def _decode_union(options: list[Any], value: Any) -> Any:
    """The first option that ``value`` fits: a model whose required fields it holds (a
    record before the model of some of its fields), else the first other option."""
    if isinstance(value, Mapping):
        models = [option for option in options if isinstance(option, type) and issubclass(option, Record)]
        for model in models:
            if _required(model) <= value.keys():
                return _decode_record(model, value)
    for option in options:
        if not (isinstance(option, type) and issubclass(option, Record)):
            return decode(option, value)
    return value


def _decode_record(model: type[R], data: Mapping[str, Any]) -> R:
    hints = _hints(model)
    return model(**{name: decode(hints[name], value) for name, value in data.items() if name in hints})


_HINTS: dict[type, dict[str, Any]] = {}
_REQUIRED: dict[type, frozenset[str]] = {}


def _hints(model: type) -> dict[str, Any]:
    """The resolved type of each field of ``model`` that its constructor takes."""
    if model not in _HINTS:
        hints = typing.get_type_hints(model)
        _HINTS[model] = {field.name: hints[field.name] for field in dataclasses.fields(model) if field.init}
    return _HINTS[model]


def _required(model: type) -> frozenset[str]:
    """The fields of ``model`` without a default."""
    if model not in _REQUIRED:
        _REQUIRED[model] = frozenset(
            field.name
            for field in dataclasses.fields(model)
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
    return _REQUIRED[model]


def to_json(value: Any, *, omit_defaults: bool = False) -> Any:
    """``value`` (a model, or dicts and lists that may hold models and dates) as JSON values."""
    if isinstance(value, Record) and dataclasses.is_dataclass(value):
        fields = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if omit_defaults and field.default is not dataclasses.MISSING and item == field.default:
                continue
            fields[field.name] = to_json(item, omit_defaults=omit_defaults)
        return fields
    if isinstance(value, datetime.date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: to_json(item, omit_defaults=omit_defaults) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item, omit_defaults=omit_defaults) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """A body to send: ``value`` as compact UTF-8 JSON, a model without its defaults."""
    return json.dumps(
        to_json(value, omit_defaults=True), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()
