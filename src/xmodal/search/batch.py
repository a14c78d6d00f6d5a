"""Running parsed queries: one at a time or a JSONL batch with one model load."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from xmodal import modalities
from xmodal.config import Settings
from xmodal.encoders import MediaError
from xmodal.errors import XmodalError, validation_message
from xmodal.modalities import Limits, Modality
from xmodal.search.composite import Part, Query
from xmodal.search.queries import BatchQuery
from xmodal.search.searcher import Hit, Searcher


def run_query(searcher: Searcher, query: BatchQuery, settings: Settings) -> list[Hit]:
    """Raises an XmodalError (MediaError, ItemNotFound, QueryError, ...) for a query that cannot run."""
    media_files = query.media_files()
    if media_files:
        [(modality, path)] = media_files.items()
        part = Part(media=_read(modalities.get(modality), path, Limits.for_queries(settings)), modality=modality)
    else:
        part = Part(text=query.text, item=query.item)
    options = dict(modalities=query.modality, k=query.k, offset=query.offset, min_score=query.min_score)
    full = Query([part], **options, filters=query.filters, mode=query.mode, **query.fusion_options())
    return searcher.search(full).hits


def _read(modality: Modality, path: str, limits: Limits) -> Any:
    try:
        return modality.load(path, limits)
    except MediaError as error:
        raise MediaError(f"{path}: {error}") from None
    except OSError as error:
        raise MediaError(f"{path}: cannot read: {error.strerror or error}") from None


def run_batch(searcher: Searcher, lines: Iterable[str], settings: Settings) -> Iterator[dict[str, Any]]:
    """One output record per non-blank input line, in order; a bad line yields an error record."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        qid: Any = number
        try:
            raw = json.loads(line)
            if isinstance(raw, dict):
                qid = raw.get("qid", number)
            query = BatchQuery.model_validate(raw)
            hits = run_query(searcher, query, settings)
        except json.JSONDecodeError as error:
            yield {"qid": qid, "error": f"line {number}: not valid JSON ({error.msg})"}
        except ValidationError as error:
            yield {"qid": qid, "error": f"line {number}: {validation_message(error.errors())}"}
        except XmodalError as error:
            yield {"qid": qid, "error": f"line {number}: {error}"}
        else:
            yield {"qid": qid, "results": [hit.to_dict() for hit in hits]}

