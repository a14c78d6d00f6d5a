"""Health, metrics, structured logs, request ids, CORS and the web UI's files."""

from __future__ import annotations

import json
import logging

from xmodal.api.observability import JsonFormatter


def test_metrics_report_latency_by_route_and_item_counts(serve) -> None:
    client = serve()
    client.post("/search", json={"text": "red"})
    client.get("/items/1")
    client.get("/items/424242")
    client.get("/openapi.json")
    text = client.get("/metrics").text
    assert 'route="/openapi.json",status="200"' in text
    assert 'xmodal_request_duration_seconds_count{method="POST",route="/search",status="200"} 1.0' in text
    assert 'xmodal_request_duration_seconds_count{method="GET",route="/items/{item_id}",status="404"} 1.0' in text
    assert 'xmodal_items{modality="image",status="indexed"} 3.0' in text
    assert 'xmodal_items{modality="text",status="indexed"} 5.0' in text


def test_each_request_is_one_structured_log_line(serve, caplog) -> None:
    client = serve()
    with caplog.at_level(logging.INFO, logger="xmodal.api"):
        response = client.post("/search", json={"text": "red"}, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    record = next(r for r in caplog.records if getattr(r, "fields", {}).get("event") == "request")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc-123" and line["route"] == "/search" and line["status"] == 200
    assert line["method"] == "POST" and line["duration_ms"] >= 0 and line["level"] == "info"
    assert len(client.get("/health", headers={"X-Request-ID": "bad id!"}).headers["x-request-id"]) == 16


def test_cors_only_for_configured_origins(serve) -> None:
    preflight = {
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    closed = serve()
    assert "access-control-allow-origin" not in closed.options("/search", headers=preflight).headers
    opened = serve(cors_origins=["http://app.example"])
    response = opened.options("/search", headers=preflight)
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "http://app.example"
    other = opened.options("/search", headers={**preflight, "Origin": "http://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "http://evil.example"
    assert (
        opened.get("/health", headers={"Origin": "http://app.example"}).headers["access-control-allow-origin"]
        == "http://app.example"
    )


def test_the_web_ui_is_served_at_the_root(serve) -> None:
    client = serve()
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for needle in (
        '<label for="q"',
        'type="file"',
        'name="modality"',
        'role="status"',
        'role="alert"',
        "/static/app.js",
    ):
        assert needle in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_openapi_documents_both_search_bodies_and_the_key(serve) -> None:
    schema = serve().get("/openapi.json").json()
    search = schema["paths"]["/search"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(search)
    assert {"file", "query", "weight", "mode"} <= set(search["multipart/form-data"]["schema"]["properties"])
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
    assert {"SearchRequest", "Filters", "QueryPart"} <= set(schema["components"]["schemas"])
    assert search["application/json"]["schema"] == {"$ref": "#/components/schemas/SearchRequest"}
    assert {"/items/{item_id}/media", "/items/{item_id}/thumbnail", "/jobs", "/jobs/{job_id}", "/metrics"} <= set(
        schema["paths"]
    )


def test_the_modality_table_is_served_and_fills_the_page(serve) -> None:
    client = serve()
    listed = client.get("/modalities").json()
    assert [m["name"] for m in listed] == ["image", "audio", "text"]
    audio = listed[1]
    assert audio["label"] == "sound" and ".flac" in audio["extensions"] and audio["mime_prefixes"] == ["audio/"]
    page = client.get("/").text
    for modality in listed:
        assert f'name="modality" value="{modality["name"]}" checked' in page
    assert 'accept="image/*,audio/*,' in page and '"name": "audio"' in page and "{{" not in page
