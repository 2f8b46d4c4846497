"""The world's land as one SVG path, from Natural Earth's 1:110m land polygons as the
world-atlas package ships them (TopoJSON, vendored under ``world/`` with its licence), in an
equirectangular projection: longitude and latitude map straight onto x and y, which is
enough for placing exercises on a map and needs no projection library."""

from functools import cache
from pathlib import Path

import orjson

WORLD = Path(__file__).parent / "world" / "land-110m.json"
"""The outline, vendored with its licence (see ``world/README.md``)."""
WIDTH, HEIGHT = 960, 480
"""The map's size in SVG units: 360° by 180°, so a degree is 2.67 units either way."""


def project(longitude: float, latitude: float) -> tuple[float, float]:
    return round((longitude + 180) * WIDTH / 360, 1), round((90 - latitude) * HEIGHT / 180, 1)


@cache
def land_path() -> str:
    """The ``d`` of a path drawing every land polygon (decoded once per process)."""
    topology = orjson.loads(WORLD.read_bytes())
    (scale_x, scale_y), (shift_x, shift_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:  # delta-encoded, quantized positions
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append(project(x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    rings = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            rings += [_ring(ring, arcs) for ring in polygon]
    return " ".join(rings)


def _ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> str:
    """One closed ring as path commands; a negative index is the arc ``~i`` reversed, and
    each arc after the first starts where the last ended. A ring that crosses the 180th
    meridian (Chukotka, Fiji) is lifted at the crossing rather than drawn across the map."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points += arc if not points else arc[1:]
    commands = [f"M{points[0][0]},{points[0][1]}"]
    for (x0, _), (x, y) in zip(points, points[1:], strict=False):
        commands.append(f"{'M' if abs(x - x0) > WIDTH / 2 else 'L'}{x},{y}")
    return "".join(commands) + "Z"
