"""The geometry of the pages' charts, computed in Python and drawn as SVG by the templates.

Charts are server-side SVG rather than a JavaScript library: the page needs no script (so
its Content-Security-Policy allows none), works offline, costs a few kilobytes, and every
mark is an element a screen reader and a test can read (each carries its number or status
as text, and a ``<title>``). Colours come from classes in ``static/pages.css``; nothing
here writes a ``style`` attribute, which the policy would refuse.

Most functions answer plain dictionaries and lists in SVG user units, which the templates
place. Bars are drawn here, as one string: a chart of monthly counts over decades holds
thousands of marks, and a template spends tens of microseconds on each.
"""

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup, escape

LABEL_WIDTH = 220
"""Room at the left of time charts for the names of their rows."""
PLOT_WIDTH = 760
VALUE_WIDTH = 24
"""The narrowest step between bars that holds a total of three digits (``svg .value``)."""
SERIES_CLASSES = 12
"""Distinct fills in the stylesheet (``s0`` … ``s11``); more series reuse them, with labels."""


def series_class(index: int) -> str:
    return f"s{index % SERIES_CLASSES}"


class TimeAxis:
    """Dates from ``start`` to ``end`` mapped onto ``[left, left + width]``."""

    def __init__(self, start: date, end: date, left: float = LABEL_WIDTH, width: float = PLOT_WIDTH) -> None:
        self.start, self.end = start, max(end, start + timedelta(days=1))
        self.left, self.width = left, width

    def x(self, day: date) -> float:
        day = min(max(day, self.start), self.end)
        return round(self.left + self.width * (day - self.start).days / (self.end - self.start).days, 1)

    def ticks(self) -> list[dict[str, Any]]:
        """First days of months (or of years, over a long span), as ``{x, label}``."""
        span_months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        step = next((s for s in (1, 3, 12, 60) if span_months <= s * 14), 120)
        return [
            {"x": self.x(day), "label": day.strftime("%b %Y") if step < 12 else str(day.year)}
            for day in months(self.start, self.end)
            if day >= self.start and (day.year * 12 + day.month - 1) % step == 0
        ]


def months(start: date, end: date) -> list[date]:
    """The first day of every month from ``start``'s to ``end``'s."""
    days, day = [], date(start.year, start.month, 1)
    while day <= end:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return days


def chain_graph(chain: Sequence[Mapping[str, Any]], current: str) -> dict[str, Any]:
    """A retaliation chain as layers: one column per depth, left to right, each incident a
    box (its date, kind and title wrapped on two lines) and each answer an arrow from the
    incident answered to the answer."""
    box_w, box_h, gap_x, gap_y, pad = 260, 66, 70, 18, 10
    layers: dict[int, list[Mapping[str, Any]]] = {}
    for incident in chain:
        layers.setdefault(incident["depth"], []).append(incident)
    tallest = max((len(layer) for layer in layers.values()), default=1)
    height = pad * 2 + tallest * box_h + (tallest - 1) * gap_y
    nodes: dict[str, dict[str, Any]] = {}
    for depth, layer in sorted(layers.items()):
        top = pad + (height - 2 * pad - len(layer) * box_h - (len(layer) - 1) * gap_y) / 2
        for row, incident in enumerate(layer):
            lines = textwrap.wrap(incident["title"], 36, max_lines=2, placeholder=" …")
            nodes[incident["id"]] = {
                "incident": incident,
                "x": pad + depth * (box_w + gap_x),
                "y": top + row * (box_h + gap_y),
                "w": box_w,
                "h": box_h,
                "lines": lines,
                "current": incident["id"] == current,
            }
    edges = []
    for node in nodes.values():
        for answered in node["incident"]["responds_to"]:
            source = nodes.get(answered["id"])
            if source is not None:
                edges.append(
                    {
                        "x1": source["x"] + box_w,
                        "y1": source["y"] + box_h / 2,
                        "x2": node["x"] - 6,
                        "y2": node["y"] + box_h / 2,
                        "title": f"{node['incident']['title']} answers {source['incident']['title']}",
                    }
                )
    width = pad * 2 + (max(layers, default=0) + 1) * box_w + max(layers, default=0) * gap_x
    return {"width": width, "height": height, "nodes": list(nodes.values()), "edges": edges, "depths": sorted(layers)}


