"""The HTML pages, rendered on the server, over the October 2021 sequence: what each shows
matches what the API answers, with the same visibility for the same key; the key cookie
serves the pages and never the API."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from app.access.models import KeyScope
from app.pages.routes import COOKIE
from tests.conftest import keyed_client, make, new_key

WITHDRAWAL = "eln:2021-10:nato-accreditation-withdrawal"
RUSSIAS_ANSWERS = {
    "eln:2021-10-18:russia-suspends-mission",
    "eln:2021-10-18:russia-suspends-military-liaison-mission",
    "eln:2021-10-18:russia-closes-information-office",
}


def html(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response


def attributes(text, name):
    return re.findall(rf'{name}="([^"]*)"', text)


def test_every_page_sets_a_policy_that_allows_no_script(anonymous, october_2021):
    withdrawal = october_2021[WITHDRAWAL]
    paths = ["/", "/incidents", f"/incidents/{withdrawal['id']}", "/dyads/nato/russia", "/actors/nato", "/stats"]
    for path in [*paths, "/exercises"]:
        response = html(anonymous, path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
        assert "<script" not in response.text and " style=" not in response.text, path
        assert response.headers["cache-control"] == "no-store"


def test_home_counts_every_collection_and_lists_the_latest_incidents(anonymous, october_2021):
    text = html(anonymous, "/").text
    for collection in ("incidents", "actors", "exercises", "channels", "sources"):
        listed = anonymous.get(f"/v1/{collection}", params={"limit": 500}).json()["data"]
        assert f'data-collection="{collection}">{len(listed)}<' in text
    assert 'href="/incidents?kind=office_closure">office closure</a> <span class="num">1</span>' in text
    latest = anonymous.get("/v1/incidents", params={"limit": 10}).json()["data"]
    assert attributes(text, "href") and [i["id"] for i in latest] == re.findall(r'href="/incidents/([^"]+)"', text)
    assert 'href="/docs"' in text and 'action="/incidents"' in text and 'action="/dyads"' in text


def test_the_incidents_table_walks_the_apis_cursors(anonymous, october_2021):
    first = html(anonymous, "/incidents?limit=2").text
    api_first = anonymous.get("/v1/incidents?limit=2").json()
    assert re.findall(r'<td><a href="/incidents/([^"]+)"', first) == [i["id"] for i in api_first["data"]]
    cursor = parse_qs(urlsplit(re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")).query)
    assert cursor["cursor"] == [api_first["next_cursor"]]
    second = html(anonymous, f"/incidents?limit=2&cursor={api_first['next_cursor']}").text
    api_second = anonymous.get(f"/v1/incidents?limit=2&cursor={api_first['next_cursor']}").json()["data"]
    assert re.findall(r'<td><a href="/incidents/([^"]+)"', second) == [i["id"] for i in api_second]
    assert f'href="/v1/incidents?limit=2&amp;cursor={api_first["next_cursor"]}"' in second


def test_filters_and_facets_of_the_incidents_table(anonymous, october_2021):
    text = html(anonymous, "/incidents?actor=russia&kind=office_closure").text
    assert re.findall(r'<td><a href="/incidents/([^"]+)"', text) == [
        october_2021["eln:2021-10-18:russia-closes-information-office"]["id"]
    ]
    assert 'href="/v1/incidents?format=csv' not in text and "format=csv" in text
    facets = html(anonymous, "/incidents?actor=russia").text
    assert 'href="/incidents?actor=russia&amp;kind=expulsion"' not in facets  # no expulsion recorded
    assert '<a href="/incidents?actor=russia&amp;kind=office_closure">office closure</a>' in facets
    assert '<a href="/incidents?actor=russia&amp;from=2021-01-01&amp;to=2021-12-31">2021</a>' in facets
    assert '<a href="/incidents?actor=russia&amp;initiator=sergey-lavrov">sergey-lavrov</a>' in facets
    stats = anonymous.get("/v1/stats/incidents?group_by=year&actor=russia").json()["data"]
    for row in stats:
        assert f'{row["year"]}</a> <span class="num">{row["count"]}</span>' in facets


def test_the_incident_page_draws_the_chain_in_layers_with_the_incident_highlighted(anonymous, october_2021):
    withdrawal = october_2021[WITHDRAWAL]
    text = html(anonymous, f"/incidents/{withdrawal['id']}").text
    chain = anonymous.get(f"/v1/incidents/{withdrawal['id']}/chain").json()["data"]
    nodes = dict(re.findall(r'class="node[^"]*" data-depth="(\d+)" data-id="([^"]+)"', text))
    drawn = {node_id: int(depth) for depth, node_id in re.findall(r'data-depth="(\d+)" data-id="([^"]+)"', text)}
    assert drawn == {i["id"]: i["depth"] for i in chain} and nodes
    by_ref = {i["id"]: ref for ref, i in october_2021.items()}
    assert {by_ref[i] for i, depth in drawn.items() if depth == 1} == RUSSIAS_ANSWERS
    assert re.findall(r'class="node current" data-depth="\d+" data-id="([^"]+)"', text) == [withdrawal["id"]]
    assert text.count('class="edge"') == sum(len(i["responds_to"]) for i in chain)
    assert f'href="/v1/incidents/{withdrawal["id"]}/chain"' in text
    assert "Network reflections" in text and 'href="https://www.europeanleadershipnetwork.org/' in text


@pytest.mark.parametrize(("day", "open_channels"), [("2021-10-20", 4), ("2021-11-15", 1)])
def test_the_dyad_page_shows_the_channels_open_on_the_date(anonymous, october_2021, day, open_channels):
    text = html(anonymous, f"/dyads/nato/russia?as_of={day}").text
    api = anonymous.get(f"/v1/dyads/nato/russia?as_of={day}").json()
    assert sum(c["status"] in ("active", "restricted") for c in api["channels"]) == open_channels
    assert f'data-open-channels="{open_channels}"' in text
    bands = re.findall(r'<g class="band" data-channel="([^"]+)" data-status="([^"]+)"', text)
    assert [(unescape(name), status) for name, status in bands] == [(c["name"], c["status"]) for c in api["channels"]]
    assert 'class="as-of-label"' in text and f">{day}</text>" in text
    assert 'class="st-label"' in text  # statuses are written, not only coloured
    assert f'href="/v1/dyads/nato/russia?as_of={day}&amp;window_days=90"' in text


def test_the_dyad_page_counts_incidents_each_way_by_month(anonymous, october_2021):
    text = html(anonymous, "/dyads/nato/russia?as_of=2021-10-20").text
    counts = [int(n) for n in attributes(text, "data-count")]
    api = anonymous.get("/v1/dyads/nato/russia?as_of=2021-10-20").json()["incident_counts"]
    assert sum(counts) == sum(api["a_to_b"].values()) + sum(api["b_to_a"].values()) == 5
    assert anonymous.get("/dyads?a=nato&b=russia&as_of=2021-10-20", follow_redirects=False).headers["location"] == (
        "/dyads/nato/russia?as_of=2021-10-20"
    )
    assert html(anonymous, "/dyads/nato/nobody", 404)
    assert "A dyad needs two different actors." in html(anonymous, "/dyads/nato/nato", 422).text


def test_the_actor_page_holds_its_record_and_timeline(anonymous, october_2021):
    text = html(anonymous, "/actors/russia").text
    api = anonymous.get("/v1/timeline?actor=russia").json()["data"]
    assert re.findall(r'<tr id="entry-([^"]+)"', text) == [e["id"] for e in api]
    assert [t for t in attributes(text, "data-type")] == [e["type"] for e in api]
    assert "Q159" in text and "Russian Federation" in text
    assert 'href="/v1/timeline?actor=russia"' in text


@pytest.mark.parametrize("group_by", ["kind,month", "initiator,year", "kind"])
def test_the_stats_page_stacks_the_apis_counts(anonymous, october_2021, group_by):
    query = f"group_by={group_by}&from=2021-01-01&to=2021-12-31"
    text = html(anonymous, f"/stats?{query}").text
    api = anonymous.get(f"/v1/stats/incidents?{query}").json()["data"]
    assert sum(int(n) for n in attributes(text, "data-count")) == sum(r["count"] for r in api) > 0
    along = "month" if "month" in group_by else "year" if "year" in group_by else "kind"
    totals = {}
    for row in api:
        totals[row[along]] = totals.get(row[along], 0) + row["count"]
    assert dict(re.findall(r'data-label="([^"]+)" data-total="(\d+)"', text)) == {k: str(n) for k, n in totals.items()}
    if "," in group_by:  # the table crosses the two keys: a row for each bar, a column for each series
        across = next(k for k in group_by.split(",") if k != along)
        table = text.split('<table class="crossed">')[1].split("</table>")[0]
        heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
        assert heads[0] == along and heads[-1] == "all"
        cells = {}
        for label, row in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table):
            counts = re.findall(r"<td>(\d*)</td>", row)
            assert int(counts[-1]) == totals[label]
            cells |= {(label, h): int(n) for h, n in zip(heads[1:-1], counts[:-1], strict=True) if n}
        assert cells == {(r[along], str(r[across]).replace("_", " ")): r["count"] for r in api if r["count"]}
    assert html(anonymous, "/stats?group_by=kind,kind", 422)


def test_record_text_is_escaped(client, anonymous, nato_russia):
    title = '<script>alert("x")</script> & <b>bold</b>'
    incident = make(
        client,
        "incidents",
        kind="expulsion",
        title=title,
        occurred_on="2021-10-01",
        initiators=["nato"],
        targets=["russia"],
    )
    for path in ("/", "/incidents", f"/incidents/{incident['id']}", "/actors/nato", "/dyads/nato/russia"):
        text = html(anonymous, path).text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text, path
        assert "<script" not in text and "<b>" not in text, path


def test_refusals_are_pages(anonymous, october_2021):
    assert "Not found" in html(anonymous, "/incidents/nope", 404).text
    assert "Invalid parameters" in html(anonymous, "/incidents?kind=nonsense", 422).text
    assert html(anonymous, "/incidents?cursor=made-up", 400)


def test_drafts_appear_as_to_the_same_key_on_the_api(client, anonymous, writer, app, nato_russia):
    draft = make(
        client,
        "incidents",
        kind="expulsion",
        title="A draft expulsion",
        occurred_on="2021-10-01",
        initiators=["nato"],
        targets=["russia"],
        status="draft",
    )
    assert "A draft expulsion" not in html(anonymous, "/incidents").text
    html(anonymous, f"/incidents/{draft['id']}", 404)
    assert "A draft expulsion" in html(writer, "/incidents").text
    assert "A draft expulsion" in html(writer, f"/incidents/{draft['id']}").text
    with keyed_client(app, None) as browser:
        browser.post("/key", data={"key": new_key(app, KeyScope.write), "next": "/incidents"})
        assert "A draft expulsion" in html(browser, "/incidents").text
        assert draft["id"] not in browser.get("/v1/incidents").text  # the cookie is no key to the API
    with keyed_client(app, None) as browser:
        browser.post("/key", data={"key": new_key(app, KeyScope.read), "next": "/"})
        assert "A draft expulsion" not in html(browser, "/incidents").text


def test_without_anonymous_reads_a_page_asks_for_a_key_kept_for_the_pages_only(app_with, app, october_2021):
    private = app_with(public_read=False, rate_limit="1000000/minute")
    with keyed_client(private, None) as browser:
        asked = html(browser, "/incidents?kind=office_closure", 401).text
        assert 'action="/key"' in asked and 'name="next" value="/incidents?kind=office_closure"' in asked
        refused = browser.post("/key", data={"key": "dmk_0123456789abcdef_" + "x" * 43, "next": "/"})
        assert refused.status_code == 401 and "unknown or revoked" in refused.text
        assert COOKIE not in browser.cookies

        secret = new_key(private, KeyScope.read)
        given = browser.post(
            "/key", data={"key": secret, "next": "/incidents?kind=office_closure"}, follow_redirects=False
        )
        assert given.status_code == 303 and given.headers["location"] == "/incidents?kind=office_closure"
        cookie = given.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/" in cookie
        assert "Russia terminates the work" in html(browser, "/incidents?kind=office_closure").text
        with keyed_client(private, KeyScope.admin) as admin:
            (used,) = [k for k in admin.get("/v1/keys").json()["data"] if secret.split("_")[1] == k["id"]]
        assert used["last_used_at"] is not None
        for path in ("/v1/incidents", "/v1/dyads/nato/russia", "/v1/stats/incidents"):
            refused = browser.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["content-type"] == "application/problem+json"
        written = browser.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "state"})
        assert written.status_code == 401

        forgotten = browser.post("/key/forget")
        assert forgotten.status_code == 200 and COOKIE not in browser.cookies
        html(browser, "/", 401)


def test_the_key_form_returns_only_to_this_server(app_with, october_2021):
    private = app_with(public_read=False, rate_limit="1000000/minute")
    with keyed_client(private, None) as browser:
        secret = new_key(private, KeyScope.read)
        for elsewhere in ("https://example.org/", "//example.org/"):
            given = browser.post("/key", data={"key": secret, "next": elsewhere}, follow_redirects=False)
            assert given.headers["location"] in ("/", "/example.org/"), elsewhere
        revoked = new_key(private, KeyScope.read)
        browser.post("/key", data={"key": revoked, "next": "/"})
        key_id = revoked.split("_")[1]
        with keyed_client(private, KeyScope.admin) as admin:
            assert admin.delete(f"/v1/keys/{key_id}").status_code == 204
        assert "unknown or revoked" in html(browser, "/", 401).text


def test_the_exercises_table_and_map(anonymous, october_2021):
    text = html(anonymous, "/exercises?limit=2").text
    api = anonymous.get("/v1/exercises?limit=2").json()
    assert re.findall(r'<tr id="exercise-([^"]+)"', text) == [e["id"] for e in api["data"]]
    assert f"cursor={api['next_cursor']}" in text
    every = anonymous.get("/v1/exercises?limit=500").json()["data"]
    located = [e for e in every if e["latitude"] is not None]
    assert [e["name"] for e in located] == ["Joint Sea 2021"]
    text = html(anonymous, "/exercises").text
    assert attributes(text, "data-id") == [e["id"] for e in located]
    # longitude 132.2 and latitude 42.9 on a 960 by 480 plate carrée
    assert 'cx="832.5" cy="125.6"' in text
    assert 'href="/v1/exercises?format=geojson"' in text
    land = anonymous.get("/maps/land.svg")
    assert land.status_code == 200 and land.headers["content-type"].startswith("image/svg+xml")
    assert land.text.startswith("<svg") and land.text.count("M") > 100


def test_the_exercises_rows_escape_their_text_and_badge_drafts_for_writers(client, anonymous, writer, nato_russia):
    name = '<script>alert("x")</script> & <b>drill</b>'
    draft = make(
        client,
        "exercises",
        name=name,
        start_date="2021-10-01",
        end_date="2021-10-09",
        domains=["sea", "air"],
        location="Black <Sea>",
        latitude=43.0,
        longitude=34.0,
        participants=[{"actor": "russia", "role": "host"}, {"actor": "china"}],
        status="draft",
    )
    assert f'id="exercise-{draft["id"]}"' not in html(anonymous, "/exercises").text
    text = html(writer, "/exercises").text
    row = text[text.index(f'<tr id="exercise-{draft["id"]}">') :].split("</tr>", 1)[0]
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;drill&lt;/b&gt;"
    assert f'<strong>{escaped}</strong> <span class="badge draft">draft</span>' in row
    assert '<span class="note">sea, air</span>' in row
    assert '<a href="/actors/russia">Russia</a> (host), <a href="/actors/china">China</a> (participant)' in row
    assert f'Black &lt;Sea&gt; <a href="#mark-{draft["id"]}">on the map</a>' in row
    assert "<td" in row and "2021-10-09" in row
    mark = text[text.index(f'id="mark-{draft["id"]}"') :].split("</a>", 1)[0]
    assert f"<title>{escaped} (43.0, 34.0)</title>" in mark and "<script" not in text


def test_the_home_pages_counts_follow_every_write(anonymous, writer, client, nato_russia):
    def counted(browser):
        text = html(browser, "/").text
        return {c: int(n) for c, n in re.findall(r'data-collection="(\w+)">(\d+)<', text)}

    before = counted(anonymous)
    assert before == {"incidents": 0, "actors": 3, "exercises": 0, "channels": 0, "sources": 0}
    make(client, "actors", slug="eu", name="EU", kind="organization")
    exercise = {"start_date": "2021-10-01", "participants": [{"actor": "nato"}]}
    make(client, "exercises", name="Public drill", **exercise)
    make(client, "exercises", name="Draft drill", status="draft", **exercise)
    assert counted(anonymous) == before | {"actors": 4, "exercises": 1}
    assert counted(writer)["exercises"] == 2  # drafts count for keys that may read them
    assert client.delete(f"/v1/actors/{nato_russia['china']['id']}").status_code == 204
    assert counted(anonymous)["actors"] == 3


def test_the_dyad_pages_monthly_counts_are_the_apis_incidents_each_way(anonymous, client, nato_russia):
    """Each direction's bars hold the incidents the list API finds between the two in the
    whole months drawn (from the month a year before the date to the month half a year
    after), by month and kind."""
    dates = ["2021-01-15", "2021-03-02", "2021-03-20", "2021-10-05", "2022-02-01", "2022-06-01", "2020-06-01"]
    dates += ["2020-10-02", "2022-04-30"]  # a year before 2021-10-20 is 2020-10-20; half a year after, 2022-04-20
    for n, day in enumerate(dates):
        kind = ("expulsion", "ambassador_summons")[n % 2]
        make(client, "incidents", kind=kind, title=f"N{n}", occurred_on=day, initiators=["nato"], targets=["russia"])
    for n, day in enumerate(dates[:3]):
        make(
            client,
            "incidents",
            kind="expulsion",
            title=f"R{n}",
            occurred_on=day,
            initiators=["russia"],
            targets=["nato"],
        )
        make(
            client,
            "incidents",
            kind="expulsion",
            title=f"C{n}",
            occurred_on=day,
            initiators=["russia"],
            targets=["china"],
        )
    text = html(anonymous, "/dyads/nato/russia?as_of=2021-10-20").text
    drawn = {}
    for chart in text.split("<h3>")[1:]:
        direction = unescape(chart.split("</h3>")[0])
        legend = {css: kind for kind, css in re.findall(r'<li data-series="([^"]+)"><span class="swatch (\w+)"', chart)}
        for label, bar in re.findall(r'<g class="bar" data-label="([^"]+)"[^>]*>(.*?)</g>', chart, re.S):
            for css, n in re.findall(r'<rect class="(\w+)"[^>]* data-count="(\d+)"', bar):
                drawn[(direction, label, legend[css])] = int(n)
    expected = {}
    for initiator, target, label in (("nato", "russia", "NATO → Russia"), ("russia", "nato", "Russia → NATO")):
        query = {"initiator": initiator, "target": target, "from": "2020-10-01", "to": "2022-04-30", "limit": 500}
        for incident in anonymous.get("/v1/incidents", params=query).json()["data"]:
            key = (label, incident["occurred_on"][:7], incident["kind"])
            expected[key] = expected.get(key, 0) + 1
    assert drawn == expected and sum(expected.values()) == 10
