"""The framework floor: a bare FastAPI app answering each case with precomputed bytes.

    BENCH_FLOOR_BODIES=/tmp/bench-a/floor-sqlite .venv/bin/uvicorn bench.floor:app --port 8303

Every file ``NAME.EXT`` in the folder ``BENCH_FLOOR_BODIES`` is served at ``GET /NAME`` as it is,
with the media type of its extension: the same bytes the service answered for that case, so
the difference between the two is what the service does beyond the framework itself.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Response

MEDIA_TYPES = {".json": "application/json", ".ndjson": "application/x-ndjson"}

BODIES = {
    path.stem: (path.read_bytes(), MEDIA_TYPES.get(path.suffix, "application/octet-stream"))
    for path in Path(os.environ.get("BENCH_FLOOR_BODIES", ".")).iterdir()
    if path.is_file()
}

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/{case}")
async def body(case: str) -> Response:
    if case not in BODIES:
        return Response(status_code=404)
    content, media_type = BODIES[case]
    return Response(content, media_type=media_type)