def status_bands(channels: Sequence[Mapping[str, Any]], axis: TimeAxis, as_of: date) -> Markup:
    """An SVG chart of one band per channel across ``axis``, cut into the statuses it had:
    ``active`` from ``established_on`` (or from the axis's start when unknown) to its first
    recorded change, then each change's status until the next, with ``as_of`` marked. Each
    segment is labelled with its status when it is wide enough to hold the word, and carries
    it in its ``<title>`` always. Drawn here, as bars are (:func:`stacked_bars`); every text
    is escaped."""
    row_h, gap, top = 30, 8, 28
    height = top + len(channels) * (row_h + gap) + 4
    left, as_of_x, said_day = axis.left, axis.x(as_of), escape(as_of.isoformat())
    out = [
        f'<svg class="bands" viewBox="0 0 {axis.left + axis.width + 20} {height + 24}" role="img" '
        f'aria-label="Status of each channel over time, {said_day} marked">\n'
    ]
    for tick in axis.ticks():
        x, label = tick["x"], escape(tick["label"])
        out.append(
            f'<line class="grid" x1="{x}" x2="{x}" y1="20" y2="{height}"/>\n'
            f'<text class="tick" x="{x}" y="{height + 16}" text-anchor="middle">{label}</text>\n'
        )
    for index, channel in enumerate(channels):
        y = top + index * (row_h + gap)
        name = str(channel["name"])
        label = escape(name if len(name) <= LABEL_CHARS + 5 else name[: LABEL_CHARS - 1] + "…")
        out.append(
            f'<g class="band" data-channel="{escape(name)}" data-status="{escape(channel["status"])}">\n'
            f'<text class="label" x="{left - 8}" y="{y + row_h / 2 + 4}" text-anchor="end">{label}</text>\n'
        )
        established = date.fromisoformat(channel["established_on"]) if channel.get("established_on") else None
        changes = [(date.fromisoformat(c["effective_on"]), c["status"]) for c in channel["status_history"]]
        first = established or (changes[0][0] if changes else axis.start)
        if not changes or changes[0][0] > first:
            changes.insert(0, (first, "active"))
        for n, (since, status) in enumerate(changes):
            until = changes[n + 1][0] if n + 1 < len(changes) else axis.end
            if until < axis.start or since > axis.end or until <= since:
                continue
            x1, x2 = axis.x(since), axis.x(until)
            css, title = escape(status), escape(f"{name}: {status} from {since.isoformat()}")
            out.append(
                f'<rect class="st-{css}" x="{x1}" y="{y}" width="{max(x2 - x1, 1)}" height="{row_h}">'
                f"<title>{title}</title></rect>\n"
            )
            if x2 - x1 >= 8 * len(status):
                out.append(f'<text class="st-label" x="{x1 + 6}" y="{y + row_h / 2 + 4}">{css}</text>\n')
        out.append("</g>\n")
    out.append(
        f'<line class="as-of" x1="{as_of_x}" x2="{as_of_x}" y1="12" y2="{height}"/>\n'
        f'<text class="as-of-label" x="{as_of_x}" y="10" text-anchor="middle">{said_day}</text>\n</svg>'
    )
    return Markup("".join(out))


LABEL_CHARS = 30
"""A band's label: a channel's name, cut to this many characters (an ellipsis last) when it
is longer by more than five."""


