"""POST /search: composite queries, filters, paging, min score, keyword and hybrid modes, upload limits."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import index_into, names, png
from tests.conftest import tone
from xmodal.api import create_app
from xmodal.config import Settings
from xmodal.encoders.batching import BatchingEncoder
from xmodal.engine import Engine


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    """Every query test runs on both databases: SQLite, and PostgreSQL where a server can be started."""
    return Settings(store=tmp_path / "store", batch_size=2, database_url=database_url)


@pytest.fixture
def client(serve):
    return serve()


def test_composite_query_with_a_negative_weight(client) -> None:
    parts = [{"text": "red green", "weight": 1}, {"text": "green", "weight": -1}]
    assert names(client.post("/search", json={"parts": parts, "modality": "image", "k": 1})) == ["red.png"]
    green = client.post("/search", json={"text": "green", "modality": "image", "k": 1}).json()["results"][0]["id"]
    parts = [{"item": green}, {"text": "green", "weight": -1.0}, {"text": "blue", "weight": 1.0}]
    results = client.post("/search", json={"parts": parts, "modality": "image"}).json()["results"]
    assert [r["path"].rsplit("/", 1)[-1] for r in results][:1] == ["blue.bmp"] and green not in [
        r["id"] for r in results
    ]


def test_an_upload_joins_the_parts_of_a_multipart_query(client) -> None:
    query = {"parts": [{"text": "green", "weight": -1}, {"text": "blue"}], "modality": ["image"], "k": 1}
    response = client.post(
        "/search", files={"file": ("q.png", png((0, 250, 0)), "image/png")}, data={"query": json.dumps(query)}
    )
    assert names(response) == ["blue.bmp"]
    negative = json.dumps({"parts": [{"text": "blue", "weight": -1}]})
    response = client.post(
        "/search", files={"file": ("q.png", png((0, 250, 0)), "image/png")}, data={"weight": "-1", "query": negative}
    )
    assert response.status_code == 422 and "positive weight" in response.json()["detail"]


def test_filters_by_path_extension_size_mtime_and_metadata(client, rich_corpus) -> None:
    def found(filters: dict, **extra) -> set[str]:
        return set(names(client.post("/search", json={"text": "red", "k": 50, "filters": filters, **extra})))

    assert found({"path_prefix": str(rich_corpus / "img")}) == {"red.png", "green.jpg", "blue.bmp"}
    assert found({"extension": [".PNG", "jpg"]}) == {"red.png", "green.jpg"}
    assert found({"extension": "wav"}) == {"low.wav"}
    size = (rich_corpus / "txt" / "red.txt").stat().st_size
    assert "red.txt" in found({"max_size": size}) and "red.png" not in found({"max_size": size})
    assert found({"min_mtime": 1_600_000_500, "max_mtime": 1_600_001_500}) == {"green.jpg"}
    assert found({"metadata": {"author": "ann"}}) == {"doc-ann"}
    assert found({"metadata": {"year": 2020}}) == {"doc-ann", "doc-cy"}
    assert found({"metadata": {"draft": False, "year": 2020}}) == {"doc-ann"}
    assert found({"path_prefix": "/no/such/place"}) == set()


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"min_size": 10, "max_size": 1}, "greater than"),
        ({"extension": ["%.png"]}, "letters and digits"),
        ({"metadata": {'a"b': 1}}, "metadata key"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_filters_are_422(client, filters, message) -> None:
    response = client.post("/search", json={"text": "red", "filters": filters})
    assert response.status_code == 422 and message in response.json()["detail"]


def test_offset_pagination_walks_every_result_once(client) -> None:
    everything = client.post("/search", json={"text": "red", "k": 100}).json()
    assert everything["next_offset"] is None
    ids = [r["id"] for r in everything["results"]]
    walked, offset = [], 0
    while offset is not None:
        page = client.post("/search", json={"text": "red", "k": 3, "offset": offset}).json()
        walked += [r["id"] for r in page["results"]]
        offset = page["next_offset"]
    assert walked == ids and len(ids) == 10


def test_min_score_cuts_the_tail(client) -> None:
    results = client.post("/search", json={"text": "red", "min_score": 0.5}).json()["results"]
    assert results and all(r["score"] >= 0.5 for r in results)
    assert len(results) < len(client.post("/search", json={"text": "red"}).json()["results"])


def test_keyword_and_hybrid_modes(client) -> None:
    keyword = client.post("/search", json={"text": "night", "mode": "keyword"}).json()
    assert keyword["mode"] == "keyword" and set(names_of(keyword)) == {"doc-ann", "doc-cy"}
    assert names_of(client.post("/search", json={"text": "barking dog", "mode": "keyword"}).json()) == [
        "doc-ann"
    ]  # stemmed
    parts = [{"text": "night"}, {"text": "city", "weight": -1}]
    assert names_of(client.post("/search", json={"parts": parts, "mode": "keyword"}).json()) == ["doc-ann"]
    hybrid = client.post("/search", json={"text": "night", "mode": "hybrid", "k": 20}).json()
    assert hybrid["mode"] == "hybrid" and set(names_of(hybrid)[:2]) == {"doc-ann", "doc-cy"}
    assert {r["modality"] for r in hybrid["results"]} == {"text", "image", "audio"}
    nothing = client.post("/search", json={"text": "night", "mode": "keyword", "modality": "image"}).json()
    assert nothing["results"] == []


def test_keyword_mode_needs_text(client) -> None:
    response = client.post("/search", json={"item": 1, "mode": "keyword"})
    assert response.status_code == 422 and "needs query text" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"parts": [{"text": "red", "weight": -1}]}, 422, "positive weight"),
        ({"parts": [{"text": "red"}, {"text": "red", "weight": -1}]}, 422, "cancel"),
        ({"parts": [{"text": "red", "weight": 0}]}, 422, "non-zero"),
        ({"parts": [{"text": "red", "item": 1}]}, 422, "exactly one"),
        ({"parts": []}, 422, "parts"),
        ({"text": "red", "parts": [{"text": "x"}]}, 422, "exactly one"),
        ({"item": "99999999999999999999999"}, 404, "no indexed item"),
        ({"item": "²"}, 404, "no indexed item"),
        ({"text": "red", "offset": -1}, 422, "offset"),
        ({"text": "red", "mode": "fuzzy"}, 422, "mode"),
    ],
)
def test_bad_composite_queries(client, body, status, message) -> None:
    response = client.post("/search", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_upload_limits_and_formats(client, tmp_path) -> None:
    long_sound = tone(tmp_path / "long.wav", 440, seconds=3.0).read_bytes()
    response = client.post("/search", files={"file": ("long.wav", long_sound, "audio/wav")})
    assert response.status_code == 422 and "at most 2 s" in response.json()["detail"]
    response = client.post("/search", files={"file": ("empty.png", b"", "image/png")})
    assert response.status_code == 422 and "empty" in response.json()["detail"]
    response = client.post("/search", files={"file": ("x.pdf", b"%PDF-1.4 nonsense", "application/pdf")})
    assert response.status_code == 422 and "JPEG, PNG" in response.json()["detail"]
    response = client.post(
        "/search", content=b'{"text": "' + b"a" * 300_000 + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_an_upload_without_a_length_is_counted_and_cut(client) -> None:
    boundary = "xmodalboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    )

    def chunks():
        yield head.encode()
        for _ in range(40):
            yield b"\0" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/search", content=chunks(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_malformed_multipart_and_fields(client) -> None:
    bad = client.post("/search", content=b"garbage", headers={"content-type": "multipart/form-data; boundary=zz"})
    assert 400 <= bad.status_code < 500
    for data, message in [
        ({"query": "{nope"}, "not valid JSON"),
        ({"query": "[1]"}, "JSON object"),
        ({"weight": "heavy"}, "weight"),
    ]:
        response = client.post("/search", files={"file": ("q.png", png((1, 2, 3)), "image/png")}, data=data)
        assert response.status_code == 422 and message in response.json()["detail"], response.text
    response = client.post("/search", data={"query": json.dumps({"text": "red", "k": 1})}, files={"other": ("a", b"x")})
    assert names(response) in (["red.png"], ["red.txt"])


def names_of(body: dict) -> list[str]:
    return [(r["path"] or r["external_id"]).rsplit("/", 1)[-1] for r in body["results"]]


def test_hybrid_scores_are_fused_ranks_even_without_text(client) -> None:
    response = client.post(
        "/search", files={"file": ("q.png", png((250, 0, 0)), "image/png")}, data={"mode": "hybrid", "k": "3"}
    )
    assert names(response)[0] == "red.png"
    assert response.json()["results"][0]["score"] == pytest.approx(1 / 61, abs=1e-6)


def test_a_server_batches_query_encodes_even_when_the_model_loaded_first(rich_corpus, encoder, settings) -> None:
    """`xmodal serve` loads the model before it builds the app: the app must still batch concurrent encodes."""
    index_into(settings.store, [rich_corpus], encoder, settings)
    engine = Engine.open(settings, encoder=encoder)
    engine.load()
    assert not isinstance(engine.searcher.encoder, BatchingEncoder)
    with TestClient(create_app(settings, engine)) as client:
        assert isinstance(engine.searcher.encoder, BatchingEncoder)
        assert client.post("/search", json={"text": "red", "k": 2}).status_code == 200
        assert engine.searcher.encoder.batches == 1
    engine.close()
