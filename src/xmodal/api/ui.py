"""The web UI's page, filled from the modality table, and that table as JSON (`GET /modalities`)."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from xmodal import modalities

router = APIRouter()
STATIC = resources.files("xmodal.api") / "static"


@router.get("/modalities", tags=["operations"], summary="The kinds of items and query files this server knows")
def list_modalities() -> list[dict]:
    return [modality.describe() for modality in modalities.REGISTRY.values()]


@router.get("/", include_in_schema=False)
def web_ui() -> HTMLResponse:
    return HTMLResponse(page(), headers={"Cache-Control": "no-cache"})


@lru_cache(maxsize=1)
def page() -> str:
    """index.html with the modalities filled in: the filter checkboxes, what a query file may be, and
    the table itself for app.js."""
    choices = "\n".join(
        f'          <label><input type="checkbox" name="modality" value="{html.escape(m.name)}" checked> '
        f"{html.escape(m.plural.capitalize())}</label>"
        for m in modalities.REGISTRY.values()
    )
    uploadable = modalities.uploadable()
    accept = ",".join([f"{prefix}*" for m in uploadable for prefix in m.mime_prefixes] + sorted(
        extension for m in uploadable for extension in m.extensions
    ))
    help_text = " or ".join(
        f"{m.plural.capitalize() if i == 0 else m.plural} ({m.formats})" for i, m in enumerate(uploadable)
    )
    data = json.dumps(list_modalities()).replace("</", "<\\/")  # safe inside a <script> element
    return (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace("{{modality_data}}", data)
        .replace("{{modality_choices}}", choices)
        .replace("{{upload_accept}}", html.escape(accept))
        .replace("{{upload_help}}", html.escape(help_text))
    )