def stacked_bars(rows: Iterable[Mapping[str, Any]], x_key: str, stack_key: str | None, caption: str) -> Markup:
    """Counts as an SVG chart of bars, one per value of ``x_key`` in the order first met,
    stacked by ``stack_key`` (the series, in the order first met), with its legend. Bars of 0
    are kept so that the axis stays even. Each bar is a group carrying its label and total
    and saying them in its ``<title>``, each segment a ``rect`` carrying its count and its
    series' class, which the legend names (``data-series``); the table beside the chart says
    each count (:func:`crossed_counts`). A bar's total is written over it when bars are wide
    enough to hold one without meeting the next. Every text is escaped."""
    bars: dict[str, dict[str, int]] = {}
    series: dict[str, None] = {}
    for row in rows:
        name = str(row[stack_key]) if stack_key else "count"
        counts = bars.setdefault(str(row[x_key]), {})
        if n := row["count"]:
            series[name] = None
            counts[name] = counts.get(name, 0) + n
    highest = max((sum(counts.values()) for counts in bars.values()), default=0) or 1
    plot_h, left, top, width = 220, 40, 22, 900
    bottom, right, scale = top + plot_h, left + width, plot_h / highest
    step = width / max(len(bars), 1)
    w, valued, every = round(step * 0.8, 1), step >= VALUE_WIDTH, 1 if len(bars) <= 16 else max(1, len(bars) // 12)
    drawn = {name: (escape(name), escape(name.replace("_", " ")), series_class(n)) for n, name in enumerate(series)}
    out = [
        f'<svg class="chart" viewBox="0 0 {right + 10} {bottom + 60}" role="img" aria-label="{escape(caption)}">\n'
        f"<title>{escape(caption)}</title>\n"
    ]
    for value in _gridlines(highest):
        y = round(bottom - value * scale, 1)
        out.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>\n'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>\n'
        )
    for index, (label, counts) in enumerate(bars.items()):
        x, said, total, y = round(left + index * step + step * 0.1, 1), escape(label), sum(counts.values()), bottom
        out.append(
            f'<g class="bar" data-label="{said}" data-total="{total}" transform="translate({x} 0)">'
            f"<title>{said}: {total}</title>\n"
        )
        for name, (_, _, css) in drawn.items():
            if count := counts.get(name):
                h = scale * count
                y -= h
                out.append(f'<rect class="{css}" y="{y:.1f}" width="{w}" height="{h:.1f}" data-count="{count}"/>\n')
        middle = round(w / 2, 2)  # within the bar, which its group moves to x
        if total and valued:
            out.append(f'<text class="value" x="{middle}" y="{y - 4:.1f}" text-anchor="middle">{total}</text>\n')
        if index % every == 0:
            out.append(
                f'<text class="tick" x="{middle}" y="{bottom + 14}" text-anchor="end" '
                f'transform="rotate(-45 {middle} {bottom + 14})">{said}</text>\n'
            )
        out.append("</g>\n")
    out.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>\n</svg>\n')
    legend = "".join(
        f'<li data-series="{attribute}"><span class="swatch {css}"></span>{spoken}</li>'
        for attribute, spoken, css in drawn.values()
    )
    out.append(f'<ul class="legend">\n{legend}\n</ul>')
    return Markup("".join(out))


