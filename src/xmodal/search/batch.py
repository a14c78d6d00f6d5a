"""Running parsed queries: one at a time or a JSONL batch with one model load."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from xmodal.config import Settings
from xmodal.encoders import MediaError, UnsupportedModality, load_audio, load_image
from xmodal.search.queries import BatchQuery
from xmodal.search.searcher import Hit, ItemNotFound, Searcher


def run_query(searcher: Searcher, query: BatchQuery, settings: Settings) -> list[Hit]:
    """Raises MediaError, ItemNotFound or UnsupportedModality for a query that cannot run."""
    targets, k = query.modality, query.k
    if query.text is not None:
        return searcher.search_text(query.text, targets, k)
    if query.image is not None:
        return searcher.search_image(_read(load_image, query.image, settings.max_image_pixels), targets, k)
    if query.audio is not None:
        return searcher.search_audio(_read(load_audio, query.audio, settings.max_audio_seconds), targets, k)
    return searcher.search_item(query.item, targets, k)  # type: ignore[arg-type]


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
            yield {"qid": qid, "error": f"line {number}: {_first_problem(error)}"}
        except (MediaError, ItemNotFound, UnsupportedModality) as error:
            yield {"qid": qid, "error": f"line {number}: {error}"}
        else:
            yield {"qid": qid, "results": [hit.to_dict() for hit in hits]}


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else problem["msg"]
