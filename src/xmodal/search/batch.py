"""Running parsed queries: one at a time or a JSONL batch with one model load."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from xmodal.config import Settings
from xmodal.encoders import MediaError, load_audio, load_image
from xmodal.errors import XmodalError, validation_message
from xmodal.search.composite import Part, Query
from xmodal.search.queries import BatchQuery
from xmodal.search.searcher import Hit, Searcher


def run_query(searcher: Searcher, query: BatchQuery, settings: Settings) -> list[Hit]:
    """Raises an XmodalError (MediaError, ItemNotFound, QueryError, ...) for a query that cannot run."""
    if query.image is not None:
        part = Part(image=_read(load_image, query.image, settings.max_image_pixels))
    elif query.audio is not None:
        part = Part(audio=_read(load_audio, query.audio, settings.max_audio_seconds))
    else:
        part = Part(text=query.text, item=query.item)
    options = dict(modalities=query.modality, k=query.k, offset=query.offset, min_score=query.min_score)
    return searcher.search(Query([part], **options, filters=query.filters, mode=query.mode)).hits


def _read(loader: Any, path: str, limit: float) -> Any:
    try:
        return loader(path, limit)
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