def count_rows(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> Markup:
    """The table rows (``<tr>``) of counts beside a chart: a cell per key (``_`` read as a
    space), then the count. Drawn here for the reason bars are (:func:`stacked_bars`)."""
    cells: dict[Any, str] = {}
    out = []
    for row in rows:
        tr = ["<tr>"]
        for key in keys:
            value = row[key]
            if (cell := cells.get(value)) is None:
                cell = cells[value] = f"<td>{escape(str(value).replace('_', ' '))}</td>"
            tr.append(cell)
        tr.append(f'<td class="num">{row["count"]}</td></tr>\n')
        out.append("".join(tr))
    return Markup("".join(out))


def crossed_counts(rows: Iterable[Mapping[str, Any]], along: str, across: str) -> Markup:
    """The counts of two keys as a table (``<thead>`` and ``<tbody>``): a row for each value
    of ``along`` that has incidents, in the order first met, a column for each value of
    ``across`` (``_`` read as a space), in the order first met, and each row's total. Each
    count once, where a row for each pair would repeat both keys: a stacked chart's numbers
    in a fifth of the bytes."""
    table: dict[Any, dict[Any, int]] = {}
    columns: dict[Any, None] = {}
    for row in rows:
        if n := row["count"]:
            columns[row[across]] = None
            counts = table.setdefault(row[along], {})
            counts[row[across]] = counts.get(row[across], 0) + n
    heads = "".join(f'<th scope="col">{escape(str(c).replace("_", " "))}</th>' for c in columns)
    out = [f'<thead><tr><th scope="col">{escape(along)}</th>{heads}<th scope="col">all</th></tr></thead>\n<tbody>\n']
    for value, counts in table.items():
        cells = "".join(f"<td>{counts.get(c, '')}</td>" for c in columns)
        out.append(f'<tr><th scope="row">{escape(str(value))}</th>{cells}<td>{sum(counts.values())}</td></tr>\n')
    out.append("</tbody>")
    return Markup("".join(out))


def _badge(record: Mapping[str, Any]) -> str:
    """The status of a record that is not published (the template macro ``status_badge``)."""
    status = record.get("status")
    return f' <span class="badge {escape(status)}">{escape(status)}</span>' if status and status != "published" else ""


def exercise_rows(exercises: Iterable[Mapping[str, Any]]) -> Markup:
    """The rows (``<tr>``) of the exercises' table: dates, name and status, domains,
    participants linked to their pages, and where (linked to its mark on the map when it has
    coordinates). Drawn here for the reason bars are (:func:`stacked_bars`): a page of them
    holds hundreds of cells and links."""
    out = []
    for e in exercises:
        key = escape(e["id"])
        domains = f'<br><span class="note">{escape(", ".join(e["domains"]))}</span>' if e["domains"] else ""
        participants = ", ".join(
            f'<a href="/actors/{escape(p["actor"]["slug"])}">{escape(p["actor"]["name"])}</a> ({escape(p["role"])})'
            for p in e["participants"]
        )
        where = ", ".join(escape(part) for part in (e["location"], e["region"]) if part)
        if e["latitude"] is not None:
            where += f' <a href="#mark-{key}">on the map</a>'
        out.append(
            f'<tr id="exercise-{key}">\n<td class="nowrap">{escape(e["start_date"])}</td>\n'
            f'<td class="nowrap">{escape(e["end_date"] or "")}</td>\n'
            f"<td><strong>{escape(e['name'])}</strong>{_badge(e)}{domains}</td>\n"
            f"<td>{participants}</td>\n<td>{where}</td>\n</tr>\n"
        )
    return Markup("".join(out))


def map_marks(marks: Iterable[Mapping[str, Any]]) -> Markup:
    """The exercises' marks on the map (``x``, ``y`` in its units), each a link to its row
    with the exercise's name as a label and, with its coordinates, as a title."""
    out = []
    for m in marks:
        e, x, y = m["exercise"], m["x"], m["y"]
        key, name = escape(e["id"]), escape(e["name"])
        out.append(
            f'<a href="#exercise-{key}" id="mark-{key}" class="mark" data-id="{key}">\n'
            f"<title>{name} ({e['latitude']}, {e['longitude']})</title>\n"
            f'<circle cx="{x}" cy="{y}" r="6"/>\n<text x="{x + 9}" y="{y + 4}">{name}</text>\n</a>\n'
        )
    return Markup("".join(out))


def _gridlines(highest: int) -> list[int]:
    step = max(1, -(-highest // 4))
    return list(range(0, highest + 1, step))


def _day(value: date | str) -> date:
    """A date from a row (a ``date``) or from a record's JSON (ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


TIMELINE_SPAN = timedelta(days=730)
"""The longest span a timeline chart draws."""
TIMELINE_LANES = ("incident", "exercise", "channel_status")


def timeline_lanes(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Timeline entries on one time axis, a lane per type: incidents and channel changes
    as marks on their day, exercises as bars from start to end (or a mark while the end is
    unknown)."""
    days = [_day(e["date"]) for e in entries]
    ends = [_day(e["record"]["end_date"]) for e in entries if (e["record"] or {}).get("end_date")]
    newest = max(days + ends, default=date.today())
    # A page of entries may reach back years before a busy season: the axis keeps to the
    # newest span, and older entries sit at its left edge (the table lists them all).
    start = max(min(days, default=newest), newest - TIMELINE_SPAN) - timedelta(days=7)
    axis = TimeAxis(start, newest + timedelta(days=7), left=130, width=820)
    lane_h, top = 44, 30
    marks = []
    for entry, day in zip(entries, days, strict=True):
        lane = TIMELINE_LANES.index(entry["type"])
        end = (entry["record"] or {}).get("end_date") if entry["type"] == "exercise" else None
        x = axis.x(day)
        marks.append(
            {
                "entry": entry,
                "x": x,
                "w": max(axis.x(_day(end)) - x, 4) if end else 0,
                "y": top + lane * lane_h + lane_h / 2,
                "css": entry["type"].replace("_", "-"),
            }
        )
    return {
        "lanes": [{"name": name, "y": top + n * lane_h} for n, name in enumerate(TIMELINE_LANES)],
        "lane_h": lane_h,
        "marks": marks,
        "ticks": axis.ticks(),
        "left": axis.left,
        "width": axis.left + axis.width + 20,
        "height": top + len(TIMELINE_LANES) * lane_h + 4,
        "earlier": sum(day < axis.start for day in days),
    }


def timeline_marks(marks: Iterable[Mapping[str, Any]]) -> Markup:
    """The marks of :func:`timeline_lanes` as SVG: each a link (an incident to its page,
    another entry to its row) titled with its date and title; an exercise with an end a bar,
    a channel change a diamond, any other a dot. Drawn here for the reason bars are
    (:func:`stacked_bars`)."""
    out = []
    for m in marks:
        entry, x, y = m["entry"], m["x"], m["y"]
        key = escape(entry["id"])
        href = f"/incidents/{key}" if entry["type"] == "incident" else f"#entry-{key}"
        if m["w"]:
            shape = f'<rect x="{x}" y="{y - 7}" width="{m["w"]}" height="14" rx="3"/>'
        elif entry["type"] == "channel_status":
            shape = f'<path d="M{x},{y - 8} l8,8 l-8,8 l-8,-8 z"/>'
        else:
            shape = f'<circle cx="{x}" cy="{y}" r="7"/>'
        out.append(
            f'<a href="{href}" class="mark {escape(m["css"])}" data-type="{escape(entry["type"])}">\n'
            f"<title>{escape(entry['date'])}: {escape(entry['title'])}</title>\n{shape}\n</a>\n"
        )
    return Markup("".join(out))


def entry_rows(entries: Iterable[Mapping[str, Any]]) -> Markup:
    """The rows (``<tr>``) of a timeline's table: date, type, title (an incident's linked to
    its page) and its actors linked to theirs."""
    out = []
    for e in entries:
        key, title = escape(e["id"]), escape(e["title"])
        if e["type"] == "incident":
            title = f'<a href="/incidents/{key}">{title}</a>'
        actors = ", ".join(f'<a href="/actors/{escape(a["slug"])}">{escape(a["name"])}</a>' for a in e["actors"])
        out.append(
            f'<tr id="entry-{key}"><td class="nowrap">{escape(e["date"])}</td>'
            f"<td>{escape(e['type'].replace('_', ' '))}</td><td>{title}</td><td>{actors}</td></tr>\n"
        )
    return Markup("".join(out))
