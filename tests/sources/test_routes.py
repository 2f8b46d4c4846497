from tests.conftest import make


def test_source_crud_and_filters(client):
    eln = make(
        client,
        "sources",
        url="https://eln.example/a",
        title="Network reflections",
        publisher="ELN",
        authors=["Andrey Kortunov"],
        published_on="2021-10-18",
        kind="analysis",
    )
    make(client, "sources", url="https://news.example/b", title="Lavrov speaks", publisher="Agency")
    assert client.post("/v1/sources", json={"url": "https://eln.example/a", "title": "Again"}).status_code == 409
    titles = lambda q: [s["title"] for s in client.get(f"/v1/sources?{q}").json()["data"]]  # noqa: E731
    assert titles("publisher=ELN") == ["Network reflections"]
    assert titles("q=kortunov") == ["Network reflections"]
    assert titles("q=LAVROV") == ["Lavrov speaks"]
    assert titles("sort=title") == ["Lavrov speaks", "Network reflections"]
    patched = client.patch(f"/v1/sources/{eln['id']}", json={"publisher": None})
    assert patched.json()["publisher"] is None and patched.json()["version"] == 2
    assert client.patch(f"/v1/sources/{eln['id']}", json={"url": "https://news.example/b"}).status_code == 409
    assert client.delete(f"/v1/sources/{eln['id']}").status_code == 204
    assert client.get(f"/v1/sources/{eln['id']}").status_code == 404
    assert titles("") == ["Lavrov speaks"]
