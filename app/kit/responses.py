"""JSON answers rendered with orjson: dates as ISO 8601, timestamps as UTC with ``Z``."""

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSON

ORJSON_OPTIONS = orjson.OPT_UTC_Z


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=ORJSON_OPTIONS)


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        return dumps(content)


def created(record: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(record, status_code=201, headers={"Location": location})
