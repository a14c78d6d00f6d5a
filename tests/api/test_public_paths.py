"""Issue 8 (minor): with `public_path_base`, the API shows file paths relative to it (a file outside
by its name only) in results, items and errors, and takes relative path_prefix filters in it."""

from __future__ import annotations

from pathlib import Path


def search(client, **body) -> list[dict]:
    response = client.post("/search", json={"text": "red", "k": 50, "modality": ["image"], **body})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_paths_are_absolute_by_default(serve, rich_corpus: Path) -> None:
    paths = {hit["path"] for hit in search(serve())}
    assert str(rich_corpus / "img" / "red.png") in paths


def test_paths_under_the_base_are_relative_and_filters_take_them(serve, rich_corpus: Path) -> None:
    client = serve(public_path_base=rich_corpus)
    hits = search(client)
    assert {"img/red.png", "img/green.jpg", "img/blue.bmp"} <= {hit["path"] for hit in hits}
    assert not any(str(rich_corpus) in (hit["path"] or "") for hit in hits)
    red = next(hit for hit in hits if hit["path"] == "img/red.png")
    assert client.get(f"/items/{red['id']}").json()["path"] == "img/red.png"
    filtered = search(client, filters={"path_prefix": "img/g"})
    assert [hit["path"] for hit in filtered] == ["img/green.jpg"]
    absolute = search(client, filters={"path_prefix": str(rich_corpus / "img" / "g")})
    assert [hit["path"] for hit in absolute] == ["img/green.jpg"]

    (rich_corpus / "img" / "red.png").unlink()  # an error names the file the same way
    response = client.get(f"/items/{red['id']}/media")
    assert response.status_code == 404 and "img/red.png" in response.text and str(rich_corpus) not in response.text


def test_files_outside_the_base_show_their_name_only(serve, rich_corpus: Path, tmp_path: Path) -> None:
    hits = search(serve(public_path_base=tmp_path / "elsewhere"))
    assert "red.png" in {hit["path"] for hit in hits}
    assert all("/" not in hit["path"] for hit in hits if hit["path"])
